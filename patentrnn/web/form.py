"""The page's form: its widgets, read into a checked ``Query`` and filled from one."""

from __future__ import annotations

import ipywidgets as widgets

from ..bundle import DEFAULT_MODEL
from ..errors import InputError
from .labels import NO_COPY_LABEL, SAMPLINGS, SEED_PLACEHOLDER, STARTS, model_label
from .query import DIVERSITY, NO_COPY, TOP_K, TOP_P, WORDS, Query

LABEL_WIDTH = "7.5rem"  # every control's label, so that they line up
PLACEHOLDERS = {
    "analyse": "Paste any text, such as a real abstract, to see how the model ranks each word",
    "title": "Optional: the abstract's first words",
}
NO_TITLES = "This model does not take titles: choose one trained with titles (such as neural-network-title)."


class Form:
    """The inputs and the Generate button; ``read()`` gives their checked ``Query``."""

    def __init__(self, models: list[dict]):
        defaults = Query()
        self._create_texts(defaults)
        self._create_settings(defaults)
        for control in (self.start, self.model, self.seed, self.title, self.diversity, self.words, self.sampling,
                        self.rng_seed):  # fmt: skip
            control.add_class("patentrnn-control")
        for control in (self.top_k, self.top_p):
            control.add_class("patentrnn-number")
        # no icon font: page.css draws the pencil (Font Awesome's font is 78 kB over the wire)
        self.button = widgets.Button(description="Generate", button_style="danger")
        self.button.add_class("patentrnn-generate")
        self.titled: set[str] = set()
        self.set_models(models)
        self.start.observe(self._on_title_mode, names="value")
        for control, handler in ((self.start, self._on_start), (self.sampling, self._on_sampling),
                                 (self.model, self._on_start), (self.until_end, self._on_start)):  # fmt: skip
            control.observe(handler, names="value")
        self._on_start()
        self._on_sampling()

    def _create_texts(self, defaults: Query) -> None:
        """Where to start from, the model, the title and the seed."""
        style = {"description_width": LABEL_WIDTH}
        self.start = widgets.ToggleButtons(
            options=STARTS, value=defaults.start, description="Start from", style={**style, "button_width": "auto"}
        )
        self.start.add_class("patentrnn-start")
        self.model = widgets.Dropdown(description="Model", style=style)
        self.title = widgets.Text(
            value=defaults.title, description="Title", style=style, layout=widgets.Layout(width="100%"),
            placeholder="The invention's title, e.g. Neural network for detecting fraud in card payments",
        )  # fmt: skip
        self.title.add_class("patentrnn-title")
        self.seed = widgets.Textarea(
            value=defaults.seed, placeholder=SEED_PLACEHOLDER, description="Seed",
            style=style, layout=widgets.Layout(width="100%", height="6em"),
        )  # fmt: skip
        self.seed.add_class("patentrnn-seed")

    def _create_settings(self, defaults: Query) -> None:
        """Diversity, length, sampling, rng seed and the no-copy option."""
        style, small = {"description_width": LABEL_WIDTH}, {"description_width": "1.5rem"}
        self.diversity = widgets.FloatSlider(
            value=defaults.diversity, min=DIVERSITY[0], max=DIVERSITY[1], step=0.1, description="Diversity", style=style
        )
        self.words = widgets.IntSlider(
            value=defaults.words, min=WORDS[0], max=WORDS[1], description="Words", style=style
        )
        self.until_end = widgets.Checkbox(value=False, description="Until it ends", indent=False)
        self.until_end.add_class("patentrnn-until-end")
        self.sampling = widgets.Dropdown(
            options=SAMPLINGS,
            value=defaults.sampling, description="Sampling", style=style,
        )  # fmt: skip
        self.top_k = widgets.BoundedIntText(
            value=defaults.top_k, min=TOP_K[0], max=TOP_K[1], description="k", style=small
        )
        self.top_p = widgets.BoundedFloatText(
            value=defaults.top_p, min=TOP_P[0], max=TOP_P[1], step=0.05, description="p", style=small
        )
        self.rng_seed = widgets.Text(value="", placeholder="random", description="rng seed", style=style)
        self.no_copy = widgets.Checkbox(
            value=defaults.max_copy is not None, indent=False,
            description=NO_COPY_LABEL,
        )  # fmt: skip
        self.no_copy.add_class("patentrnn-no-copy")

    def settings_box(self) -> widgets.VBox:
        box = widgets.VBox(
            [
                self.diversity,
                widgets.HBox([self.words, self.until_end]),
                widgets.HBox([self.sampling, self.top_k, self.top_p]),
                self.rng_seed,
                self.no_copy,
            ]
        )
        box.add_class("patentrnn-settings")
        return box

    def set_models(self, models: list[dict]) -> None:
        """Offer ``models`` (``bundle.list_bundles`` rows), keeping the chosen one when it is still there."""
        options = [(model_label(row), row["name"]) for row in models]
        names = [row["name"] for row in models]
        self.titled = {row["name"] for row in models if row.get("titles")}
        current = self.model.value
        value = current if current in names else DEFAULT_MODEL if DEFAULT_MODEL in names else (names or [""])[0]
        if list(self.model.options) != (options or [("no models found", "")]):
            self.model.options = options or [("no models found", "")]
        self.model.value = value

    def title_problem(self) -> str | None:
        """One line when the chosen start needs titles that the chosen model does not take."""
        return NO_TITLES if self.start.value == "title" and self.model.value not in self.titled else None

    def _on_start(self, change=None) -> None:
        mode = self.start.value
        self.seed.disabled = mode == "random"
        self.seed.description = "Text" if mode == "analyse" else "Seed"
        self.seed.placeholder = PLACEHOLDERS.get(mode, "Type the beginning of a patent abstract")
        self.title.layout.display = None if mode == "title" else "none"
        titled = self.model.value in self.titled
        self.until_end.layout.display = None if titled else "none"
        analyse = mode == "analyse"  # reads the text as it is: none of the writing settings apply
        for control in (self.diversity, self.sampling, self.top_k, self.top_p, self.rng_seed, self.no_copy,
                        self.until_end):  # fmt: skip
            control.disabled = analyse
        self.words.disabled = analyse or (titled and self.until_end.value)
        self.button.description = "Analyse" if analyse else "Generate"

    def _on_title_mode(self, change) -> None:
        """Into "From a title": the model writes until it ends the abstract, and the seed box, unless the
        visitor typed in it, is left empty for the abstract's optional first words."""
        if change["new"] != "title":
            return
        self.until_end.value = True
        if self.seed.value == Query().seed:
            self.seed.value = ""

    def _on_sampling(self, change=None) -> None:
        self.top_k.layout.display = None if self.sampling.value == "top_k" else "none"
        self.top_p.layout.display = None if self.sampling.value == "top_p" else "none"

    def read(self) -> Query:
        """The form's values, checked (a ValueError says what to change)."""
        rng_text = self.rng_seed.value.strip()
        if rng_text and not (rng_text.isascii() and rng_text.isdigit()):
            raise InputError("The rng seed must be a whole number, or empty for a random one.")
        if self.title_problem():
            raise InputError(self.title_problem())
        return self.values().check()

    def values(self) -> Query:
        """The form's values as they stand (unchecked; an unreadable rng seed reads as None)."""
        rng_text = self.rng_seed.value.strip()
        until_end = self.until_end.value and self.model.value in self.titled
        return Query(
            model=self.model.value,
            start=self.start.value,
            seed=self.seed.value,
            title=self.title.value,
            words=None if until_end else self.words.value,
            diversity=self.diversity.value,
            sampling=self.sampling.value,
            top_k=self.top_k.value,
            top_p=self.top_p.value,
            rng_seed=int(rng_text) if rng_text.isascii() and rng_text.isdigit() else None,
            max_copy=NO_COPY if self.no_copy.value else None,
        )

    def fill(self, query: Query) -> None:
        """Show ``query``'s values (already checked)."""
        if query.model:
            self.model.value = query.model
        self.start.value, self.seed.value, self.title.value = query.start, query.seed, query.title
        self.until_end.value = query.words is None
        if query.words is not None:
            self.words.value = query.words
        self.diversity.value, self.sampling.value = query.diversity, query.sampling
        self.top_k.value, self.top_p.value = query.top_k, query.top_p
        self.rng_seed.value = "" if query.rng_seed is None else str(query.rng_seed)
        self.no_copy.value = query.max_copy is not None
