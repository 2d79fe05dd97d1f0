"""The web page: ipywidgets wired to the generator, served by Voilà.

``notebooks/app.ipynb`` only does ``App().show()``; everything else is here,
where pytest drives it: set the widgets, click, read ``app.output.value``.

The page keeps the reference demo's form (seed text or a random real abstract,
diversity 0.5–5, 10–100 words) and adds a model dropdown, optional top-k / top-p,
an rng seed, hover details, a permalink and a .txt download. URL parameters
(``?seed=…&words=…&diversity=…&model=…&rng_seed=…&random=1&top_k=…&top_p=…``)
fill the form and generate on load; invalid values are reported, not obeyed.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
from html import escape
from urllib.parse import parse_qs, urlencode

import ipywidgets as widgets

from .bundle import DEFAULT_MODEL, list_bundles
from .generation import MAX_RNG_SEED, load
from .rendering import render_html, render_text

log = logging.getLogger(__name__)

DIVERSITY = (0.5, 5.0, 0.8)  # the reference form's range and default
WORDS = (10, 100, 50)
MAX_SEED_FIELD = 20_000  # characters the seed box accepts from a URL


def _model_label(row: dict) -> str:
    perplexity = row["test"].get("perplexity")
    quality = f"test perplexity {perplexity:.1f}" if perplexity else "no test metrics"
    return f"{row['name']} ({row['corpus']}, {quality})"


class App:
    """The generator form and its output."""

    def __init__(self, models_dir: str | None = None):
        if models_dir:
            os.environ["PATENTRNN_MODELS"] = str(models_dir)
        self.models = list_bundles()
        self.result = None
        self._create_inputs()
        self._create_outputs()
        self.container = widgets.VBox(
            [
                widgets.HBox([self.start, self.model]),
                self.seed,
                widgets.HBox([self.diversity, self.words]),
                widgets.HBox([self.sampling, self.top_k, self.top_p, self.rng_seed]),
                self.button,
                self.status,
                self.output,
                self.links,
            ],
            layout=widgets.Layout(max_width="1100px"),
        )
        self.container.add_class("patentrnn-app")
        if self.model.value:  # read the weights now (a preheated kernel does it before any visitor)
            try:
                load(self.model.value)
            except ValueError as error:
                self._message(str(error))

    # --- widgets --------------------------------------------------------------------

    def _create_inputs(self) -> None:
        style = {"description_width": "initial"}
        self.start = widgets.ToggleButtons(
            options=[("My seed text", "seed"), ("Random real abstract", "random")],
            value="seed",
            description="Start from:",
            style=style,
        )
        self.seed = widgets.Textarea(
            value="A neural network",
            placeholder="Type the beginning of a patent abstract",
            description="Seed:",
            layout=widgets.Layout(width="100%", height="6em"),
        )
        self.seed.add_class("patentrnn-seed")
        self.diversity = widgets.FloatSlider(
            value=DIVERSITY[2], min=DIVERSITY[0], max=DIVERSITY[1], step=0.1, description="Diversity:", style=style
        )
        self.words = widgets.IntSlider(value=WORDS[2], min=WORDS[0], max=WORDS[1], description="Words:", style=style)
        options = [(_model_label(row), row["name"]) for row in self.models]
        names = [row["name"] for row in self.models]
        self.model = widgets.Dropdown(
            options=options or [("no models found", "")],
            value=DEFAULT_MODEL if DEFAULT_MODEL in names else (names[0] if names else ""),
            description="Model:",
            layout=widgets.Layout(width="40em"),
        )
        self.sampling = widgets.Dropdown(
            options=[("diversity only", "none"), ("top-k", "top_k"), ("top-p (nucleus)", "top_p")],
            value="none",
            description="Sampling:",
            layout=widgets.Layout(width="16em"),
        )
        self.top_k = widgets.BoundedIntText(value=40, min=1, max=1000, description="k:", layout={"width": "9em"})
        self.top_p = widgets.BoundedFloatText(
            value=0.9, min=0.01, max=1.0, step=0.05, description="p:", layout={"width": "9em"}
        )
        self.rng_seed = widgets.Text(value="", placeholder="random", description="rng seed:", layout={"width": "14em"})
        self.button = widgets.Button(description="Generate", button_style="danger", icon="pencil")
        self.button.add_class("patentrnn-generate")
        self.button.on_click(lambda _: self.generate())
        self.start.observe(self._on_start, names="value")
        self.sampling.observe(self._on_sampling, names="value")
        self._on_sampling()

    def _create_outputs(self) -> None:
        self.status = widgets.HTML("")
        self.status.add_class("patentrnn-status")
        self.output = widgets.HTML("")
        self.output.add_class("patentrnn-output-widget")
        self.links = widgets.HTML("")
        self.links.add_class("patentrnn-links")

    def _on_start(self, change=None) -> None:
        self.seed.disabled = self.start.value == "random"

    def _on_sampling(self, change=None) -> None:
        self.top_k.layout.display = None if self.sampling.value == "top_k" else "none"
        self.top_p.layout.display = None if self.sampling.value == "top_p" else "none"

    def show(self):
        """The widget to display (a notebook's last expression)."""
        return self.container

    # --- actions --------------------------------------------------------------------

    def _message(self, text: str, kind: str = "error") -> None:
        colour = {"error": "#b00020", "info": "#555"}[kind]
        self.status.value = f'<div style="color:{colour}">{escape(text)}</div>' if text else ""

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
        }
        if self.sampling.value == "top_k":
            settings["top_k"] = int(self.top_k.value)
        elif self.sampling.value == "top_p":
            settings["top_p"] = float(self.top_p.value)
        return settings

    def generate(self) -> None:
        """The Generate button: disabled while working, enabled again whatever happens."""
        self.button.disabled = True
        self._message("Generating…", "info")
        try:
            if not self.model.value:
                raise ValueError("No model is installed: add a bundle to models/.")
            settings = self._settings()
            result = load(self.model.value).generate(**settings)
        except ValueError as error:  # bad input, unknown model, missing corpus
            self._message(str(error))
        except Exception as error:  # never a traceback in the page
            log.exception("generation failed")
            self._message(f"Something went wrong ({type(error).__name__}); please try again.")
        else:
            self.result = result  # its rng_seed is in the status line and the permalink
            self.output.value = render_html(result)
            self.links.value = self._links(result)
            self._message(
                f"{len(result.generated)} words in {result.timings['total_ms']:.1f} ms, "
                f"rng seed {result.settings['rng_seed']}. " + " ".join(result.notes),
                "info",
            )
        finally:
            self.button.disabled = False

    def permalink_query(self, result) -> str:
        """A query string that reproduces ``result`` exactly."""
        settings = result.settings
        query = {"model": result.model, "words": settings["words"], "diversity": settings["diversity"]}
        if result.mode == "random":
            query["random"] = 1
        else:
            query["seed"] = self.seed.value[-MAX_SEED_FIELD:]
        if settings.get("top_k"):
            query["top_k"] = settings["top_k"]
        if settings.get("top_p"):
            query["top_p"] = settings["top_p"]
        query["rng_seed"] = settings["rng_seed"]
        return urlencode(query)

    def _links(self, result) -> str:
        text = base64.b64encode(render_text(result).encode()).decode()
        permalink = "?" + self.permalink_query(result)
        return (
            f'<a class="patentrnn-permalink" href="{escape(permalink)}" target="_top">Permalink to this output</a>'
            f' &middot; <a class="patentrnn-download" download="patentrnn-{escape(result.model)}.txt" '
            f'href="data:text/plain;charset=utf-8;base64,{text}">Download .txt</a>'
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
        if value("random") not in (None, "", "0"):
            self.start.value = "random"
        elif value("seed") is not None:
            self.start.value = "seed"
            self.seed.value = value("seed")[:MAX_SEED_FIELD]
        self.generate()
        if problems:
            shown = self.status.value
            self.status.value = (
                f'<div style="color:#b00020">Ignored in the link: {escape(" ".join(problems))}</div>' + shown
            )
        return problems

    def apply_voila_query(self) -> list[str]:
        """Read the page's query string from Voilà (waits for the request when the
        kernel was preheated) and apply it. Outside Voilà, does nothing."""
        return self.apply_query(voila_query_string())


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
