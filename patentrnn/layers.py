"""The three small Keras layers the AWD-LSTM-style options need that Keras lacks.

Imported by ``model.build_model`` only (training and evaluation); serving never
imports this module.
"""

from __future__ import annotations

import keras
from keras import layers, ops


class WordTypeDropout(layers.Layer):
    """Embedding dropout by word type (Gal & Ghahramani 2016; Merity et al. 2017):
    for each batch, every vocabulary word is dropped with probability ``rate``, so a
    dropped word's embedding is zero wherever it occurs in the batch; the rest are
    scaled by ``1 / (1 - rate)``. Called on ``[word ids, embedded]``."""

    def __init__(self, rate: float, vocab_size: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError("embedding dropout rate must be in [0, 1)")
        self.rate, self.vocab_size = rate, vocab_size
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        words, embedded = inputs
        if not training or not self.rate:
            return embedded
        kept = keras.random.uniform((self.vocab_size,), seed=self.seed_generator) >= self.rate
        scale = ops.cast(kept, embedded.dtype) / (1.0 - self.rate)
        return embedded * ops.expand_dims(ops.take(scale, words), -1)

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "vocab_size": self.vocab_size}


class ActivityRegularization(layers.Layer):
    """AR and TAR (Merity et al. 2017) on an LSTM's output sequence, while training:
    adds ``alpha * mean(h^2) + beta * mean((h_t - h_{t-1})^2)`` to the loss and
    passes ``h`` through unchanged. (Padding positions count too; batches group
    abstracts of similar length, so they are few.)"""

    def __init__(self, alpha: float = 0.0, beta: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha, self.beta = alpha, beta

    def call(self, h, training=None):
        if training:
            penalty = self.alpha * ops.mean(ops.square(h))
            if self.beta:
                penalty = penalty + self.beta * ops.mean(ops.square(h[:, 1:] - h[:, :-1]))
            self.add_loss(penalty)
        return h

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


class TiedOutput(layers.Layer):
    """Logits from the embedding matrix, transposed, plus a bias of its own: the
    output layer of a tied model (weight ``logits/bias``)."""

    def __init__(self, embedding: layers.Embedding, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding

    def build(self, input_shape):
        self.bias = self.add_weight(name="bias", shape=(self.embedding.input_dim,), initializer="zeros")

    def call(self, x):
        return ops.matmul(x, ops.transpose(self.embedding.embeddings)) + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.embedding.input_dim)
