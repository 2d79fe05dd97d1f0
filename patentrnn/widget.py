"""The page's output view: an anywidget that shows words with their cards.

Python sends the view as JSON in one synced trait (``view``); ``widget.js`` draws it
with ``textContent`` only (never ``innerHTML``), so whatever a visitor, a URL or the
corpus wrote stays text. Every word the model scored is focusable
(``tabindex="0"``, its rank in ``data-rank``); hovering, tapping or focusing it opens
a card (``role="tooltip"``) with its probability, rank and the model's top 5 as
buttons with bars. A button sends ``{"event": "branch", ...}`` back; the Undo button
``{"event": "undo"}``; Python checks both (a page can send anything) and answers
through the callbacks given to ``on_event``.

    view = {
        "kind": "generation" | "analysis" | "empty",
        "blocks": [{"name": "text" | "seed" | "rnn" | "actual", "title": str | None,
                    "words": [entry, ...]}],
        "shares": [{"label": "actual", "shares": [top 10, top 100, top 1,000, beyond]}, ...],
        "perplexity": float | None,
    }
    entry = {"w": word, "net": written by the network, "p": probability | None,
             "r": rank | None, "alt": [[word, probability], ...], "chosen": picked by
             the visitor, "copied": position in the checked text | None}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import anywidget
import traitlets

from .scoring import BUCKET_NAMES, bucket_of, bucket_shares

HERE = Path(__file__).parent
EMPTY_VIEW = {"kind": "empty", "blocks": [], "shares": [], "perplexity": None}


def entry(word: str, probability=None, rank=None, alternatives: Iterable = (), net=False, chosen=False) -> dict:
    """One word of the view."""
    return {
        "w": word,
        "net": bool(net),
        "p": None if probability is None else float(probability),
        "r": None if rank is None else int(rank),
        "b": None if rank is None else bucket_of(int(rank)),  # its colour: scoring.BUCKETS
        "alt": [[str(name), float(p)] for name, p in alternatives],
        "chosen": bool(chosen),
        "copied": None,
    }


def plain_entries(words: Sequence[str]) -> list[dict]:
    """Words shown without a card (a seed)."""
    return [entry(word) for word in words]


def scored_entries(scored, net=False) -> list[dict]:
    """``ScoredWord``s or ``GeneratedWord``s; a first word (rank None) has no card."""
    return [entry(item.word, item.probability, item.rank, item.alternatives, net) for item in scored]


def shares_of(entries: Sequence[dict]) -> list[float]:
    return bucket_shares([item["r"] for item in entries if item["r"] is not None])


class OutputView(anywidget.AnyWidget):
    """Words with hover cards, colour by rank, branch and undo (see the module docstring)."""

    _esm = HERE / "widget.js"
    _css = HERE / "widget.css"
    view = traitlets.Dict(EMPTY_VIEW).tag(sync=True)
    colour = traitlets.Bool(False).tag(sync=True)  # colour each word by its rank
    can_undo = traitlets.Bool(False).tag(sync=True)
    buckets = traitlets.List(list(BUCKET_NAMES)).tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._handlers: dict[str, Callable] = {}
        self.on_msg(self._received)

    def on_event(self, name: str, handler: Callable) -> None:
        """``handler(**content)`` for each ``{"event": name, ...}`` the page sends."""
        self._handlers[name] = handler

    def _received(self, widget, content, buffers) -> None:
        if not isinstance(content, dict) or content.get("event") not in self._handlers:
            return  # a page can send anything: unknown messages are dropped
        arguments = {key: value for key, value in content.items() if key != "event"}
        self._handlers[content["event"]](**arguments)

    def show(self, view: dict) -> None:
        self.view = {**EMPTY_VIEW, **view}

    def clear(self) -> None:
        self.view = dict(EMPTY_VIEW)

    # --- reading the view (tests, downloads) -------------------------------------------

    def words(self, name: str | None = None) -> list[dict]:
        """The entries shown, of every block or of block ``name``."""
        return [item for block in self.view["blocks"] if name in (None, block["name"]) for item in block["words"]]

    def text(self, name: str | None = None) -> str:
        from .vocabulary import detokenize

        return detokenize(item["w"] for item in self.words(name))
