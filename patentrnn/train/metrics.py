"""Held-out figures of a Keras model on whole abstracts: log loss, perplexity, top-1 and top-5, and
how often float16 weights keep float32's most likely word."""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..logits import log_probabilities
from ..model import ModelConfig
from ..progress import progress
from ..vocabulary import UNK_ID, Vocabulary
from .examples import abstract_batches, encode_abstracts, encode_titled


def score_logits(logits: np.ndarray, targets: np.ndarray) -> dict:
    """Sums over positions: negative log-likelihood (nats), top-1 and top-5 hits.

    ``logits`` is ``(n, vocab)``, ``targets`` is ``(n,)``."""
    logits = logits.astype(np.float64)
    target_logit = logits[np.arange(len(targets)), targets]
    # rank = how many words score strictly higher than the target
    rank = (logits > target_logit[:, None]).sum(axis=1)
    return {
        "nll": -float(log_probabilities(logits, targets).sum()),
        "top1": int((rank < 1).sum()),
        "top5": int((rank < 5).sum()),
        "count": len(targets),
        "unk": int((targets == UNK_ID).sum()),
    }


def finish_metrics(total: dict) -> dict:
    count = max(total["count"], 1)
    log_loss = total["nll"] / count
    return {
        "log_loss": round(log_loss, 4),
        "perplexity": round(math.exp(log_loss), 2),
        "top1_accuracy": round(total["top1"] / count, 4),
        "top5_accuracy": round(total["top5"] / count, 4),
        "targets": total["count"],
        "unk_target_share": round(total["unk"] / count, 4),
    }


def evaluate_model(
    model, vocabulary: Vocabulary, abstracts: list[str], batch_size: int = 8, titles: list[str | None] | None = None
) -> dict:
    """Score a Keras model on whole abstracts: every word after the first is a
    target, unknown words included (as ``<unk>``). A title model reads ``titles[i]`` first
    (None: no title, ``<abstract>`` first) and is scored on the same targets: its first
    word and ``<end>`` are left out, so that the figure compares with a model without titles."""
    if titles is None:
        sequences, starts = encode_abstracts(vocabulary, abstracts), None
    else:
        sequences, starts = encode_titled(vocabulary, abstracts, titles)
        sequences = [ids[:-1] for ids in sequences]  # (not <end>)
        starts = [start + 1 for start in starts]  # (not the first word)
    if not sequences:
        raise InputError("no abstract with at least two words to evaluate on")
    total = {"nll": 0.0, "top1": 0, "top5": 0, "count": 0, "unk": 0}
    for inputs, targets, weights in progress(abstract_batches(sequences, batch_size, starts), "evaluating"):
        logits = np.asarray(model(inputs, training=False))
        real = weights > 0
        part = score_logits(logits[real], targets[real])
        for key in total:
            total[key] += part[key]
    return finish_metrics(total)


def half_precision_agreement(model, config: ModelConfig, vocabulary: Vocabulary, abstracts: list[str]) -> float:
    """Share of positions where the float16-rounded weights pick the same most likely
    next word as the float32 ones (bundles store float16)."""
    from .network import build_model

    rounded = build_model(config)
    rounded.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])
    same = total = 0
    for inputs, _, weights in abstract_batches(encode_abstracts(vocabulary, abstracts), 8):
        real = weights > 0
        exact = np.asarray(model(inputs, training=False)).argmax(-1)
        half = np.asarray(rounded(inputs, training=False)).argmax(-1)
        same += int((exact == half)[real].sum())
        total += int(real.sum())
    return round(same / max(total, 1), 5)
