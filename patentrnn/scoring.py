"""How a model sees a text: each word's probability, its rank and the alternatives.

    >>> score = patentrnn.load().score("A neural network is trained on images.")
    >>> score.perplexity, [(w.word, w.rank) for w in score.words]

Every word after the first is a target, as in training's ``evaluate_model``: its
probability under the model given the words before it, its rank (1 = the model's
first choice; a full sort of the model's probabilities, ``<unk>`` included) and the
model's five most likely words there (never ``<pad>`` or ``<unk>``, which nobody can
write). Unknown words are read, and scored, as ``<unk>``. The first word has no
probability: nothing comes before it.

Ranks are bucketed as GLTR (Gehrmann, Strobelt and Rush, 2019) does: top 10, top
100, top 1,000, beyond. Runs on the numpy runtime (``runtime.Cursor``, as generation);
never imports TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .errors import InputError
from .logits import never_written, softmax_parts
from .runtime import Cursor
from .vocabulary import detokenize, read_input

MAX_SCORE_CHARACTERS = 50_000  # longer text is refused before it is cleaned or tokenized
MAX_SCORE_WORDS = 2_000  # ~0.2 s a thousand words for the default model; longer text is refused
ALTERNATIVES = 5
BUCKETS = (10, 100, 1000)  # GLTR's bucket edges: rank <= 10, <= 100, <= 1000, beyond
BUCKET_NAMES = ("top 10", "top 100", "top 1,000", "beyond")
CHUNK = 16  # positions whose logits are ranked together (16 x 14k float32: 0.9 MB)


def bucket_of(rank: int) -> int:
    """0 for a rank in the top 10, 1 for the top 100, 2 for the top 1,000, 3 beyond."""
    return sum(rank > edge for edge in BUCKETS)


def bucket_shares(ranks: Sequence[int]) -> list[float]:
    """The share of ``ranks`` in each bucket (zeros for no ranks)."""
    counts = [0] * (len(BUCKETS) + 1)
    for rank in ranks:
        counts[bucket_of(rank)] += 1
    total = sum(counts)
    return [count / total if total else 0.0 for count in counts]


@dataclass(slots=True)
class ScoredWord:
    word: str  # as written (an unknown word is scored as <unk>)
    probability: float | None  # under the model, given the words before; None for the first word
    rank: int | None  # 1 = the model's first choice; None for the first word
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # the model's top 5 here


@dataclass
class Score:
    """A text as the model sees it."""

    model: str
    words: list[ScoredWord]
    unknown_words: list[str]  # distinct words the model does not know
    log_loss: float  # nats a target word (every word after the first)

    @property
    def perplexity(self) -> float:
        return math.exp(self.log_loss)

    @property
    def targets(self) -> list[ScoredWord]:
        return [word for word in self.words if word.rank is not None]

    @property
    def shares(self) -> list[float]:
        """The share of target words in each rank bucket (``BUCKET_NAMES``)."""
        return bucket_shares([word.rank for word in self.targets])

    @property
    def text(self) -> str:
        return detokenize(word.word for word in self.words)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a notebook, the page's analyse view (``web.display``); plain text elsewhere."""
        from .web.display import score_bundle

        return score_bundle(self, include, exclude)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(perplexity=self.perplexity, shares=dict(zip(BUCKET_NAMES, self.shares)), text=self.text)
        return data


def text_words(text: str, vocabulary) -> list[str]:
    """Text to the words a model reads (cleaned and tokenized like training text),
    or a ValueError saying what is wrong with it."""
    words = read_input(text, MAX_SCORE_CHARACTERS, "analyse", vocabulary.filters)
    if len(words) < 2:
        raise InputError("Please enter at least two words: the first is only read, the rest are scored.")
    if len(words) > MAX_SCORE_WORDS:
        raise InputError(f"The text has {len(words):,} words: at most {MAX_SCORE_WORDS:,} can be analysed at once.")
    return words


def ranks(rows: np.ndarray, chosen, out: np.ndarray | None = None) -> np.ndarray:
    """Each chosen word's rank in its row of logits: 1 + how many words score strictly
    higher (as training's ``score_logits``). Any order-keeping transform of the logits
    (tempered, shifted, exponentiated) gives the same ranks. ``out``: a boolean buffer of
    ``rows``' shape. ~25 us for 8 rows of neural-network-lstm (measured)."""
    picked = rows[np.arange(len(chosen)), np.asarray(chosen, dtype=np.intp)]
    return np.count_nonzero(np.greater(rows, picked[:, None], out=out), axis=1) + 1


def score_words(
    runtime, vocabulary, words: Sequence[str], start: int = 1, context: Sequence[int] = (), topic=None
) -> tuple[list[ScoredWord], float]:
    """Score ``words[start:]``, each given every word before it (those before
    ``start`` are only read), after the ids ``context`` (a title model's tags and title;
    ``topic``: its topic, ``patentrnn.topic``). Returns the scored words and their summed
    negative log-likelihood in nats."""
    if not (0 if context else 1) <= start < len(words):
        raise InputError("start must leave at least one word to read")
    ids = vocabulary.encode_words(words)
    # (one joint product a word, as generation reads. The cache's states in one array of the text's
    # length: grown by doubling, they left a kernel's heap 4.6 MiB larger than the network alone's
    # after ten 2,000-word texts; in one, 2.2 MiB, the array's size. Measured, private dirty memory.)
    cursor = Cursor(runtime, [*context, *ids[:start]], room=len(ids) - start, topic=topic)
    # three buffers for all chunks: a serving kernel's heap keeps what it once held (fresh
    # temporaries each chunk left +6 MiB of PSS after an analysis, measured; these, +2)
    shape = (min(CHUNK, len(ids) - start), len(vocabulary))
    rows, scratch, higher = np.empty(shape, np.float32), np.empty(shape, np.float32), np.empty(shape, bool)
    scored, total = [], 0.0
    for chunk_start in range(start, len(ids), CHUNK):
        targets = ids[chunk_start : chunk_start + CHUNK]
        for row, target in enumerate(targets):
            rows[row] = cursor.logits()[: len(vocabulary)]
            if chunk_start + row + 1 < len(ids):
                cursor.feed(target)
        count = len(targets)
        chunk, nll = score_rows(rows[:count], targets, words[chunk_start : chunk_start + CHUNK], vocabulary,
                                scratch[:count], higher[:count])  # fmt: skip
        scored += chunk
        total += nll
    return scored, total


def score_rows(rows: np.ndarray, targets: Sequence[int], words: Sequence[str], vocabulary, scratch=None, higher=None):
    """``(ScoredWord`` of each target, their summed negative log-likelihood)`` from the model's logits
    for each (``rows``, one a target, overwritten; ``scratch`` and ``higher``: optional buffers of
    ``rows``' shape, float32 and bool)."""
    count, positions = len(targets), np.arange(len(targets))
    target_logits = rows[positions, np.asarray(targets, dtype=np.intp)]
    places = ranks(rows, targets, out=higher)
    peaks, totals = softmax_parts(rows, scratch)
    log_likelihood = (target_logits - peaks).astype(np.float64) - np.log(totals)
    # the top 5 by repeated argmax: 0.3 ms for 32 rows, np.argpartition 5 ms (measured)
    rows[:, list(never_written(vocabulary.has_titles))] = -np.inf  # never offered as alternatives
    top, top_p = [], []
    for _ in range(ALTERNATIVES):
        best = rows.argmax(axis=1)
        top.append(best.tolist())
        top_p.append((np.exp((rows[positions, best] - peaks).astype(np.float64)) / totals).tolist())
        rows[positions, best] = -np.inf
    top, top_p = list(zip(*top)), list(zip(*top_p))
    names = vocabulary.words
    scored = [
        ScoredWord(words[row], math.exp(float(log_likelihood[row])), int(places[row]),
                   [(names[i], p) for i, p in zip(top[row], top_p[row])])
        for row in range(count)
    ]  # fmt: skip
    return scored, -float(log_likelihood.sum())


def score_text(runtime, vocabulary, text: str, model: str = "", context: Sequence[int] = (), topic=None) -> Score:
    """The ``Score`` of ``text`` (see ``Generator.score``); after a title (``context`` beyond a
    lone ``<abstract>``), the first word is scored too, and ``topic`` is the title's."""
    words = text_words(text, vocabulary)
    start = 0 if len(context) > 1 else 1
    scored, total = score_words(runtime, vocabulary, words, start, context, topic)
    unknown = list(dict.fromkeys(word for word in words if word not in vocabulary.index))
    return Score(model, [ScoredWord(words[0], None, None)][:start] + scored, unknown, total / len(scored))
