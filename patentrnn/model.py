"""The network, built with Keras 3's functional API from a ``ModelConfig``:

* untied (the reference's): Embedding → LSTM × layers → Dense relu → Dropout → Dense(vocabulary);
* tied (``tie_embeddings``): Embedding → LSTM × layers → Dense(embedding size, linear) →
  the embedding matrix, transposed, plus a bias (Press & Wolf 2016; Inan et al. 2016).

Layer names are fixed (``embedding``, ``lstm_1`` …, ``dense``, ``logits``): bundles store
weights under them and the numpy runtime reads them back without Keras. A tied model's
``logits`` layer holds only its bias (and a title model's, its title and length bonuses); its
kernel is ``embedding/embeddings`` transposed.

The regularisers follow AWD-LSTM (Merity et al. 2017), as far as Keras's own layers go:
locked dropout (one mask per sequence, ``Dropout(noise_shape=(None, 1, d))``), word-type
embedding dropout (a dropped word loses its whole embedding everywhere in the batch),
``LSTM(recurrent_dropout=…)`` (Gal & Ghahramani's variational dropout of ``h``: Keras's
mask is fixed across time, the closest built-in to weight drop), and AR / TAR on the last
LSTM's output. Weight averaging is a training option (``TrainConfig.weight_averaging``).
"""

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


def build_model(config: ModelConfig, last_only: bool = False):
    """A Keras model mapping word ids ``(batch, time)`` to next-word logits
    ``(batch, time, vocab)``, or ``(batch, vocab)`` for the last position when
    ``last_only`` (the reference's window training).

    With ``title_context`` (a tied title model), the title does not live in the LSTM's state
    alone, which forgets it within a few dozen words: the output layer (``layers.TitledOutput``)
    gives the title's own words a learned logit bonus at every position, as a pointer to the
    title would, and raises ``<end>``'s logit with the words written since ``<abstract>``:
    without that the model ends after any sentence with much the same chance, and its
    abstracts' lengths spread as a geometric distribution's (median 90 words against the real
    133). (The title's mean word vector added to every input as well cost 0.06 nats given the
    title on the test split, and 0.19 on the baseball corpus: models/README.md.)"""
    import keras
    from keras import layers

    from .layers import ActivityRegularization, TiedOutput, TitleBag, TitledOutput, WordTypeDropout

    if config.vocab_size < 3:
        raise InputError("vocab_size must be set (at least 3) before building a model")
    if config.title_context and not config.tie_embeddings:
        raise InputError("title_context needs tied embeddings (tie_embeddings=True, the awd preset)")
    words = keras.Input(shape=(None,), dtype="int32", name="words")
    embedding = layers.Embedding(config.vocab_size, config.embedding_dim, name="embedding")
    x = embedding(words)
    if config.embedding_dropout_rate:
        x = WordTypeDropout(config.embedding_dropout_rate, config.vocab_size, name="embedding_dropout")([words, x])

    def dropout(rate, width, name):
        shape = (None, 1, width) if config.locked_dropout and not last_only else None
        return layers.Dropout(rate, noise_shape=shape, name=name)

    for layer in range(1, config.lstm_layers + 1):
        if config.lstm_dropout_rate:
            width = config.embedding_dim if layer == 1 else config.lstm_units
            x = dropout(config.lstm_dropout_rate, width, f"lstm_dropout_{layer}")(x)
        last = last_only and layer == config.lstm_layers
        x = layers.LSTM(
            config.lstm_units,
            return_sequences=not last,
            recurrent_dropout=config.recurrent_dropout_rate,
            name=f"lstm_{layer}",
        )(x)
    if (config.activation_regularization or config.temporal_activation_regularization) and not last_only:
        x = ActivityRegularization(
            config.activation_regularization, config.temporal_activation_regularization, name="activity"
        )(x)
    if config.output_dropout_rate:
        x = dropout(config.output_dropout_rate, config.lstm_units, "lstm_output_dropout")(x)
    if config.tie_embeddings:
        x = layers.Dense(config.embedding_dim, name="dense")(x)  # linear projection to the embedding size
        if config.dropout_rate:
            x = layers.Dropout(config.dropout_rate, name="dense_dropout")(x)
        if config.title_context:
            bag = TitleBag(config.vocab_size, TITLE_WINDOW, name="title")(words)
            logits = TitledOutput(embedding, name="logits")([x, bag, words])
        else:
            logits = TiedOutput(embedding, name="logits")(x)
    else:
        x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
        x = layers.Dropout(config.dropout_rate, name="dense_dropout")(x)
        logits = layers.Dense(config.vocab_size, name="logits")(x)
    return keras.Model(words, logits, name="patentrnn")


def named_weights(model) -> dict:
    """The model's weights as ``{"layer/weight": array}``, the bundle's format."""
    return {key: variable.numpy() for key, variable in named_variables(model).items()}


def named_variables(model) -> dict:
    """The model's variables by their bundle names, ``{"layer/weight": variable}``, each once: a tied
    output layer lists the embedding matrix among its weights too, but the bundle stores it once."""
    variables, seen = {}, set()
    for layer in model.layers:
        for variable in layer.weights:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables[f"{layer.name}/{variable.name}"] = variable
    return variables


def set_named_weights(model, arrays: dict) -> None:
    """Load ``named_weights`` output into a model of the same config."""
    for key, variable in named_variables(model).items():
        if key not in arrays:
            raise InputError(f"bundle weights lack {key}")
        value = arrays[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise InputError(f"bundle weight {key} has shape {value.shape}, model expects {variable.shape}")
        variable.assign(value.astype(variable.dtype))
