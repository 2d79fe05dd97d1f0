"""Results that show themselves in a notebook (JupyterLab, Notebook 7, VS Code): the page's own output
view, drawn by the same widget.js, beside a plain-text form for consoles and text exports.

    >>> generator.generate("A neural network", words=40)   # doctest: +SKIP
    (the words, colour by rank, a card on each; clicking an alternative branches in place)

A ``Generation`` shows its words and the originality panel; clicking an alternative branches in place,
with the same settings and a new rng seed, while its generator is alive, and Undo goes back. A
``Score`` shows the analyse view; an ``Originality`` a small table.
"""

from __future__ import annotations

from html import escape

import ipywidgets as widgets

from ..errors import InputError
from ..rendering import render_originality_html, render_originality_text, render_text
from . import branching
from .views import View, analysis_view, view_of
from .widget import OutputView


class Shown:
    """A generation in a notebook's output: the view, the originality panel, a status line."""

    def __init__(self, generator, result):
        self.generator = generator
        self.history: list[View] = []
        self.output = OutputView()
        self.output.add_class("patentrnn-output-widget")
        self.output.on_event("branch", self.branch)
        self.output.on_event("undo", self.undo)
        self.originality = widgets.HTML()
        self.status = widgets.HTML()
        self.widget = widgets.VBox([self.output, self.originality, self.status])
        self._show(view_of(generator, result))

    def _show(self, view: View) -> None:
        self.output.show(view)
        self.output.can_undo = bool(self.history)
        self.originality.value = render_originality_html(view.result.originality) if view.result else ""

    def branch(self, block=None, index=None, word=None, **ignored) -> None:
        view = self.output.state
        try:
            prefix, _ = branching.choice(view, block, index, word)
            new_view, _ = branching.branched(self.generator, prefix, word, branching.settings_of(view.result))
        except InputError as error:
            self.status.value = f'<div class="patentrnn-error">{escape(str(error))}</div>'
            return
        self.history.append(view)
        self._show(new_view)
        self.status.value = ""

    def undo(self, **ignored) -> None:
        if self.history:
            self._show(self.history.pop())


def _with_text(widget, text: str, include, exclude):
    """A widget's bundle (data, metadata) with ``text`` as its plain-text form."""
    bundle = widget._repr_mimebundle_(include=include, exclude=exclude) or {}
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    return {**data, "text/plain": text}, metadata


def generation_bundle(result, generator, include=None, exclude=None):
    """``Generation._repr_mimebundle_``: the live view where its generator is known, and plain text."""
    if generator is None:
        return {"text/plain": render_text(result)}
    return _with_text(Shown(generator, result).widget, render_text(result), include, exclude)


def score_bundle(score, include=None, exclude=None):
    """``Score._repr_mimebundle_``: the analyse view, and plain text (a word and its rank a line)."""
    output = OutputView()
    output.show(analysis_view(score))
    lines = [f"{score.model}: perplexity {score.perplexity:.1f} over {len(score.targets)} words"]
    lines += [f"{item.word}\t{'' if item.rank is None else item.rank}" for item in score.words]
    return _with_text(output, "\n".join(lines), include, exclude)


def originality_bundle(checked) -> dict:
    """``Originality._repr_mimebundle_``: the table of the longest copy and the nearest patents."""
    return {"text/html": render_originality_html(checked), "text/plain": render_originality_text(checked)}
