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
continuous cache as scoring reads (``tune``), and kept in the bundle's card (``"topic"``). Scoring
and generation both use it whenever a title is read; a card without it, a model without titles,
or a text without a title reads as before. Written from 200 test titles, the share of abstracts that
find their own real abstract in BM25's top 10 went from 2.0% to 7.5%, and the test log loss given the
title from 3.989 to 3.957 with the cache (models/README.md; less on titles without a sibling patent in
training, and it costs 0.010 nats on another corpus's titles).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

from . import cache as cache_module
from .bundle import card_setting
from .errors import InputError
from .logits import log_probabilities
from .progress import progress

NEIGHBOURS = 20  # training abstracts a topic is drawn from (their softmax weights fall fast)
WEIGHTS = (0.5, 1.0, 2.0)
SMOOTHINGS = (2.0, 4.0, 8.0, 16.0)
CARD_KEY = "topic"
TRAIN = 0  # the originality index's part number of the training split (``originality.arrays.PARTS``)


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
        a = index.arrays
        self.index, self.vocab_size = index, vocab_size
        self.training = a["parts"] == TRAIN
        self.offsets, self.documents = a["document_offsets"], a["documents"]
        in_training = np.repeat(self.training, np.diff(self.offsets))  # each word of the documents
        counts = np.bincount(self.documents[in_training], minlength=vocab_size) + 1.0  # (+1: none is 0)
        self.frequencies = counts / counts.sum()

    def _document(self, row: int) -> np.ndarray:
        return self.documents[self.offsets[row] : self.offsets[row + 1]].astype(np.intp)

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
            document = self._document(row)
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


def tune(runtime, topics: Topics, texts, weights=WEIGHTS, smoothings=SMOOTHINGS) -> dict:
    """Choose ``weight`` and ``smoothing`` on ``texts`` (``(tokens, first)`` of titled abstracts: score
    ``tokens[first + 1:]``; the validation split's), each read with the runtime's cache where it has one:
    returns the card's entry, with the log loss a word without and with the chosen topic."""
    caches = [runtime.cache_config] if runtime.cache_config else []
    grid = list(itertools.product(weights, smoothings))
    totals, base, count = np.zeros(len(grid)), 0.0, 0
    for tokens, first in progress(texts, "choosing the topic"):
        tokens = np.asarray(tokens, dtype=np.intp)
        title = runtime.title_of(tokens)
        states, rows = cache_module.read_logits(runtime, tokens)
        following = tokens[1:]
        alone = _loss(states, tokens, rows, following, first, caches)
        base += alone
        count += len(following) - first
        distribution = topics.distribution(title.ids) if title is not None and len(title.ids) else None
        if distribution is None:  # (no topic: every setting reads it alike)
            totals += alone
            continue
        for position, (weight, smoothing) in enumerate(grid):
            topic = topics.bonus(distribution, TopicConfig(weight, smoothing))
            biased = topic.apply(rows.copy(), last=tokens[:-1])
            totals[position] += _loss(states, tokens, biased, following, first, caches)
    best = int(totals.argmin())
    helps = totals[best] < base
    chosen = asdict(TopicConfig(*grid[best])) if helps else {"weight": None, "smoothing": None, "neighbours": None}
    return {
        **chosen,
        "validation_words": count,
        "validation_log_loss_without": round(base / count, 4),
        "validation_log_loss_topic": round(float(totals[best]) / count, 4),
        "read_with_cache": bool(caches),
        "grid": {"weights": list(weights), "smoothings": list(smoothings)},
    }


def _loss(states, tokens, rows, following, first: int, caches) -> float:
    """Summed negative log-likelihood of ``following[first:]`` from the logits ``rows`` (with ``caches``:
    the first one's mixture)."""
    read = log_probabilities(rows, following)
    if caches:
        return cache_module.mixed_log_loss(states, tokens, read, first, caches)[0]
    return -float(read[first:].sum())
