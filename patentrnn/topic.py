"""A title's topic: the words of the training abstracts closest to the title, as a bonus on every
next word's logits (a relevance model: Lavrenko and Croft, 2001, "Relevance-Based Language Models").

A title model reads its title first, and its output layer gives the title's own words a learned
bonus; but its LSTM forgets the rest of what the title is about within a few sentences, and the
words an abstract on that topic needs ("fraud" → "transaction", "merchant", "card") are mostly
not in its title. So the originality index's BM25 ranks the training abstracts for the title's
words; the ``neighbours`` best, weighted by the softmax of their scores, give a distribution
``p_topic`` over words, and with ``p`` the training text's own word frequencies, word ``w``'s logit
gains

    weight · log(1 + p_topic(w) / (smoothing · p(w)))

which is ``weight · log((p_topic + smoothing · p) / ((1 + smoothing) · p))`` up to a constant: a
word gains as much as the topic uses it more than text in general does, and a word that no
neighbour uses gains nothing. Only the training split's abstracts are searched. The word just read
gains nothing at once: with it, a topic's word came twice in a row ("transactions transactions") 17.9
times in 1,000 words written from 100 validation titles by the previous title model; without it, 3.0
(2.6 without the topic).

Nothing is trained: ``weight`` and ``smoothing`` are chosen on the validation split, read with the
continuous cache as scoring reads (``tuning.tune_topic``), and kept in the bundle's card
(``"topic"``). Scoring and generation both use it whenever a title is read; a card without it, a model
without titles, or a text without a title reads as before. What it gains (abstracts nearer their own
real one, the test log loss given the title) is measured in models/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bundle import card_setting
from .errors import InputError

NEIGHBOURS = 20  # training abstracts a topic is drawn from (their softmax weights fall fast)
CARD_KEY = "topic"


@dataclass(frozen=True)
class TopicConfig:
    """The bonus's settings (see the module docstring)."""

    weight: float  # how much the topic counts: 0 is the network alone
    smoothing: float = 1.0  # how far the topic's distribution is pulled toward the text's own
    neighbours: int = NEIGHBOURS

    def __post_init__(self):
        if not (0 < self.weight <= 10 and 0 < self.smoothing <= 1e6 and 1 <= self.neighbours <= 1000):
            raise InputError(f"a topic needs 0 < weight <= 10, 0 < smoothing and 1 <= neighbours <= 1000, not {self}")

    @classmethod
    def from_card(cls, card: dict) -> TopicConfig | None:
        """The bundle card's topic, or None; ``BundleError`` for a malformed one."""
        return card_setting(card, CARD_KEY, cls, {"weight": float, "smoothing": float, "neighbours": int})


@dataclass(frozen=True)
class Topic:
    """The logit bonus of one title: ``bonus[i]`` for word ``ids[i]`` (float32, untempered; ``ids`` sorted)."""

    ids: np.ndarray
    bonus: np.ndarray

    def bonus_of(self, words):
        """The bonus of each of ``words`` (an id or an array of them): 0 for a word not in the topic."""
        at = np.minimum(np.searchsorted(self.ids, words), len(self.ids) - 1)
        return np.where(self.ids[at] == words, self.bonus[at], np.float32(0))

    def apply(self, logits: np.ndarray, last=None, temperature: float = 1.0) -> np.ndarray:
        """Add the bonus to ``logits`` (tempered by ``temperature``), in place: one row, or rows ``(n,
        vocab)`` with ``last`` one id a row. The word just read (``last``) gains nothing at once."""
        logits[..., self.ids] += self.bonus / np.float32(temperature)
        if last is not None:
            at = (np.arange(len(last)), last) if logits.ndim == 2 else last
            logits[at] -= np.float32(self.bonus_of(last) / temperature)
        return logits


class Topics:
    """Topics drawn from the training abstracts of one originality index."""

    def __init__(self, index, vocab_size: int):
        self.index, self.vocab_size = index, vocab_size
        self.training = index.in_training()
        counts = index.word_counts(self.training, vocab_size) + 1.0  # (+1: none is 0)
        self.frequencies = counts / counts.sum()

    def distribution(self, title_ids, neighbours: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray] | None:
        """``(word ids, p_topic)`` for a title's word ids (the words some neighbour uses), or None when
        no training abstract shares a word with the title."""
        scores = self.index.scores(np.asarray(title_ids, np.int64))
        scores[~self.training] = -np.inf
        rows = np.argsort(-scores, kind="stable")[:neighbours]
        rows = rows[scores[rows] > 0]
        if not len(rows):
            return None
        weights = np.exp(scores[rows].astype(np.float64) - scores[rows[0]])
        weights /= weights.sum()
        topic = np.zeros(self.vocab_size)
        for weight, row in zip(weights, rows):
            document = self.index.document(row)
            topic += np.bincount(document, minlength=self.vocab_size) * (weight / len(document))
        ids = np.flatnonzero(topic)
        return ids, topic[ids]

    def bonus(self, distribution, config: TopicConfig) -> Topic:
        ids, probabilities = distribution
        gain = config.weight * np.log1p(probabilities / (config.smoothing * self.frequencies[ids]))
        return Topic(ids, gain.astype(np.float32))

    def topic(self, title_ids, config: TopicConfig) -> Topic | None:
        """The bonus for a title's word ids, or None (see ``distribution``)."""
        distribution = self.distribution(title_ids, config.neighbours)
        return None if distribution is None else self.bonus(distribution, config)
