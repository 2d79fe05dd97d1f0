"""A network's shape and training settings (``ModelConfig``, its presets): read by the numpy runtime
and by training alike, so this module never imports Keras. The Keras network itself is
``patentrnn.train.network``'s."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .errors import InputError


@dataclass(frozen=True)
class ModelConfig:
    """Architecture. The defaults are the reference demo's network."""

    vocab_size: int = 0  # set from the vocabulary at training time
    embedding_dim: int = 100  # reference: 100-d embeddings trained from scratch
    lstm_units: int = 64  # reference: one LSTM of 64 cells
    lstm_layers: int = 1
    lstm_dropout_rate: float = 0.0  # dropout on the sequences between embedding and LSTM layers
    output_dropout_rate: float = 0.0  # dropout on the last LSTM's output, before the dense layer
    dense_units: int = 64  # reference: Dense 64 relu before the softmax
    dropout_rate: float = 0.5  # reference: Dropout 0.5 after the dense layer
    # --- AWD-LSTM-style options (all off in the reference) ---
    tie_embeddings: bool = False  # output = embedding matrix transposed; "dense" becomes a linear projection
    locked_dropout: bool = False  # lstm_dropout_rate / output_dropout_rate use one mask per sequence
    embedding_dropout_rate: float = 0.0  # word-type dropout: drop whole words from the embedding matrix
    recurrent_dropout_rate: float = 0.0  # LSTM(recurrent_dropout=…): dropout of h, one mask per sequence
    activation_regularization: float = 0.0  # AR: alpha * mean(h^2) on the last LSTM's output
    temporal_activation_regularization: float = 0.0  # TAR: beta * mean((h_t - h_{t-1})^2)
    # --- title models (TrainConfig.titles) ---
    title_context: bool = False  # a tied title model's output sees its title and length (see build_model)

    @property
    def output_units(self) -> int:
        """Width of the layer in front of the vocabulary: the embedding size when tied."""
        return self.embedding_dim if self.tie_embeddings else self.dense_units

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)


_AWD = ModelConfig(  # the `awd` preset (see PRESETS)
    embedding_dim=96, lstm_units=256, tie_embeddings=True, locked_dropout=True,
    lstm_dropout_rate=0.3, output_dropout_rate=0.3, embedding_dropout_rate=0.1, recurrent_dropout_rate=0.0,
    activation_regularization=1.0, temporal_activation_regularization=1.0, dropout_rate=0.0,
)  # fmt: skip


PRESETS: dict[str, ModelConfig] = {
    # The 2018 demo's train-embeddings-rnn.
    "reference": ModelConfig(),
    # The first default model's network (test log loss 4.851), the ablation's baseline:
    # wider embeddings and LSTM than the reference, the reference's narrow dense relu
    # layer in front of the vocabulary.
    "default": ModelConfig(
        embedding_dim=128, lstm_units=256, lstm_layers=1, lstm_dropout_rate=0.2, dense_units=64, dropout_rate=0.2
    ),
    # Larger and more regularised. Tried for 45 minutes on the neural-network corpus:
    # test log loss 4.853 against the `default` preset's 4.851, and slower to generate.
    "large": ModelConfig(
        embedding_dim=128,
        lstm_units=384,
        lstm_dropout_rate=0.4,
        output_dropout_rate=0.4,
        dense_units=64,
        dropout_rate=0.1,
    ),
    # Tied embeddings and AWD-LSTM-style regularisation: the default model's network
    # since the ablation in models/README.md (trained with --weight-averaging). Embeddings
    # of 96, not 128: the 97 x vocabulary output product is a generated word's largest
    # cost (41 us against 49 us at 128, measured). No recurrent dropout: on the CPU,
    # Keras's LSTM with recurrent_dropout takes 370 ms a step at batch 8 against 210
    # without (measured), and in 45 minutes the extra epochs beat it (models/README.md).
    "awd": _AWD,
    # A few seconds of training, for tests and CI.
    "tiny": ModelConfig(embedding_dim=8, lstm_units=8, dense_units=8, dropout_rate=0.0),
    "tiny-tied": replace(
        _AWD, embedding_dim=8, lstm_units=8, lstm_dropout_rate=0.2, output_dropout_rate=0.2, recurrent_dropout_rate=0.1
    ),
}


TITLE_WINDOW = 64  # a title is read from the first 64 positions: the longest corpus title has 50 words


def preset(name: str, **overrides) -> ModelConfig:
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)
