"""How the next word's logits are shaped, in order, and the two rules every reader of them shares.

A next word's logit, from the network to the draw (``Generator._write``; scoring stops at step 4):

1. **The network** (``runtime.Runtime.output_logits``): the output layer, already tempered as
   ``(logit - shift) / temperature`` (the division rides on the layer's weights, not on every logit).
2. **A title model's title** (``Runtime.title_bonus``): the title's words gain their learned bonus,
   and ``<end>`` a bonus that grows with the words written (``train.layers.TitledOutput``).
3. **The title's topic** (``topic.Topic.apply``): the words of the training abstracts closest to the
   title gain ``weight · log(1 + p_topic / (smoothing · p))``; the word just read gains nothing.
4. **The continuous cache** (``cache.Cache.mix``), where scoring reads with it: the words the text has
   used come back. Generation writes with the network alone (``Cursor(cache=False)``).
5. **Words never written** (:func:`never_written`): padding, ``<unk>`` and a title model's tags are
   neither drawn nor offered as alternatives (``sampling.Sampler``, ``scoring.score_rows``).
6. **The copy guard** (``originality.guard.CopyGuard.blocked``, with ``max_copy``): words that would
   copy a run of training words are blocked for this draw.
7. **The draw** (``Sampler.draw``): top-k or top-p among what is left, at the temperature. With a title
   model writing until it ends, whether it ends is drawn first, at the model's own ``<end>``
   probability (``Sampler.own_probability``).
"""

from __future__ import annotations

import numpy as np

from .vocabulary import ABSTRACT_ID, END_ID, PAD_ID, TITLE_ID, UNK_ID


def never_written(titles: bool) -> tuple[int, ...]:
    """The ids a model never writes nor offers: padding, the unknown word, and a title model's tags."""
    return (PAD_ID, UNK_ID, TITLE_ID, ABSTRACT_ID, END_ID) if titles else (PAD_ID, UNK_ID)


def softmax_parts(rows: np.ndarray, scratch: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(peaks, totals)`` of logit rows ``(n, vocab)``: each row's largest logit, and
    ``Σ exp(row − peak)`` summed in float64. The softmax is ``exp(row − peak) / total``; the log-softmax
    ``row − peak − log(total)``. ``scratch``: a buffer of ``rows``' shape and type for the exponentials
    (float32 rows stay float32 until the sum: scoring's reader, where it halves the time)."""
    peaks = rows.max(axis=1)
    scratch = np.empty_like(rows) if scratch is None else scratch
    totals = np.exp(np.subtract(rows, peaks[:, None], out=scratch), out=scratch).sum(axis=1, dtype=np.float64)
    return peaks, totals


def log_probabilities(rows: np.ndarray, targets) -> np.ndarray:
    """The log-probability (float64) that each row of logits gives its target."""
    peaks, totals = softmax_parts(rows)
    picked = rows[np.arange(len(rows)), np.asarray(targets, dtype=np.intp)]
    return (picked - peaks).astype(np.float64) - np.log(totals)
