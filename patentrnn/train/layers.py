"""The small Keras layers that the AWD-LSTM-style options and title models need and Keras lacks.

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


class TitleBag(layers.Layer):
    """A title model's title as a bag of words, ``(batch, vocab)``: 1 for each word of the title, the
    words before the first ``<abstract>`` within the first ``window`` positions (the tags, padding
    and ``<unk>`` left out; a sequence without a title gives zeros). Called on word ids."""

    def __init__(self, vocab_size: int, window: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.window = vocab_size, window

    def call(self, words):
        from ..vocabulary import ABSTRACT_ID, END_ID

        head = words[:, : self.window]
        before = ops.cumsum(ops.cast(ops.equal(head, ABSTRACT_ID), "int32"), axis=1) == 0
        mask = ops.cast(ops.logical_and(before, head > END_ID), "float32")
        return ops.max(ops.one_hot(head, self.vocab_size) * mask[..., None], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.vocab_size)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "window": self.window}


def length_bonus(rate, words):
    """``rate[0] * log(1 + n) + rate[1] * n / 100`` at each position, ``n`` the words read since
    ``<abstract>`` (0 before it): ``<end>``'s bonus in a title model's output layer."""
    from ..vocabulary import ABSTRACT_ID

    begun = ops.cast(ops.cumsum(ops.cast(ops.equal(words, ABSTRACT_ID), "int32"), axis=1) > 0, "float32")
    written = ops.maximum(ops.cumsum(begun, axis=1) - 1.0, 0.0)
    return rate[0] * ops.log1p(written) + rate[1] * written / 100.0


class TitledOutput(TiedOutput):
    """A title model's output layer: ``TiedOutput``'s logits, plus a learned bonus for each word of the
    title (``strength``, where ``bag`` is 1), and ``<end>``'s logit raised with the abstract's length,
    ``rate[0] * log(1 + n) + rate[1] * n / 100`` for ``n`` words read since ``<abstract>`` (the LSTM
    knows when a sentence ends, not how many it has written). Called on ``[x, bag, word ids]``.

    Both ride in the products the tied layer makes anyway (the length as one more input column
    against a column of the table that is 1 at ``<end>``, the title's bonus in the bias). Added as
    sums over the ``(batch, time, vocabulary)`` logits instead, a training step took 1.17x the
    default network's, against 1.05x this way (``benchmarks/title_training.py``)."""

    def build(self, input_shape):
        super().build(input_shape[0])
        vocab = self.embedding.input_dim
        self.strength = self.add_weight(name="strength", shape=(vocab,), initializer="zeros")
        self.rate = self.add_weight(name="rate", shape=(2,), initializer="zeros")

    def call(self, inputs):
        from ..vocabulary import END_ID

        x, bag, words = inputs
        length = length_bonus(self.rate, words)
        end_column = ops.expand_dims(ops.one_hot(END_ID, self.embedding.input_dim), 1)
        table = ops.concatenate([self.embedding.embeddings, end_column], axis=1)
        logits = ops.matmul(ops.concatenate([x, length[..., None]], axis=-1), ops.transpose(table))
        return logits + ops.expand_dims(self.bias + bag * self.strength, 1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], self.embedding.input_dim)
