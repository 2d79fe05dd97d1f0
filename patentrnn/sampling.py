"""Choosing the next word from logits.

Diversity keeps the reference's meaning: it sampled with
``p_i ∝ exp(log p_i / diversity)``, which is a softmax of ``logits / diversity``
(a temperature). Diversity 0 picks the most likely word. Optional top-k and
top-p (nucleus) restrict the choice first. A random generator passed in (anything
with a ``random()`` method: ``random.Random`` or ``numpy.random.Generator``) makes
every draw reproducible.

The reference drew each word with float64 log/exp over the whole vocabulary and
``np.random.multinomial`` (~0.1 ms a word here). Here the work is split in two, on
float32 buffers reused between words:

* ``Sampler.draw`` picks the word from logits that the runtime writes already
  shifted (by the largest logit after the seed, which keeps ``exp`` in range; a word
  whose largest logit strays more than 60 from it is shifted again) and, above
  diversity 1, divided by the diversity. One ``exp`` pass, then a two-level
  inverse-CDF draw: sum the vocabulary's columns (one small matrix product), pick a
  column, then a word inside it; up to diversity 1 by rejection (see ``draw``).
  Measured for neural-network-lstm (the title model's network too): ~18 us a word at diversity 0.8; a full float32
  cumsum alone costs 56 us.
* ``Sampler.describe`` reports, for 8 words at once, each word's probability under
  the model and the model's top alternatives: a few vectorised passes instead of
  ~15 numpy calls a word (``np.argpartition`` for one word's top 5 costs 117 us;
  the threshold search below ~3 us a word).

That is why this is hand-written.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .errors import InputError

DEFAULT_DIVERSITY = 0.8  # the reference demo's
MAX_DIVERSITY = 5.0
MIN_DIVERSITY = 0.01  # below this (other than 0) 1 / diversity overflows float32 logits
EXP_RANGE = 60.0  # logits are shifted when their largest strays further from 0: exp stays finite
ROWS = 32  # grid rows; measured for a 14k vocabulary: column max 3.0 us at 32 rows, 5.8 at 128


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number")
    return value


@dataclass(frozen=True)
class SamplingConfig:
    """How the next word is chosen."""

    diversity: float = DEFAULT_DIVERSITY  # temperature on log-probabilities; 0 = always the most likely word
    top_k: int | None = None  # keep only the k most likely words
    top_p: float | None = None  # keep the smallest set of words whose probability reaches p

    def validated(self, vocab_size: int | None = None) -> SamplingConfig:
        """The same settings as plain numbers, or a ValueError saying what is wrong."""
        diversity = _number(self.diversity, "diversity")
        if not (diversity == 0 or MIN_DIVERSITY <= diversity <= MAX_DIVERSITY):
            raise InputError(
                f"Diversity must be 0 (the most likely word) or between {MIN_DIVERSITY:g} and {MAX_DIVERSITY:g}."
            )
        top_k = self.top_k
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
                raise InputError("top_k must be a whole number")
            top_k = int(top_k)
            if top_k < 1 or (vocab_size and top_k > vocab_size):
                raise InputError(f"top_k must be between 1 and {vocab_size or 'the vocabulary size'}")
        top_p = self.top_p
        if top_p is not None:
            top_p = _number(top_p, "top_p")
            if not 0 < top_p <= 1:
                raise InputError("top_p must be greater than 0 and at most 1")
        return SamplingConfig(diversity, top_k, top_p)


def reference_sample(probabilities: np.ndarray, diversity: float, rng: np.random.Generator) -> int:
    """The reference's draw, kept for the benchmark and as the definition."""
    logs = np.log(probabilities.astype(np.float64)) / diversity
    exp = np.exp(logs)
    weights = exp / np.sum(exp)
    return int(np.argmax(rng.multinomial(1, weights, 1)))


class Sampler:
    """Draws word ids from tempered logits and describes them, reusing its buffers.

    The vocabulary is seen as a ``(ROWS, columns)`` grid: column ``j`` holds ids
    ``j, j + columns, j + 2 * columns, …``; summing down the columns is one small
    matrix product, and the draw starts from those sums.

    Logits passed in must be padded past the vocabulary to ``ROWS * columns`` with
    -1e30 (``Runtime(bundle, pad_to=ROWS)`` does that; ``choose`` pads for you).
    ``banned`` ids (padding, unknown word) are never drawn nor offered as
    alternatives, but their probability still counts in the model's probabilities
    reported for the other words.
    """

    BATCH = 8  # words described together; their logits are kept in ``rows``

    def __init__(self, vocab_size: int, banned: tuple[int, ...] = ()):
        self.vocab_size = vocab_size
        self.columns = -(-vocab_size // ROWS)
        self.size = self.columns * ROWS
        self.rows = np.full((self.BATCH, self.size), -1e30, dtype=np.float32)
        self.weights = np.empty(self.size, dtype=np.float32)
        self.banned = np.array(sorted(set(banned)), dtype=np.intp)
        self.banned_set = frozenset(self.banned.tolist())
        self.allowed = np.zeros(self.size, dtype=bool)
        self.allowed[:vocab_size] = True
        self.allowed[self.banned] = False
        self.ones_down = np.ones(ROWS, dtype=np.float32)
        self.sums = np.empty((self.BATCH + 1, self.columns), dtype=np.float32)  # per row; the last: scratch
        self.cumulative = np.empty(self.columns, dtype=np.float32)

    @staticmethod
    def temperature(config: SamplingConfig) -> float:
        """The temperature of the logits that ``draw`` wants: ``(logits - shift) / t``.
        1 up to diversity 1 (those draws start from the model's own distribution),
        the diversity above it."""
        return max(config.diversity, 1.0)

    def _rejects(self, config: SamplingConfig) -> bool:
        # whether ``draw`` samples by rejection, leaving the row exponentiated
        return 0 < config.diversity <= 1 and config.top_k is None and config.top_p is None

    def choose(self, logits: np.ndarray, config: SamplingConfig, rng, alternatives: int = 5):
        """One word from raw logits: ``(word id, its model probability,
        [(alternative id, probability), ...])``. Probabilities are the model's own
        (softmax of the raw logits), whatever the diversity."""
        row = self.rows[0]
        row[: self.vocab_size] = logits[: self.vocab_size]
        row[self.vocab_size :] = -1e30
        row -= row[self.allowed].max()
        row /= self.temperature(config)
        choice = self.draw(0, config, rng)
        [probability], [ids], [probabilities] = self.describe(1, [choice], config, alternatives)
        return choice, probability, list(zip(ids, probabilities))

    def draw(self, index: int, config: SamplingConfig, rng, blocked: tuple | list = ()) -> int:
        """A word id drawn from ``softmax(logits / diversity)``, after top-k / top-p,
        never a banned one nor one of ``blocked`` (this draw's own bans: the rest is
        renormalised); diversity 0: the most likely word. ``self.rows[index]``
        holds ``(logits - shift) / self.temperature(config)``, padded; it is left for
        ``describe`` (shifted or exponentiated in place).

        Up to diversity 1 the draw is by rejection: a word is proposed from the
        model's own distribution, ``exp(row)``, and kept with probability
        ``(p / p_max) ** (1 / diversity - 1)``, exactly the tempered distribution. That
        needs one ``exp`` pass over the vocabulary, shared with ``describe``, instead of
        two; at diversity 0.8 on real text ~1.7 proposals a word (~3 us each)."""
        row = self.rows[index]
        if config.diversity == 0:
            np.copyto(self.weights, row)
            self.weights[self.banned] = -np.inf
            if blocked:
                self.weights[list(blocked)] = -np.inf
            return int(self.weights.argmax())
        if self._rejects(config):
            return self._reject(row, self.sums[index], 1.0 / config.diversity - 1.0, rng, blocked)
        weights = self.weights
        scale = 1.0 / config.diversity if config.diversity < 1 else 1.0  # (row: logits - shift below 1)
        if not -EXP_RANGE < float(row.max()) * scale < EXP_RANGE:
            row -= row.max()
        for _ in range(2):
            np.exp(np.multiply(row, scale, out=weights) if scale != 1 else row, out=weights)
            weights[self.banned] = 0
            if blocked:
                weights[list(blocked)] = 0
            if config.top_k is not None and config.top_k < self.vocab_size:
                keep = self._top(weights, config.top_k)
                kept = weights[keep]
                weights.fill(0)
                weights[keep] = kept
            if config.top_p is not None and config.top_p < 1:
                self._nucleus(weights, config.top_p)
            column_cumulative = self._column_cumulative(weights, self.sums[-1])
            total = column_cumulative.item(-1)
            if total > 0:
                return self._pick(weights, column_cumulative, rng.random() * total)
            # every allowed word vanished beside a banned one: shift to the allowed maximum
            row -= row[self.allowed].max()
        raise InputError("cannot sample from these logits")  # (not reached with finite logits)

    def own_probability(self, index: int, word: int, temperature: float) -> float:
        """The model's own probability of ``word`` in row ``index`` (``(logits - shift) / temperature``,
        before ``draw``), whatever the diversity: one ``exp`` pass over the vocabulary."""
        row, weights = self.rows[index], self.weights
        np.subtract(row, row.max(), out=weights)
        if temperature != 1.0:
            weights *= np.float32(temperature)
        np.exp(weights, out=weights)
        return weights.item(word) / float(weights.sum(dtype=np.float64))

    MAX_PROPOSALS = 100

    def _reject(self, row: np.ndarray, sums: np.ndarray, power: float, rng, blocked=()) -> int:
        peak = float(row.max())
        if not -EXP_RANGE < peak < EXP_RANGE:
            row -= peak
            peak = 0.0
        np.exp(row, out=row)
        bound = math.exp(peak)  # no weight is larger
        column_cumulative = self._column_cumulative(row, sums)  # (sums kept for describe)
        total = column_cumulative.item(-1)
        banned, vocab_size = self.banned_set, self.vocab_size
        for _ in range(self.MAX_PROPOSALS):
            word = self._pick(row, column_cumulative, rng.random() * total)
            if word < vocab_size and word not in banned and word not in blocked:
                if power == 0 or rng.random() < (row.item(word) / bound) ** power:
                    return word
        # (a flat distribution at a low diversity, or most of it blocked: weigh every word instead)
        weights = np.power(row, power + 1.0, out=self.weights)
        weights[self.banned] = 0
        if blocked:
            weights[list(blocked)] = 0
        column_cumulative = self._column_cumulative(weights, self.sums[-1])
        return self._pick(weights, column_cumulative, rng.random() * column_cumulative.item(-1))

    def _column_cumulative(self, weights: np.ndarray, sums: np.ndarray) -> np.ndarray:
        """Cumulative column sums of ``weights``; the sums themselves are left in ``sums``."""
        np.dot(self.ones_down, weights.reshape(ROWS, self.columns), out=sums)
        # (np.add.accumulate into a buffer: 1.9 us for 450 columns, np.cumsum 3-4 us)
        return np.add.accumulate(sums, out=self.cumulative)

    def describe(self, count: int, chosen, config: SamplingConfig, alternatives: int = 5):
        """For the first ``count`` rows, which ``draw`` has used, and the words it chose
        there: lists of each word's model probability, and of the ``alternatives`` most
        likely words that are not banned (ids, then probabilities), row by row. The rows
        are overwritten."""
        rows, columns = self.rows[:count], self.columns
        grid = rows.reshape(count, ROWS, columns)
        if self._rejects(config):  # rows hold exp(logits - shift), and draw summed their columns
            sums = self.sums[:count]
        else:  # rows still hold (logits - shift) / temperature
            temperature = self.temperature(config)
            if temperature != 1:
                rows *= temperature
            peaks = rows.max(axis=1)
            if np.abs(peaks).max() > EXP_RANGE:
                rows -= peaks[:, None]
            np.exp(rows, out=rows)
            sums = np.matmul(self.ones_down, grid)
        # rows now hold the model's unnormalised probabilities; sums their column sums
        totals = sums.sum(axis=1)[:, None]  # (banned words included)
        probabilities = rows[np.arange(count), chosen] / totals[:, 0]
        rows[:, self.banned] = 0
        k = min(alternatives, self.vocab_size - len(self.banned))
        # Exact top k: the k-th largest of any k entries is a lower bound for a row's
        # k-th largest value, and only columns whose sum reaches it can hold such values.
        bounds = np.partition(rows[:, : max(columns, k)], -k, axis=1)[:, -k]
        # (flat indices: np.nonzero of a 2-D mask is ~15x slower)
        found = (sums >= bounds[:, None]).ravel().nonzero()[0]
        row_of = found // columns
        column = found - row_of * columns
        values = grid[row_of, :, column]  # (candidate columns, ROWS)
        found = (values >= bounds[row_of][:, None]).ravel().nonzero()[0]
        candidate = found // ROWS
        row_of, values = row_of[candidate], values.ravel()[found]
        ids = (found - candidate * ROWS) * columns + column[candidate]
        order = np.lexsort((-values, row_of))
        top = np.searchsorted(row_of[order], np.arange(count))[:, None] + np.arange(k)
        ranked = order[top]
        return probabilities.tolist(), ids[ranked].tolist(), (values[ranked] / totals).tolist()

    def _top(self, weights: np.ndarray, k: int) -> np.ndarray:
        """Ids of the ``k`` largest weights."""
        if k >= self.columns:
            return np.argpartition(-weights, k - 1)[:k]
        candidates = np.flatnonzero(weights >= np.partition(weights[: self.columns], -k)[-k])
        return candidates[np.argsort(-weights[candidates], kind="stable")[:k]]

    @staticmethod
    def _nucleus(weights: np.ndarray, top_p: float) -> None:
        order = np.argsort(-weights, kind="stable")
        cumulative = np.cumsum(weights[order], dtype=np.float64)
        cut = int(np.searchsorted(cumulative, top_p * cumulative[-1])) + 1
        weights[order[cut:]] = 0

    def _pick(self, weights: np.ndarray, column_cumulative: np.ndarray, target: float) -> int:
        """Inverse CDF in two steps: the column whose cumulative sum passes ``target``,
        then the row inside it (a Python loop over the column's 32 weights)."""
        columns = self.columns
        column = min(int(column_cumulative.searchsorted(target, side="right")), columns - 1)
        if column:
            target -= column_cumulative.item(column - 1)
        inside = weights[column::columns].tolist()
        last = 0
        for row, weight in enumerate(inside):
            if weight > 0:
                last = row
                target -= weight
                if target < 0:
                    break
        return last * columns + column  # (float round-off at a column's end: its last word)
