"""Reading whole texts offline, as scoring reads them a word at a time: the log loss of the network alone,
with the continuous cache's mixture (``cache``) and with a title's topic (``topic``), and the grid searches
that choose the cache's and the topic's settings on the validation split (the card's ``"cache"`` and
``"topic"``). Evaluation and the CLI's figures use it; serving never does.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict

import numpy as np

from .cache import CacheConfig
from .logits import log_probabilities
from .progress import progress
from .topic import TopicConfig, Topics
from .vocabulary import END_ID

THETAS = (1.0, 2.0, 3.0, 4.0, 6.0)  # the cache's grid
WEIGHTS = (0.1, 0.15, 0.2, 0.25, 0.3)
SKIPS = (1, 2, 3)
TOPIC_WEIGHTS = (0.5, 1.0, 2.0)  # the topic's grid
SMOOTHINGS = (2.0, 4.0, 8.0, 16.0)


def choose_on_validation(totals: np.ndarray, base: float) -> int | None:
    """The grid point whose summed validation loss (``totals``) is lowest, or None when none beats
    ``base``, the reading without it."""
    best = int(np.argmin(totals))
    return best if totals[best] < base else None


def mixed_log_loss(states: np.ndarray, tokens: np.ndarray, log_probabilities: np.ndarray, first: int,
                   configs: list[CacheConfig]) -> list[float]:  # fmt: skip
    """Summed negative log-likelihood of ``tokens[first + 1:]`` under each config's mixture, from the
    network's states ``states[t]`` (after reading ``tokens[t]``) and its log-probabilities of each
    next token, ``log_probabilities[t]`` of ``tokens[t + 1]``. The whole text at once; ``Cache.mix``
    gives the same, a word at a time (a test holds them together)."""
    n = len(log_probabilities)
    following = tokens[1 : n + 1]
    valid = following > END_ID
    same = following[None, :] == following[:, None]
    similarity = states.astype(np.float64) @ states.T.astype(np.float64)
    scored = slice(first, n)
    network = np.exp(log_probabilities.astype(np.float64))
    losses = []
    for config in configs:
        earlier = np.tril(np.ones((n, n), dtype=bool), -1 - config.skip) & valid[None, :]
        any_key = earlier.any(axis=1)
        scores = np.where(earlier, config.theta * similarity, -np.inf)
        scores -= np.where(any_key, scores.max(axis=1), 0.0)[:, None]
        weights = np.exp(scores)
        cache = np.where(any_key, (weights * same).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-300), 0.0)
        mixed = np.where(any_key, (1 - config.weight) * network + config.weight * cache, network)
        losses.append(float(-np.log(mixed[scored]).sum()))
    return losses


def _reading(runtime, tokens, topic=None):
    """The network alone reading ``tokens`` (as ``Runtime.sequence_logits``; a title model with its
    title's ``topic``, if given): ``(state, logits)`` after each token but the last, one at a time."""
    vocab, state, title = runtime.vocab_size, runtime.initial_state(), runtime.title_of(tokens, topic)
    for token in tokens[:-1]:
        state, h = runtime.advance(state, int(token), title)
        yield h, runtime.logits(h, title=title)[:vocab].astype(np.float64)


def read_states(runtime, tokens, topic=None) -> tuple[np.ndarray, np.ndarray]:
    """The network alone reading ``tokens`` (``_reading``): its states after each but the last, and the
    log-probability it gave each next token."""
    states, read = [], []
    for (h, row), following in zip(_reading(runtime, tokens, topic), tokens[1:]):
        read.append(log_probabilities(row[None, :], [following])[0])
        states.append(h)
    return np.stack(states), np.asarray(read)


def read_logits(runtime, tokens) -> tuple[np.ndarray, np.ndarray]:
    """As ``read_states``, with the whole logits after each token but the last, ``(n, vocab)``
    float64 (for ``tune_topic``, which tries many bonuses on them; keep texts short)."""
    states, rows = zip(*_reading(runtime, tokens))
    return np.stack(states), np.stack(rows)


def read_log_loss(
    runtime, tokens, first: int, configs: list[CacheConfig], topic=None
) -> tuple[float, list[float], int]:
    """Summed negative log-likelihood of ``tokens[first + 1:]``: the network alone's (with ``topic``, a
    title's bonus: ``patentrnn.topic``), each config's mixture's, and how many tokens that is."""
    tokens = np.asarray(tokens, dtype=np.intp)
    states, read = read_states(runtime, tokens, topic)
    network = -float(read[first:].sum())
    return network, mixed_log_loss(states, tokens, read, first, configs), len(read) - first


def tune_cache(runtime, texts: list[tuple[list[int], int]], thetas=THETAS, weights=WEIGHTS, skips=SKIPS) -> dict:
    """Choose ``theta``, ``weight`` and ``skip`` on ``texts`` (``(tokens, first)``: score ``tokens[first + 1:]``;
    the validation split's): returns the card's entry, the chosen config and the log loss a word of
    the network alone and with it, or with ``theta``/``weight`` None when no cache helps."""
    configs = [CacheConfig(*values) for values in itertools.product(thetas, weights, skips)]
    totals, network, count = np.zeros(len(configs)), 0.0, 0
    for tokens, first in progress(texts, "choosing the cache"):
        alone, mixed, words = read_log_loss(runtime, tokens, first, configs)
        totals += mixed
        network += alone
        count += words
    best = choose_on_validation(totals, network)
    return {
        **(asdict(configs[best]) if best is not None else {"theta": None, "weight": None, "skip": None}),
        "validation_words": count,
        "validation_log_loss_network": round(network / count, 4),
        "validation_log_loss_cache": round(float(totals.min()) / count, 4),
        "grid": {"thetas": list(thetas), "weights": list(weights), "skips": list(skips)},
    }


def tune_topic(runtime, topics: Topics, texts, weights=TOPIC_WEIGHTS, smoothings=SMOOTHINGS) -> dict:
    """Choose ``weight`` and ``smoothing`` on ``texts`` (``(tokens, first)`` of titled abstracts: score
    ``tokens[first + 1:]``; the validation split's), each read with the runtime's cache where it has one:
    returns the card's entry, with the log loss a word without and with the chosen topic."""
    caches = [runtime.cache_config] if runtime.cache_config else []
    grid = list(itertools.product(weights, smoothings))
    totals, base, count = np.zeros(len(grid)), 0.0, 0
    for tokens, first in progress(texts, "choosing the topic"):
        tokens = np.asarray(tokens, dtype=np.intp)
        title = runtime.title_of(tokens)
        states, rows = read_logits(runtime, tokens)
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
    best = choose_on_validation(totals, base)
    chosen = asdict(TopicConfig(*grid[best])) if best is not None else {"weight": None, "smoothing": None,
                                                                         "neighbours": None}  # fmt: skip
    return {
        **chosen,
        "validation_words": count,
        "validation_log_loss_without": round(base / count, 4),
        "validation_log_loss_topic": round(float(totals.min()) / count, 4),
        "read_with_cache": bool(caches),
        "grid": {"weights": list(weights), "smoothings": list(smoothings)},
    }


def _loss(states, tokens, rows, following, first: int, caches) -> float:
    """Summed negative log-likelihood of ``following[first:]`` from the logits ``rows`` (with ``caches``:
    the first one's mixture)."""
    read = log_probabilities(rows, following)
    if caches:
        return mixed_log_loss(states, tokens, read, first, caches)[0]
    return -float(read[first:].sum())
