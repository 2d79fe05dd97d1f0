"""The network: Embedding → LSTM × layers → Dense relu → Dropout → Dense(vocabulary) logits.

Built with Keras 3's functional API from a ``ModelConfig``. Layer names are fixed
(``embedding``, ``lstm_1`` …, ``dense``, ``logits``): bundles store weights under
them and the numpy runtime reads them back without Keras.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np


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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)


PRESETS: dict[str, ModelConfig] = {
    # The 2018 demo's train-embeddings-rnn.
    "reference": ModelConfig(),
    # Our default: wider embeddings and LSTM, regularised, with the reference's
    # narrow dense layer in front of the vocabulary: the 64 x vocabulary output
    # product is most of a generation step's cost (29 us; 56 us at 128 units).
    "default": ModelConfig(
        embedding_dim=128, lstm_units=256, lstm_layers=1, lstm_dropout_rate=0.2, dense_units=64, dropout_rate=0.2
    ),
    # Larger and more regularised. Tried for 45 minutes on the neural-network corpus:
    # test log loss 4.853 against the default's 4.851, and slower to generate.
    "large": ModelConfig(
        embedding_dim=128,
        lstm_units=384,
        lstm_dropout_rate=0.4,
        output_dropout_rate=0.4,
        dense_units=64,
        dropout_rate=0.1,
    ),
    # A few seconds of training, for tests and CI.
    "tiny": ModelConfig(embedding_dim=8, lstm_units=8, dense_units=8, dropout_rate=0.0),
}


def preset(name: str, **overrides) -> ModelConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)


def build_model(config: ModelConfig, last_only: bool = False):
    """A Keras model mapping word ids ``(batch, time)`` to next-word logits
    ``(batch, time, vocab)``, or ``(batch, vocab)`` for the last position when
    ``last_only`` (the reference's window training)."""
    import keras
    from keras import layers

    if config.vocab_size < 3:
        raise ValueError("vocab_size must be set (at least 3) before building a model")
    words = keras.Input(shape=(None,), dtype="int32", name="words")
    x = layers.Embedding(config.vocab_size, config.embedding_dim, name="embedding")(words)
    for layer in range(1, config.lstm_layers + 1):
        if config.lstm_dropout_rate:
            x = layers.Dropout(config.lstm_dropout_rate, name=f"lstm_dropout_{layer}")(x)
        last = last_only and layer == config.lstm_layers
        x = layers.LSTM(config.lstm_units, return_sequences=not last, name=f"lstm_{layer}")(x)
    if config.output_dropout_rate:
        x = layers.Dropout(config.output_dropout_rate, name="lstm_output_dropout")(x)
    x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
    x = layers.Dropout(config.dropout_rate, name="dense_dropout")(x)
    logits = layers.Dense(config.vocab_size, name="logits")(x)
    return keras.Model(words, logits, name="patentrnn")


def named_weights(model) -> dict:
    """The model's weights as ``{"layer/weight": array}``, the bundle's format."""
    arrays = {}
    for layer in model.layers:
        for variable in layer.weights:
            arrays[f"{layer.name}/{variable.name}"] = variable.numpy()
    return arrays


def set_named_weights(model, arrays: dict) -> None:
    """Load ``named_weights`` output into a model of the same config."""
    for layer in model.layers:
        for variable in layer.weights:
            key = f"{layer.name}/{variable.name}"
            if key not in arrays:
                raise ValueError(f"bundle weights lack {key}")
            value = arrays[key]
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(f"bundle weight {key} has shape {value.shape}, model expects {variable.shape}")
            variable.assign(value.astype(variable.dtype))


def order_dense_units(arrays: dict, order) -> dict:
    """The same network with its dense layer's units rearranged: unit ``order[i]``
    becomes unit ``i`` (the dense kernel's columns, its bias and the output kernel's
    rows move together, so every logit is unchanged). The numpy runtime stops the
    output product after the last active unit: most active units first makes that
    product shorter."""
    order = np.asarray(order)
    if sorted(order.tolist()) != list(range(arrays["dense/bias"].shape[0])):
        raise ValueError("order must be a permutation of the dense units")
    arranged = dict(arrays)
    arranged["dense/kernel"] = arrays["dense/kernel"][:, order]
    arranged["dense/bias"] = arrays["dense/bias"][order]
    arranged["logits/kernel"] = arrays["logits/kernel"][order, :]
    return arranged
