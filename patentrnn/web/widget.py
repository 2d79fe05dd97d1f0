"""The page's output view: an anywidget that shows words with their cards.

Python sends the view (``views.View.wire()``) as JSON in one synced trait (``view``); ``widget.js`` draws it
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

from collections.abc import Callable
from pathlib import Path

import anywidget
import traitlets

from ..corpus import PUNCTUATION
from ..scoring import BUCKET_NAMES
from ..vocabulary import detokenize
from .views import View

HERE = Path(__file__).parent
EMPTY_VIEW = {"kind": "empty", "blocks": [], "shares": [], "perplexity": None}


class OutputView(anywidget.AnyWidget):
    """Words with hover cards, colour by rank, branch and undo (see the module docstring)."""

    _esm = HERE / "widget.js"
    _css = HERE / "widget.css"
    view = traitlets.Dict(EMPTY_VIEW).tag(sync=True)
    colour = traitlets.Bool(False).tag(sync=True)  # colour each word by its rank
    can_undo = traitlets.Bool(False).tag(sync=True)
    buckets = traitlets.List(list(BUCKET_NAMES)).tag(sync=True)
    punctuation = traitlets.List(list(PUNCTUATION)).tag(sync=True)  # written against the word before

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._handlers: dict[str, Callable] = {}
        self.state = View()  # what the page shows, as Python objects (``views.View``)
        self.on_msg(self._received)

    def on_event(self, name: str, handler: Callable) -> None:
        """``handler(**content)`` for each ``{"event": name, ...}`` the page sends."""
        self._handlers[name] = handler

    def _received(self, widget, content, buffers) -> None:
        if not isinstance(content, dict) or content.get("event") not in self._handlers:
            return  # a page can send anything: unknown messages are dropped
        arguments = {key: value for key, value in content.items() if key != "event"}
        self._handlers[content["event"]](**arguments)

    def show(self, state: View) -> None:
        """Draw ``state``; ``self.state`` keeps it (the result objects a branch reads)."""
        self.state = state
        self.view = state.wire()

    def clear(self) -> None:
        self.state = View()
        self.view = dict(EMPTY_VIEW)

    # --- reading the view (tests, downloads) -------------------------------------------

    def words(self, name: str | None = None) -> list[dict]:
        """The entries shown, of every block or of block ``name``."""
        return [item for block in self.view["blocks"] if name in (None, block["name"]) for item in block["words"]]

    def text(self, name: str | None = None) -> str:
        return detokenize(item["w"] for item in self.words(name))
