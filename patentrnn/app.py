"""The web page: ipywidgets and an anywidget output view wired to the generator, served by Voilà.

``notebooks/app.ipynb`` only does ``App().show()``; everything else is here,
where pytest drives it: set the widgets, click, read ``app.output`` (an
``OutputView``: ``app.output.words()``, ``app.output.text()``).

The page keeps the reference demo's form (seed text or a random real abstract,
diversity 0.5–5, 10–100 words) and adds a third start, "Analyse text" (any text,
coloured by rank, with its perplexity), a model dropdown, optional top-k / top-p, an
rng seed, a permalink and a .txt download. Each word the model scored has a card
with its probability, rank and the model's top 5; clicking an alternative branches
(the text up to that word is kept, the word replaced, generation goes on with the same
settings and a new rng seed) and Undo goes back. URL parameters
(``?seed=…&words=…&diversity=…&model=…&rng_seed=…&random=1&top_k=…&top_p=…&max_copy=7|off``, or
``?analyse=…``) fill the form and run on load; invalid values are reported, not obeyed.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import sys
import time
from html import escape
from urllib.parse import parse_qs, urlencode

import ipywidgets as widgets

from .bundle import DEFAULT_MODEL, BundleError, list_bundles
from .corpus import CorpusError
from .generation import MAX_RNG_SEED, MAX_SEED_WORDS, load
from .ratelimit import RateLimit
from .rendering import render_originality_html, render_text
from .scoring import score_words
from .vocabulary import detokenize, read_words
from .widget import OutputView, entry, plain_entries, scored_entries, shares_of

log = logging.getLogger(__name__)


def log_to_server() -> None:
    """Send the package's log lines to the server's log, never to the visitor's page. In a kernel,
    ``sys.stderr`` (and fd 2, which ipykernel redirects into a pipe) reach the page as output; ipykernel
    keeps the process's original stderr as ``sys.stderr._original_stdstream_copy``, and that is where
    the Voilà server's log lies. Outside a kernel, logging is left as configured. Once per process."""
    logger = logging.getLogger("patentrnn")
    if "ipykernel" not in sys.modules or any(getattr(h, "patentrnn_server_log", False) for h in logger.handlers):
        return
    original = getattr(sys.stderr, "_original_stdstream_copy", None)  # None: fd 2 is not captured
    descriptor = original if original is not None else sys.__stderr__.fileno()
    handler = logging.StreamHandler(os.fdopen(os.dup(descriptor), "w", buffering=1))
    handler.setFormatter(logging.Formatter("[patentrnn kernel %(process)d] %(levelname)s %(name)s: %(message)s"))
    handler.patentrnn_server_log = True
    logger.addHandler(handler)
    logger.propagate = False

DIVERSITY = (0.5, 5.0, 0.8)  # the reference form's range and default
WORDS = (10, 100, 50)
MAX_SEED_FIELD = 20_000  # characters the seed box accepts from a URL
NO_COPY = 7  # the page's max_copy: no copied run reaches the memorisation figure's 8 words
HISTORY = 10  # outputs that Undo can go back through (~140 KB each for 100 words, measured)
LABEL_WIDTH = "7.5rem"  # every control's label, so that they line up
NO_CORPUS = "Random start needs the model's corpus, which this server does not have."


def _model_label(row: dict) -> str:
    perplexity = row["test"].get("perplexity")
    quality = f"test perplexity {perplexity:.1f}" if perplexity else "no test metrics"
    return f"{row['name']} ({row['corpus']}, {quality})"


def seed_text(words: list[str]) -> str:
    """Text that reads back as exactly ``words`` (the seed of a permalink or a branch):
    the words joined as prose when that round-trips, else joined by spaces."""
    text = detokenize(words)
    return text if read_words(text) == list(words) else " ".join(words)


class App:
    """The generator form and its output."""

    def __init__(self, models_dir: str | None = None):
        log_to_server()
        if models_dir:
            os.environ["PATENTRNN_MODELS"] = str(models_dir)
        self.models = list_bundles()
        self.result = None  # the generation shown (None for an analysis or nothing)
        self.score = None  # the analysis shown
        self.shown: dict | None = None  # what the output view shows, and what a branch needs
        self.history: list[dict] = []  # earlier outputs, for Undo
        self.limit = RateLimit.from_env()  # clicks can come straight over the websocket, not only the button
        self._create_inputs()
        self._create_outputs()
        settings = widgets.VBox(
            [self.diversity, self.words, widgets.HBox([self.sampling, self.top_k, self.top_p]), self.rng_seed,
             self.no_copy]  # fmt: skip
        )
        settings.add_class("patentrnn-settings")
        self.container = widgets.VBox(
            [
                self.start,
                self.model,
                self.seed,
                settings,
                widgets.HBox([self.button, self.status]),
                self.output,
                self.originality,
                self.links,
            ],
            layout=widgets.Layout(max_width="1100px"),
        )
        self.container.add_class("patentrnn-app")
        self.container.children[4].add_class("patentrnn-actions")
        if self.model.value:  # read the weights now (a preheated kernel does it before any visitor)
            try:
                load(self.model.value)
            except ValueError as error:
                log.warning("model %r could not be loaded: %s", self.model.value, error)
                self._message("The model could not be loaded.")

    # --- widgets --------------------------------------------------------------------

    def _create_inputs(self) -> None:
        style = {"description_width": LABEL_WIDTH}
        self.start = widgets.ToggleButtons(
            options=[("My seed text", "seed"), ("Random real abstract", "random"), ("Analyse text", "analyse")],
            value="seed",
            description="Start from",
            style={**style, "button_width": "auto"},
        )
        self.start.add_class("patentrnn-start")
        self.seed = widgets.Textarea(
            value="A neural network",
            placeholder="Type the beginning of a patent abstract",
            description="Seed",
            style=style,
            layout=widgets.Layout(width="100%", height="6em"),
        )
        self.seed.add_class("patentrnn-seed")
        self.diversity = widgets.FloatSlider(
            value=DIVERSITY[2], min=DIVERSITY[0], max=DIVERSITY[1], step=0.1, description="Diversity", style=style
        )
        self.words = widgets.IntSlider(value=WORDS[2], min=WORDS[0], max=WORDS[1], description="Words", style=style)
        options, value = self._model_options(None)
        self.model = widgets.Dropdown(options=options, value=value, description="Model", style=style)
        self.sampling = widgets.Dropdown(
            options=[("diversity only", "none"), ("top-k", "top_k"), ("top-p (nucleus)", "top_p")],
            value="none",
            description="Sampling",
            style=style,
        )
        self.top_k = widgets.BoundedIntText(
            value=40, min=1, max=1000, description="k", style={"description_width": "1.5rem"}
        )
        self.top_p = widgets.BoundedFloatText(
            value=0.9, min=0.01, max=1.0, step=0.05, description="p", style={"description_width": "1.5rem"}
        )
        self.rng_seed = widgets.Text(value="", placeholder="random", description="rng seed", style=style)
        self.no_copy = widgets.Checkbox(
            value=True, description=f"Never copy {NO_COPY + 1}+ words in a row from the training text", indent=False
        )
        self.no_copy.add_class("patentrnn-no-copy")
        for control in (self.start, self.model, self.seed, self.diversity, self.words, self.sampling, self.rng_seed):
            control.add_class("patentrnn-control")
        for control in (self.top_k, self.top_p):
            control.add_class("patentrnn-number")
        # no icon font: page.css draws the pencil (Font Awesome's font is 78 kB over the wire)
        self.button = widgets.Button(description="Generate", button_style="danger")
        self.button.add_class("patentrnn-generate")
        self.button.on_click(lambda _: self.generate())
        self.start.observe(self._on_start, names="value")
        self.sampling.observe(self._on_sampling, names="value")
        self._on_sampling()

    def _create_outputs(self) -> None:
        self.status = widgets.HTML("")
        self.status.add_class("patentrnn-status")
        self.output = OutputView()
        self.output.add_class("patentrnn-output-widget")
        self.output.on_event("branch", self.branch)
        self.output.on_event("undo", self.undo)
        self.links = widgets.HTML("")
        self.links.add_class("patentrnn-links")
        # closest real patents and the longest copied span: a block of its own under the output
        self.originality = widgets.HTML("")
        self.originality.add_class("patentrnn-originality-widget")

    def _model_options(self, current: str | None) -> tuple[list, str]:
        """The dropdown's options for ``self.models``, and its value: ``current`` if still there."""
        options = [(_model_label(row), row["name"]) for row in self.models]
        names = [row["name"] for row in self.models]
        if current in names:
            return options, current
        return options or [("no models found", "")], DEFAULT_MODEL if DEFAULT_MODEL in names else (
            names[0] if names else ""
        )

    def refresh_models(self) -> None:
        """List the models directory again: a bundle added since this page's kernel started (a
        preheated kernel starts before its visitor) is offered too, a removed one is not."""
        self.models = list_bundles()
        options, value = self._model_options(self.model.value)
        if list(self.model.options) != options:
            self.model.options = options
            self.model.value = value

    def _on_start(self, change=None) -> None:
        mode = self.start.value
        self.seed.disabled = mode == "random"
        self.seed.description = "Text" if mode == "analyse" else "Seed"
        self.seed.placeholder = (
            "Paste any text, such as a real abstract, to see how the model ranks each word"
            if mode == "analyse"
            else "Type the beginning of a patent abstract"
        )
        self.button.description = "Analyse" if mode == "analyse" else "Generate"

    def _on_sampling(self, change=None) -> None:
        self.top_k.layout.display = None if self.sampling.value == "top_k" else "none"
        self.top_p.layout.display = None if self.sampling.value == "top_p" else "none"

    def show(self):
        """The widget to display (a notebook's last expression)."""
        return self.container

    # --- actions --------------------------------------------------------------------

    def _message(self, text: str, kind: str = "error") -> None:
        self.status.value = f'<div class="patentrnn-{kind}">{escape(text)}</div>' if text else ""

    def _settings(self) -> dict:
        """The form's values, checked as the reference checked them."""
        diversity = self.diversity.value
        if not isinstance(diversity, (int, float)) or not DIVERSITY[0] <= diversity <= DIVERSITY[1]:
            raise ValueError(f"Diversity must be between {DIVERSITY[0]:g} and {DIVERSITY[1]:g}.")
        words = self.words.value
        if not WORDS[0] <= words <= WORDS[1]:
            raise ValueError(f"Number of words must be between {WORDS[0]} and {WORDS[1]}.")
        rng_text = self.rng_seed.value.strip()
        if rng_text and not (rng_text.isascii() and rng_text.isdigit()):
            raise ValueError("The rng seed must be a whole number, or empty for a random one.")
        settings = {
            "seed": None if self.start.value == "random" else self.seed.value,
            "words": int(words),
            "diversity": float(diversity),
            "rng_seed": int(rng_text) if rng_text else None,
            "max_copy": NO_COPY if self.no_copy.value else None,
        }
        if self.sampling.value == "top_k":
            settings["top_k"] = int(self.top_k.value)
        elif self.sampling.value == "top_p":
            settings["top_p"] = float(self.top_p.value)
        return settings

    def generate(self) -> None:
        """The Generate (or Analyse) button: disabled while working, enabled again whatever happens."""
        if not self.limit.allow():  # dropped, never queued
            self._message(f"Too many clicks: this one was skipped ({self.limit.describe()}).", "info")
            return
        self.button.disabled = True
        analyse = self.start.value == "analyse"
        self._message("Analysing…" if analyse else "Generating…", "info")
        try:
            if not self.model.value:
                raise ValueError("No model is installed.")
            if analyse:
                self._analyse()
            else:
                result = load(self.model.value).generate(**self._settings())
                self._show(self._generation_view(result))
        except Exception as error:  # never a traceback in the page
            self._failed(error)
        finally:
            self.button.disabled = False

    def _failed(self, error: Exception) -> None:
        """One short line for the visitor, the details in the log; the old output goes
        (Undo brings it back)."""
        if isinstance(error, CorpusError):
            log.warning("random start unavailable: %s", error)
            text = NO_CORPUS
        elif isinstance(error, BundleError):
            log.warning("model could not be loaded: %s", error)
            text = "The model could not be loaded."
        elif isinstance(error, ValueError):  # bad input: the message says what to change
            text = str(error)
        else:
            log.exception("action failed")
            text = f"Something went wrong ({type(error).__name__}); please try again."
        if self.shown is not None:
            self._remember(self.shown)
        self.shown = self.result = self.score = None
        self.output.clear()
        self.originality.value = self.links.value = ""
        self.output.can_undo = bool(self.history)
        self._message(text)

    def _analyse(self) -> None:
        started = time.perf_counter()
        generator = load(self.model.value)
        score = generator.score(self.seed.value)
        words = scored_entries(score.words)
        self._show(
            {
                "kind": "analysis",
                "blocks": [{"name": "text", "title": None, "words": words}],
                "contexts": [[]],
                "shares": [{"label": "text", "shares": score.shares}],
                "perplexity": score.perplexity,
                "score": score,
            }
        )
        note = f" Unknown words, read as <unk>: {', '.join(score.unknown_words[:10])}." if score.unknown_words else ""
        self._message(
            f"{len(score.words)} words analysed in {(time.perf_counter() - started) * 1000:.0f} ms: "
            f"perplexity {score.perplexity:.1f}, {score.shares[0]:.0%} of the words in the model's top 10.{note}",
            "info",
        )

    def _generation_view(self, result, prefix: list[dict] | None = None, chosen: dict | None = None) -> dict:
        """The output view of a generation; after a branch, ``prefix`` (the kept words)
        and ``chosen`` (the picked alternative) stand for the seed's words."""
        generated = scored_entries(result.generated, net=True)
        seed = [dict(item, copied=None) for item in prefix] + [chosen] if prefix is not None else None
        if seed is None or len(seed) != len(result.seed_words):
            seed = plain_entries(result.seed_words)
        if result.mode == "random":
            generator = load(result.model)
            actual, _ = score_words(
                generator.runtime, generator.vocabulary, result.seed_words + result.actual_words, len(result.seed_words)
            )
            actual = scored_entries(actual)
            blocks = [
                {"name": "seed", "title": "Seed", "words": seed},
                {"name": "rnn", "title": "RNN generated", "words": generated},
                {"name": "actual", "title": "Actual", "words": actual},
            ]
            contexts = [[], seed, seed]
            shares = [{"label": "actual", "shares": shares_of(actual)}]
        else:
            blocks = [{"name": "text", "title": None, "words": seed + generated}]
            contexts = [[]]
            shares = []
        shares.append({"label": "generated", "shares": shares_of([item for item in seed + generated if item["net"]])})
        # the longest span copied from a training abstract, counted from the seed's first word
        copy = result.originality.longest_copy if getattr(result, "originality", None) else None
        if copy:
            text = seed + generated
            for position in range(copy.start, min(copy.start + copy.length, len(text))):
                text[position]["copied"] = position
        return {"kind": "generation", "blocks": blocks, "contexts": contexts, "shares": shares,
                "perplexity": None, "result": result}  # fmt: skip

    def _remember(self, shown: dict) -> None:
        self.history = (self.history + [shown])[-HISTORY:]

    def _show(self, shown: dict, remember: bool = True) -> None:
        """Put ``shown`` (a view plus what a branch needs) on the page."""
        if remember and self.shown is not None:
            self._remember(self.shown)
        self.shown = shown
        self.result, self.score = shown.get("result"), shown.get("score")
        self.output.show({key: shown[key] for key in ("kind", "blocks", "shares", "perplexity")})
        self.output.can_undo = bool(self.history)
        result = self.result
        if result is not None:
            self.originality.value = render_originality_html(result)
            self.links.value = self._links(result)
            steered = f" {result.copy_guard['steered']} words steered away from a copy." if result.copy_guard else ""
            self._message(
                f"{len(result.generated)} words in {result.timings['total_ms']:.1f} ms, "
                f"rng seed {result.settings['rng_seed']}.{steered} " + " ".join(result.notes),
                "info",
            )
        else:
            self.originality.value = ""
            self.links.value = self._analysis_link() if self.score is not None else ""

    def branch(self, block=None, index=None, word=None, **ignored) -> None:
        """A card's alternative was clicked: keep the text up to word ``index`` of
        ``block``, put ``word`` there and generate on with the same settings and a new
        rng seed. The page can send anything: what does not match the output is refused."""
        shown = self.shown
        try:
            item = shown["blocks"][block]["words"][index]
            if type(block) is not int or type(index) is not int or block < 0 or index < 0:
                raise TypeError
            if word not in [name for name, _ in item["alt"]]:
                raise ValueError
        except (TypeError, KeyError, IndexError, ValueError):
            log.warning("branch request that matches nothing on the page: %r", (block, index, str(word)[:80]))
            self._message("That choice is no longer on the page.")
            return
        if not self.limit.allow():  # dropped, never queued
            self._message(f"Too many clicks: this one was skipped ({self.limit.describe()}).", "info")
            return
        prefix = shown["contexts"][block] + shown["blocks"][block]["words"][:index]
        words = [kept["w"] for kept in prefix] + [word]
        if len(words) > MAX_SEED_WORDS:
            self._message(f"The text is too long to branch: pick a word among its first {MAX_SEED_WORDS}.")
            return
        self._message("Generating…", "info")
        try:
            result = shown.get("result")
            model = result.model if result is not None else self.model.value
            if result is not None:
                settings = {key: value for key, value in result.settings.items() if key != "rng_seed"}
            else:  # branching from an analysed text: the form's settings
                settings = {key: value for key, value in self._settings().items() if key not in ("seed", "rng_seed")}
            generator = load(model)
            branched = generator.generate(seed=seed_text(words), **settings)
            [scored], _ = score_words(generator.runtime, generator.vocabulary, words, len(words) - 1)
            chosen = entry(word, scored.probability, scored.rank, scored.alternatives, net=True, chosen=True)
            self._show(self._generation_view(branched, prefix, chosen))
        except Exception as error:
            self._failed(error)
            return
        self._message(
            f"Branched at word {index + 1}: “{item['w']}” became “{word}”; {len(branched.generated)} new words, "
            f"new rng seed {branched.settings['rng_seed']} (the permalink reproduces this text).",
            "info",
        )

    def undo(self, **ignored) -> None:
        """Back to the output before the last branch, generation or failure."""
        if not self.history:
            self._message("Nothing to undo.", "info")
            return
        self._show(self.history.pop(), remember=False)
        self._message("Back to the text before.", "info")

    def permalink_query(self, result) -> str:
        """A query string that reproduces ``result`` exactly (a branched text too: its
        seed is the text up to the branch point)."""
        settings = result.settings
        query = {"model": result.model, "words": settings["words"], "diversity": settings["diversity"]}
        if result.mode == "random":
            query["random"] = 1
        else:
            query["seed"] = seed_text(result.seed_words)[-MAX_SEED_FIELD:]
        if settings.get("top_k"):
            query["top_k"] = settings["top_k"]
        if settings.get("top_p"):
            query["top_p"] = settings["top_p"]
        query["rng_seed"] = settings["rng_seed"]
        query["max_copy"] = settings.get("max_copy") or "off"
        return urlencode(query)

    def _links(self, result) -> str:
        text = base64.b64encode(render_text(result).encode()).decode()
        permalink = "?" + self.permalink_query(result)
        return (
            f'<a class="patentrnn-permalink" href="{escape(permalink)}" target="_top">Permalink to this output</a>'
            f' &middot; <a class="patentrnn-download" download="patentrnn-{escape(result.model)}.txt" '
            f'href="data:text/plain;charset=utf-8;base64,{text}">Download .txt</a>'
        )

    def _analysis_link(self) -> str:
        query = urlencode({"model": self.score.model, "analyse": self.score.text[:MAX_SEED_FIELD]})
        return (
            f'<a class="patentrnn-permalink" href="{escape("?" + query)}" target="_top">Permalink to this analysis</a>'
        )

    # --- URL parameters ---------------------------------------------------------------

    def apply_query(self, query: str | None) -> list[str]:
        """Fill the form from a URL query string and generate when it asked for
        anything. Returns the problems found; each is also shown in the page."""
        if not query:
            return []
        try:
            params = parse_qs(query.lstrip("?"), keep_blank_values=True, max_num_fields=20)
        except ValueError:
            self._message("The link's parameters could not be read.")
            return ["unreadable query string"]
        problems = []

        def value(name):
            return params[name][-1] if name in params else None

        if value("model") is not None:
            names = [row["name"] for row in self.models]
            if value("model") in names:
                self.model.value = value("model")
            else:
                problems.append(f"Unknown model {value('model')[:60]!r}.")
        if value("words") is not None:
            try:
                words = int(value("words"))
                if not WORDS[0] <= words <= WORDS[1]:
                    raise ValueError
                self.words.value = words
            except ValueError:
                problems.append(f"Number of words must be between {WORDS[0]} and {WORDS[1]}.")
        if value("diversity") is not None:
            try:
                diversity = float(value("diversity"))
                if not (math.isfinite(diversity) and DIVERSITY[0] <= diversity <= DIVERSITY[1]):
                    raise ValueError
                self.diversity.value = diversity
            except ValueError:
                problems.append(f"Diversity must be between {DIVERSITY[0]:g} and {DIVERSITY[1]:g}.")
        if value("rng_seed") is not None:
            text = value("rng_seed").strip()
            if text.isascii() and text.isdigit() and int(text) <= MAX_RNG_SEED:
                self.rng_seed.value = text
            else:
                problems.append(f"rng_seed must be a whole number below {MAX_RNG_SEED + 1}.")
        for name, widget, cast in (("top_k", self.top_k, int), ("top_p", self.top_p, float)):
            if value(name) is not None:
                try:
                    number = cast(value(name))
                    if not widget.min <= number <= widget.max:
                        raise ValueError
                    widget.value = number
                    self.sampling.value = name
                except ValueError:
                    problems.append(f"{name} must be between {widget.min} and {widget.max}.")
        if value("max_copy") is not None:
            if value("max_copy") in ("off", str(NO_COPY)):
                self.no_copy.value = value("max_copy") != "off"
            else:
                problems.append(f"max_copy must be {NO_COPY} or off.")
        if value("random") not in (None, "", "0"):
            self.start.value = "random"
        elif value("analyse") is not None:
            self.start.value = "analyse"
            self.seed.value = value("analyse")[:MAX_SEED_FIELD]
        elif value("seed") is not None:
            self.start.value = "seed"
            self.seed.value = value("seed")[:MAX_SEED_FIELD]
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


def voila_query_string() -> str | None:
    """The page's query string, as ``voila.utils.get_query_string`` gives it.

    Re-done here because importing ``voila.utils`` pulls in jupyter_server and
    jupyterlab_server: measured +45 MiB of kernel RSS (51 → 97 MiB), against +1.4 MiB
    for the websockets client it uses. A preheated kernel runs the notebook before
    any request, so it asks Voilà's ``voila/query/<kernel id>`` websocket for it.
    """
    if os.environ.get("VOILA_PREHEAT", "False") == "False":
        return os.environ.get("QUERY_STRING")
    from websockets.sync.client import connect

    protocol = os.environ.get("VOILA_WS_PROTOCOL", "ws")
    host = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    port = os.environ.get("VOILA_APP_PORT", "8866")
    base = os.environ.get("VOILA_WS_BASE_URL", os.environ.get("VOILA_SERVER_URL", "/"))
    url = f"{protocol}://{host}:{port}{base}voila/query/{os.environ.get('VOILA_KERNEL_ID', '')}"
    try:
        with connect(url, open_timeout=5) as socket:
            info = json.loads(socket.recv())
    except Exception as error:  # the page still works, without its URL parameters
        log.warning("no request info from Voilà at %s: %s", url, error)
        return None
    for key, value in info.items():
        os.environ[key] = str(value)
    return info.get("QUERY_STRING")
