"""Choosing the next word from logits.

Diversity keeps the reference's meaning: it sampled with
``p_i ∝ exp(log p_i / diversity)``, which is a softmax of ``logits / diversity``
(a temperature). Diversity 0 picks the most likely word. Optional top-k and
top-p (nucleus) restrict the choice first. A ``numpy.random.Generator`` passed
in makes every draw reproducible.

The reference drew each word with float64 log/exp over the whole vocabulary and
``np.random.multinomial`` (~0.29 ms a word). ``Sampler`` draws from the same
distribution with float32 buffers reused between steps and a two-level
inverse-CDF draw: sum blocks of the vocabulary, pick a block, then a word inside
it. Measured here for a 16k vocabulary: a full float32 cumsum costs 56 us, the
two-level draw ~15 us; ``np.argpartition`` for the top 5 costs 117 us, the
block-maximum search below ~10 us. That is why this is hand-written.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

MAX_DIVERSITY = 5.0
BLOCK = 128


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number")
    return value


@dataclass(frozen=True)
class SamplingConfig:
    """How the next word is chosen."""

    diversity: float = 0.8  # temperature on log-probabilities; 0 = always the most likely word
    top_k: int | None = None  # keep only the k most likely words
    top_p: float | None = None  # keep the smallest set of words whose probability reaches p

    def validated(self, vocab_size: int | None = None) -> SamplingConfig:
        """The same settings as plain numbers, or a ValueError saying what is wrong."""
        diversity = _number(self.diversity, "diversity")
        if not 0 <= diversity <= MAX_DIVERSITY:
            raise ValueError(f"Diversity must be between 0 and {MAX_DIVERSITY:g} (0 means the most likely word).")
        top_k = self.top_k
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
                raise ValueError("top_k must be a whole number")
            top_k = int(top_k)
            if top_k < 1 or (vocab_size and top_k > vocab_size):
                raise ValueError(f"top_k must be between 1 and {vocab_size or 'the vocabulary size'}")
        top_p = self.top_p
        if top_p is not None:
            top_p = _number(top_p, "top_p")
            if not 0 < top_p <= 1:
                raise ValueError("top_p must be greater than 0 and at most 1")
        return SamplingConfig(diversity, top_k, top_p)


def reference_sample(probabilities: np.ndarray, diversity: float, rng: np.random.Generator) -> int:
    """The reference's draw, kept for the benchmark and as the definition."""
    logs = np.log(probabilities.astype(np.float64)) / diversity
    exp = np.exp(logs)
    weights = exp / np.sum(exp)
    return int(np.argmax(rng.multinomial(1, weights, 1)))


class Sampler:
    """Draws word ids from logits for one vocabulary size, reusing its buffers.

    The vocabulary is seen as a ``(BLOCK, columns)`` grid: column ``j`` holds ids
    ``j, j + columns, j + 2 * columns, …``. Reductions down the columns are single
    vectorised passes (a column-wise max of a 15k vocabulary: ~2 us, against ~9 us for
    contiguous blocks), and both the draw and the top-5 search start from them.

    ``logits`` may be padded past the vocabulary to ``BLOCK * columns`` with ``-inf``
    (``Runtime(bundle, pad_to=BLOCK)`` does that; otherwise they are copied into a
    padded buffer). ``banned`` ids (padding, unknown word) are never drawn nor offered
    as alternatives, but their probability still counts in the model's probabilities
    reported for the other words.
    """

    def __init__(self, vocab_size: int, banned: tuple[int, ...] = ()):
        self.vocab_size = vocab_size
        self.columns = -(-vocab_size // BLOCK)
        self.size = self.columns * BLOCK
        self.padded = np.full(self.size, -np.inf, dtype=np.float32)
        self.shifted = np.empty(self.size, dtype=np.float32)
        self.weights = np.empty(self.size, dtype=np.float32)
        self.banned = list(banned)
        self.rows = np.arange(BLOCK) * self.columns

    def choose(self, logits: np.ndarray, config: SamplingConfig, rng: np.random.Generator, alternatives: int = 5):
        """Return ``(word id, its model probability, [(alternative id, probability), ...])``.

        Probabilities are the model's own (softmax of the raw logits), whatever the
        diversity; ``alternatives`` are the most likely words other than the banned
        ones. Padded ``logits`` are overwritten (banned ids set to -inf)."""
        if logits.shape[0] != self.size:
            self.padded[: self.vocab_size] = logits
            logits = self.padded
        shifted, weights = self.shifted, self.weights
        np.subtract(logits, logits.max(), out=shifted)
        np.exp(shifted, out=weights)
        total = float(weights.sum())  # the model's normalizer, banned words included
        logits[self.banned] = -np.inf
        ranked = self.top(logits, alternatives)
        if config.diversity == 0:
            choice = int(ranked[0])
        else:
            if config.diversity != 1:
                shifted *= 1.0 / config.diversity
                np.exp(shifted, out=weights)
            weights[self.banned] = 0
            if config.top_k is not None and config.top_k < self.vocab_size:
                keep = self.top(logits, config.top_k)
                kept = weights[keep]
                weights.fill(0)
                weights[keep] = kept
            if config.top_p is not None and config.top_p < 1:
                self._nucleus(weights, config.top_p)
            choice = self._draw(weights, rng)
        scale = config.diversity if config.diversity not in (0, 1) else 1.0  # undo the temperature
        probabilities = (np.exp(shifted[np.append(ranked, choice)] * scale) / total).tolist()
        return choice, probabilities[-1], list(zip(ranked.tolist(), probabilities[:-1]))

    def top(self, logits: np.ndarray, k: int) -> np.ndarray:
        """Ids of the ``k`` largest of padded ``logits``, largest first (exact).

        The k-th largest column maximum is a lower bound for the k-th largest logit,
        so one comparison pass finds a handful of candidates to sort."""
        k = min(k, self.vocab_size)
        if k >= self.columns:
            candidates = np.arange(self.size)
        else:
            column_max = logits.reshape(BLOCK, self.columns).max(axis=0)
            threshold = np.partition(column_max, -k)[-k]
            candidates = np.flatnonzero(logits >= threshold)
        values = logits[candidates]
        order = np.argsort(-values, kind="stable")[:k]
        return candidates[order]

    @staticmethod
    def _nucleus(weights: np.ndarray, top_p: float) -> None:
        order = np.argsort(-weights, kind="stable")
        cumulative = np.cumsum(weights[order], dtype=np.float64)
        cut = int(np.searchsorted(cumulative, top_p * cumulative[-1])) + 1
        weights[order[cut:]] = 0

    def _draw(self, weights: np.ndarray, rng: np.random.Generator) -> int:
        """Inverse-CDF draw in two steps: a column by the column sums, then a row in it."""
        grid = weights.reshape(BLOCK, self.columns)
        column_cumulative = np.cumsum(grid.sum(axis=0), dtype=np.float64)
        target = rng.random() * column_cumulative[-1]
        column = min(int(np.searchsorted(column_cumulative, target, side="right")), self.columns - 1)
        before = column_cumulative[column - 1] if column else 0.0
        inside = np.cumsum(grid[:, column], dtype=np.float64)
        row = min(int(np.searchsorted(inside, target - before, side="right")), BLOCK - 1)
        if grid[row, column] == 0:  # float round-off at a column's end
            nonzero = np.flatnonzero(grid[:, column])
            row = int(nonzero[min(np.searchsorted(nonzero, row), len(nonzero) - 1)])
        return row * self.columns + column
