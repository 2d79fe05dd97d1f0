"""What the output view shows, built from the result objects Python holds (``Generation``, ``Score``).

A ``View`` is the page's one view state: its blocks of ``Word``s are what a branch reads (the words
before a card, the alternatives it offered), and ``View.wire()`` is the JSON the widget draws
(``widget.py`` documents it). The widget never sends words back that Python then trusts: a branch
names a block, a position and a word, and is checked against this view.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from ..rendering import render_text
from ..scoring import bucket_of, bucket_shares, score_words
from .query import Query


@dataclass
class Word:
    """One word on the page; a word the model scored has a card (probability, rank, alternatives)."""

    word: str
    probability: float | None = None
    rank: int | None = None
    alternatives: list = field(default_factory=list)  # [(word, probability), ...]
    net: bool = False  # written by the network
    chosen: bool = False  # picked by the visitor (a branch)
    copied: int | None = None  # position in the checked text, when inside the longest copied span

    @classmethod
    def scored(cls, item, net: bool = False) -> Word:
        """A ``ScoredWord`` or a ``GeneratedWord``; a first word (rank None) has no card."""
        return cls(item.word, item.probability, item.rank, list(item.alternatives), net)

    def wire(self) -> dict:
        return {
            "w": self.word,
            "net": self.net,
            "p": None if self.probability is None else float(self.probability),
            "r": None if self.rank is None else int(self.rank),
            "b": None if self.rank is None else bucket_of(int(self.rank)),  # its colour: scoring.BUCKETS
            "alt": [[str(name), float(p)] for name, p in self.alternatives],
            "chosen": self.chosen,
            "copied": self.copied,
        }


@dataclass
class Block:
    name: str  # "text", "title", "seed", "rnn" or "actual"
    title: str | None
    words: list[Word]
    context: list[Word] = field(default_factory=list)  # the words before it (a branch keeps them)


@dataclass
class View:
    kind: str = "empty"  # "generation", "analysis" or "empty"
    blocks: list[Block] = field(default_factory=list)
    shares: list[dict] = field(default_factory=list)  # [{"label": ..., "shares": [4 floats]}]
    perplexity: float | None = None
    result: object = None  # the Generation shown
    score: object = None  # the Score shown

    def wire(self) -> dict:
        blocks = [{"name": b.name, "title": b.title, "words": [w.wire() for w in b.words]} for b in self.blocks]
        return {"kind": self.kind, "blocks": blocks, "shares": self.shares, "perplexity": self.perplexity}


def plain(words: Iterable[str]) -> list[Word]:
    return [Word(word) for word in words]


def shares_of(words: Sequence[Word]) -> list[float]:
    return bucket_shares([item.rank for item in words if item.rank is not None])


def analysis_view(score) -> View:
    words = [Word.scored(item) for item in score.words]
    return View(
        "analysis",
        [Block("text", None, words)],
        [{"label": "text", "shares": score.shares}],
        score.perplexity,
        score=score,
    )


def generation_view(result, actual=None, prefix: list[Word] | None = None, chosen: Word | None = None) -> View:
    """The view of a generation. ``actual``: random mode's real continuation, scored (``ScoredWord``s);
    after a branch, ``prefix`` (the kept words, with their cards) and ``chosen`` (the picked word)
    stand for the seed's words."""
    generated = [Word.scored(item, net=True) for item in result.generated]
    seed = [*(dataclasses.replace(w, copied=None) for w in prefix), chosen] if prefix is not None else None
    if seed is None or len(seed) != len(result.seed_words):
        seed = plain(result.seed_words)
    title = [Block("title", "Title", plain(result.title_words))] if result.title_words else []
    if result.mode == "random":
        actual_words = [Word.scored(item) for item in actual or []]
        blocks = [
            Block("seed", "Seed", seed),
            Block("rnn", "RNN generated", generated, seed),
            Block("actual", "Actual", actual_words, seed),
        ]
        shares = [{"label": "actual", "shares": shares_of(actual_words)}]
    else:
        blocks = [Block("text", "Abstract" if title else None, seed + generated)]
        shares = []
    shares.append({"label": "generated", "shares": shares_of([item for item in seed + generated if item.net])})
    # the longest span copied from a training abstract, counted from the seed's first word
    copy = result.originality.longest_copy if result.originality else None
    if copy:
        text = seed + generated
        for position in range(copy.start, min(copy.start + copy.length, len(text))):
            text[position].copied = position
    return View("generation", title + blocks, shares, result=result)


def view_of(generator, result, prefix: list[Word] | None = None, chosen: Word | None = None) -> View:
    """``generation_view``, with random mode's real continuation scored after the seed (and the title)."""
    actual = None
    if result.mode == "random":
        words, context = result.seed_words + result.actual_words, generator.starts.context(result.title_words)
        actual, _ = score_words(generator.runtime, generator.vocabulary, words, len(result.seed_words), context)
    return generation_view(result, actual, prefix, chosen)


def links_html(result) -> str:
    """The permalink (``query.Query.from_result``) and the .txt download of a generation."""
    text = base64.b64encode(render_text(result).encode()).decode()
    permalink = "?" + Query.from_result(result).to_query_string()
    return (
        f'<a class="patentrnn-permalink" href="{escape(permalink)}" target="_top">Permalink to this output</a>'
        f' &middot; <a class="patentrnn-download" download="patentrnn-{escape(result.model)}.txt" '
        f'href="data:text/plain;charset=utf-8;base64,{text}">Download .txt</a>'
    )


def analysis_link_html(score) -> str:
    query = Query(model=score.model, start="analyse", seed=score.text).to_query_string()
    return f'<a class="patentrnn-permalink" href="{escape("?" + query)}" target="_top">Permalink to this analysis</a>'
