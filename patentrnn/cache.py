"""A continuous cache: the words a text has used come back (Grave, Joulin and Usunier, 2017,
"Improving Neural Language Models with a Continuous Cache").

Abstracts repeat themselves ("the neural network ... the neural network"), and an LSTM's state holds
only a blurred memory of what it read. The cache keeps, for each word read so far, the network's state
``h_i`` just before it; the next word's probability mixes the network's with the cache's:

    p(w) = (1 - weight) · p_network(w) + weight · Σ_{i: word i = w} softmax_i(theta · h · h_i)

so a word is likelier when the network is in a state like one in which it met that word before. For
a title model, the title's words are in the cache from the start. Nothing is trained: ``theta``,
``weight`` and ``skip`` are chosen on the validation split (``tuning.tune_cache``) and kept in the bundle's card
(``"cache"``); a bundle without them reads with the network alone. Tags, ``<unk>`` and padding never
enter the cache, nor do the last ``skip`` words read: the state after a word is much like the state
before it, so a cache that may offer the word just read mostly offers it again (on the title model's
validation split, 4.072 nats with skip 0, 4.028 with skip 3).

Scoring reads with it (``Cursor``; what it gains on each model's test split: models/README.md).
Generation does not: sampled from, the mixture copied the text into itself ("relates transactions
that invention also relates transactions"). ``Cache.mix`` changes only the cached words' logits (a few
dozen), at any temperature, for one more pass over the vocabulary a word (scoring 1.16–1.28× the time
of the network alone, ``benchmarks/cache_speed.py``); ``tuning.mixed_log_loss`` is the same mixture for
whole texts at once, which ``tuning.tune_cache`` evaluates on a grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bundle import card_setting
from .errors import InputError
from .vocabulary import END_ID

CARD_KEY = "cache"


@dataclass(frozen=True)
class CacheConfig:
    """The mixture's settings (see the module docstring)."""

    theta: float  # how sharply the current state picks the earlier states like it
    weight: float  # the cache's share of the probability, 0 to 1 (exclusive)
    skip: int = 2  # the last words read, which the cache does not offer again

    def __post_init__(self):
        if not (math.isfinite(self.theta) and self.theta >= 0 and 0 < self.weight < 1 and self.skip >= 0):
            raise InputError(f"a cache needs theta >= 0, 0 < weight < 1 and skip >= 0, not {self}")

    @classmethod
    def from_card(cls, card: dict) -> CacheConfig | None:
        """The bundle card's cache, or None (the network alone); ``BundleError`` for a malformed one."""
        return card_setting(card, CARD_KEY, cls, {"theta": float, "weight": float, "skip": int})


class Cache:
    """The states and words of one text as it is read: ``add`` each word with the state that
    predicted it, ``mix`` the next word's logits."""

    def __init__(self, config: CacheConfig, units: int, scratch: np.ndarray, capacity: int = 128):
        """``scratch``: a float32 buffer of the vocabulary's length (a runtime's, shared)."""
        self.theta = np.float32(config.theta)
        self.ratio = config.weight / (1.0 - config.weight)
        self.skip = config.skip
        self.recent: list[tuple[np.ndarray, int]] = []  # the last words read, not yet offered
        self.scratch = scratch
        self.keys = np.empty((capacity, units), dtype=np.float32)
        self.slots = np.empty(capacity, dtype=np.intp)  # each key's word, as a slot in ``ids``
        self.count = 0
        self.slot_of: dict[int, int] = {}
        self.ids = np.empty(0, dtype=np.intp)  # the cached words, each once

    def add(self, h: np.ndarray, token: int) -> None:
        """``token`` was read after the state ``h`` (copied)."""
        self.recent.append((h.copy(), token))
        if len(self.recent) > self.skip:
            self._keep(*self.recent.pop(0))

    def _keep(self, h: np.ndarray, token: int) -> None:
        if token <= END_ID:  # padding, <unk> and the tags
            return
        if self.count == len(self.keys):
            self.keys = np.concatenate([self.keys, np.empty_like(self.keys)])
            self.slots = np.concatenate([self.slots, np.empty_like(self.slots)])
        slot = self.slot_of.get(token)
        if slot is None:
            slot = self.slot_of[token] = len(self.ids)
            self.ids = np.append(self.ids, token)
        self.keys[self.count] = h
        self.slots[self.count] = slot
        self.count += 1

    def mix(self, logits: np.ndarray, h: np.ndarray, temperature: float) -> np.ndarray:
        """Tempered logits ``(l - shift) / temperature`` of the network after state ``h`` to those of
        the mixture, in place (the same up to a constant: a sampler normalises). Only the cached
        words change: ``l_w ← log(exp(l_w) + ratio · p_cache(w) · Σ exp(l))``."""
        if not self.count:
            return logits
        scores = self.keys[: self.count] @ h
        scores *= self.theta
        scores -= scores.max()
        np.exp(scores, out=scores)
        share = np.bincount(self.slots[: self.count], weights=scores, minlength=len(self.ids))
        share *= self.ratio / share.sum()
        row, scratch = logits[: len(self.scratch)], self.scratch
        peak = float(row.max())
        np.subtract(row, np.float32(peak), out=scratch)
        if temperature != 1.0:
            scratch *= np.float32(temperature)
        np.exp(scratch, out=scratch)
        log_total = peak * temperature + math.log(float(scratch.sum(dtype=np.float64)))
        cached = row[self.ids].astype(np.float64) * temperature
        # (+1e-300: a state too far from all others gives a share of 0; its word keeps its logit)
        mixed = np.logaddexp(cached, np.log(share + 1e-300) + log_total)
        row[self.ids] = mixed / temperature
        return logits
