"""The page's controller: the form's Generate (or Analyse), branching, Undo, links and URL parameters."""

from __future__ import annotations

import logging
import secrets
import time
from html import escape

import ipywidgets as widgets

from ..bundle import BundleError, list_bundles
from ..corpus import CorpusError
from ..errors import InputError
from ..generation import load
from ..ratelimit import RateLimit
from ..rendering import render_originality_html
from ..result import Settings
from . import branching
from .form import Form
from .kernel import log_to_server, voila_query_string
from .query import Query
from .views import View, Word, analysis_link_html, analysis_view, links_html, view_of
from .widget import OutputView

log = logging.getLogger(__name__)
HISTORY = 10  # outputs that Undo can go back through (~140 KB each for 100 words, measured)
NO_CORPUS = "Random start needs the model's corpus, which this server does not have."


def visitor_line(error: Exception) -> str:
    """What a visitor reads when an action fails: one short line; the details go to the log."""
    if isinstance(error, CorpusError):
        log.warning("random start unavailable: %s", error)
        return NO_CORPUS
    if isinstance(error, BundleError):
        log.warning("model could not be loaded: %s", error)
        return "The model could not be loaded."
    if isinstance(error, InputError):  # the visitor's input: the message says what to change
        return str(error)
    reference = secrets.token_hex(4)  # a fault of ours: the traceback goes to the server's log, under this
    log.error("action failed (reference %s)", reference, exc_info=error)
    return f"Something went wrong on the server; please try again (reference {reference})."


class PageState:
    """The widgets' state as a notebook output (ipywidgets' embed format, version 2)."""

    MIME = "application/vnd.jupyter.widget-state+json"

    def __init__(self, state: dict):
        self.state = state

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {self.MIME: self.state}


class App:
    """The generator form and its output (``notebooks/app.ipynb`` only does ``App().show()``)."""

    def __init__(self, models_dir: str | None = None):
        log_to_server()
        self.models_dir = models_dir  # None: $PATENTRNN_MODELS, else the repository's models/
        self.models = list_bundles(models_dir)
        self.history: list[View] = []  # earlier outputs, for Undo
        self.limit = RateLimit.from_env()  # clicks can come straight over the websocket, not only the button
        self.form = Form(self.models)
        self.form.button.on_click(lambda _: self.generate())
        self.status = widgets.HTML("")
        self.status.add_class("patentrnn-status")
        self.output = OutputView()
        self.output.add_class("patentrnn-output-widget")
        self.output.on_event("branch", self.branch)
        self.output.on_event("undo", self.undo)
        self.links = widgets.HTML("")
        self.links.add_class("patentrnn-links")
        self.originality = widgets.HTML("")  # closest real patents and the longest copied span
        self.originality.add_class("patentrnn-originality-widget")
        form = self.form
        actions = widgets.HBox([form.button, self.status])
        actions.add_class("patentrnn-actions")
        self.container = widgets.VBox(
            [
                form.start,
                form.model,
                form.title,
                form.seed,
                form.settings_box(),
                actions,
                self.output,
                self.originality,
                self.links,
            ],
            layout=widgets.Layout(max_width="1100px"),
        )
        self.container.add_class("patentrnn-app")
        if form.model.value:  # read the weights now (a preheated kernel does it before any visitor)
            try:
                self._load(form.model.value)
            except ValueError as error:
                log.warning("model %r could not be loaded: %s", form.model.value, error)
                self._message("The model could not be loaded.")

    def show(self):
        """The widget to display (a notebook's last expression)."""
        return self.container

    def page_state(self) -> PageState:
        """Every widget's state now, displayed as the notebook's last output: the page's front end
        (patentrnn/web/js) draws the form from it before its kernel connection is up."""
        return PageState(widgets.Widget.get_manager_state(drop_defaults=False))

    @property
    def result(self):
        """The generation shown (None for an analysis or nothing)."""
        return self.output.state.result

    @property
    def score(self):
        """The analysis shown."""
        return self.output.state.score

    def _load(self, name: str):
        return load(name, self.models_dir)

    def refresh_models(self) -> None:
        """List the models directory again: a bundle added since this page's kernel started (a
        preheated kernel starts before its visitor) is offered too, a removed one is not."""
        self.models = list_bundles(self.models_dir)
        self.form.set_models(self.models)

    # --- actions --------------------------------------------------------------------

    def _message(self, text: str, kind: str = "error") -> None:
        self.status.value = f'<div class="patentrnn-{kind}">{escape(text)}</div>' if text else ""

    def _allowed(self) -> bool:
        """The rate limit: a click over it is dropped, never queued, and said so."""
        if self.limit.allow():
            return True
        self._message(f"Too many clicks: this one was skipped ({self.limit.describe()}).", "info")
        return False

    def generate(self) -> None:
        """The Generate (or Analyse) button: disabled while working, enabled again whatever happens."""
        if not self._allowed():
            return
        button = self.form.button
        button.disabled = True
        analyse = self.form.start.value == "analyse"
        self._message("Analysing…" if analyse else "Generating…", "info")
        try:
            if not self.form.model.value:
                raise InputError("No model is installed.")
            query = self.form.read()
            generator = self._load(query.model)
            if analyse:
                self._analyse(generator, query.seed)
            else:
                self._show(view_of(generator, generator.generate(**query.generate_arguments())))
        except Exception as error:  # never a traceback in the page
            self._failed(error)
        finally:
            button.disabled = False

    def _analyse(self, generator, text: str) -> None:
        started = time.perf_counter()
        score = generator.score(text)
        self._show(analysis_view(score))
        note = f" Unknown words, read as <unk>: {', '.join(score.unknown_words[:10])}." if score.unknown_words else ""
        self._message(
            f"{len(score.words)} words analysed in {(time.perf_counter() - started) * 1000:.0f} ms: "
            f"perplexity {score.perplexity:.1f}, {score.shares[0]:.0%} of the words in the model's top 10.{note}",
            "info",
        )

    def _failed(self, error: Exception) -> None:
        """One short line for the visitor, the details in the log; the old output goes
        (Undo brings it back)."""
        text = visitor_line(error)
        if self.output.state.kind != "empty":
            self._remember(self.output.state)
        self.output.clear()
        self.originality.value = self.links.value = ""
        self.output.can_undo = bool(self.history)
        self._message(text)

    def _remember(self, view: View) -> None:
        self.history = (self.history + [view])[-HISTORY:]

    def _show(self, view: View, remember: bool = True) -> None:
        """Put ``view`` on the page."""
        if remember and self.output.state.kind != "empty":
            self._remember(self.output.state)
        self.output.show(view)
        self.output.can_undo = bool(self.history)
        result = view.result
        if result is None:
            self.originality.value = ""
            self.links.value = analysis_link_html(view.score) if view.score is not None else ""
            return
        self.originality.value = render_originality_html(result.originality)
        self.links.value = links_html(result)
        count = result.copy_guard["steered"] if result.copy_guard else 0
        steered = f" {count} word{'s' * (count != 1)} steered away from a copy." if count else ""
        ended = " The model ended the abstract itself." if result.ended else ""
        self._message(
            f"{len(result.generated)} words in {result.timings['total_ms']:.1f} ms, "
            f"rng seed {result.settings.rng_seed}.{ended}{steered} " + " ".join(result.notes),
            "info",
        )

    def branch(self, block=None, index=None, word=None, **ignored) -> None:
        """A card's alternative was clicked: keep the text up to word ``index`` of
        ``block``, put ``word`` there and generate on with the same settings and a new
        rng seed. The page can send anything: what does not match the output is refused."""
        view = self.output.state
        try:
            prefix, item = branching.choice(view, block, index, word)
        except InputError as error:
            self._message(str(error))
            return
        if not self._allowed():
            return
        self._message("Generating…", "info")
        try:
            branched = self._branch(view, prefix, word)
        except Exception as error:
            self._failed(error)
            return
        self._message(
            f"Branched at word {index + 1}: “{item.word}” became “{word}”; {len(branched.generated)} new words, "
            f"new rng seed {branched.settings.rng_seed} (the permalink reproduces this text).",
            "info",
        )

    def _branch(self, view: View, prefix: list[Word], word: str):
        result = view.result
        if result is not None:
            settings, generator = branching.settings_of(result), self._load(result.model)
        else:  # branching from an analysed text: the form's settings
            generator = self._load(self.form.model.value)
            arguments = self.form.read().generate_arguments()
            settings = Settings(**{key: value for key, value in arguments.items() if key not in ("seed", "title")})
        new_view, branched = branching.branched(generator, prefix, word, settings)
        self._show(new_view)
        return branched

    def undo(self, **ignored) -> None:
        """Back to the output before the last branch, generation or failure."""
        if not self.history:
            self._message("Nothing to undo.", "info")
            return
        self._show(self.history.pop(), remember=False)
        self._message("Back to the text before.", "info")

    # --- links and URL parameters ----------------------------------------------------

    def permalink_query(self, result) -> str:
        """A query string that reproduces ``result`` exactly."""
        return Query.from_result(result).to_query_string()

    def apply_query(self, query: str | None) -> list[str]:
        """Fill the form from a URL query string and generate when it asked for
        anything. Returns the problems found; each is also shown in the page."""
        if not query:
            return []
        names = [row["name"] for row in self.models]
        values, problems = Query.parse(query, names, base=self.form.values())
        self.form.fill(values)
        self.generate()
        if problems:
            shown = self.status.value
            self.status.value = (
                f'<div class="patentrnn-error">Ignored in the link: {escape(" ".join(problems))}</div>' + shown
            )
        return problems

    def apply_voila_query(self) -> list[str]:
        """Read the page's query string from Voilà (waits for the request when the
        kernel was preheated) and apply it, after listing the models again. Outside Voilà, does nothing."""
        query = voila_query_string()
        self.refresh_models()
        return self.apply_query(query)
