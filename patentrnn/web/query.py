"""Every value the page's form or its URL accepts, defined once: its default, its range, how it is
read from a query string, checked, and written back (a permalink).

    >>> query, problems = Query.parse("seed=A+valve&words=40&diversity=9", models=["neural-network-lstm"])
    >>> problems                       # invalid values are reported, not obeyed
    ['Diversity must be between 0.5 and 5.']
    >>> query.words, query.diversity   # (the diversity kept its default)
    (40, 0.8)

URL parameters: ``model``, ``seed``, ``title``, ``random=1``, ``analyse``, ``words`` (10-100, or ``end``:
until a title model ends the abstract), ``diversity``, ``top_k``, ``top_p``, ``rng_seed``,
``max_copy=7|off``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from ..errors import InputError
from ..generated import MAX_RNG_SEED, MAX_TITLE_CHARACTERS
from ..sampling import DEFAULT_DIVERSITY
from ..vocabulary import detokenize, read_words

DIVERSITY = (0.5, 5.0)  # the reference form's range
WORDS = (10, 100)
TOP_K = (1, 1000)
TOP_P = (0.01, 1.0)
NO_COPY = 7  # the page's max_copy: no copied run reaches the memorisation figure's 8 words
MAX_FIELD = 20_000  # characters a text box accepts from a URL
UNTIL_END = "end"  # words=end
STARTS = ("seed", "random", "analyse", "title")


@dataclass
class Query:
    """The form's values. ``words`` None: until the model ends the abstract (title models)."""

    model: str | None = None
    start: str = "seed"
    seed: str = "A neural network"
    title: str = ""
    words: int | None = 50
    diversity: float = DEFAULT_DIVERSITY
    sampling: str = "none"  # "none", "top_k" or "top_p"
    top_k: int = 40
    top_p: float = 0.9
    rng_seed: int | None = None
    max_copy: int | None = NO_COPY

    def check(self) -> Query:
        """The same values, or a ValueError whose one line says what to change."""
        if self.start not in STARTS:
            raise InputError(f"Start must be one of {', '.join(STARTS)}.")
        _check_range(self.diversity, DIVERSITY, "Diversity")
        if self.words is not None:
            _check_range(self.words, WORDS, "Number of words", whole=True)
        if self.sampling == "top_k":
            _check_range(self.top_k, TOP_K, "top_k", whole=True)
        elif self.sampling == "top_p":
            _check_range(self.top_p, TOP_P, "top_p")
        return self  # (the title, like the seed, is checked where it is read: starts.Starts)

    def generate_arguments(self) -> dict:
        """``Generator.generate``'s arguments for these values."""
        seed = None if self.start == "random" else self.seed
        if self.start == "title":  # a title's abstract may begin with the visitor's words, when there are some
            seed = self.seed.strip() or None
        arguments = {
            "seed": seed,
            "words": self.words,
            "diversity": float(self.diversity),
            "rng_seed": self.rng_seed,
            "max_copy": self.max_copy,
        }
        if self.start == "title":
            arguments["title"] = self.title
        if self.sampling in ("top_k", "top_p"):
            arguments[self.sampling] = getattr(self, self.sampling)
        return arguments

    @classmethod
    def from_result(cls, result) -> Query:
        """The values that reproduce ``result`` (a branched text too: its seed is the text up to the
        branch point)."""
        settings = result.settings
        sampling = "top_k" if settings.get("top_k") else "top_p" if settings.get("top_p") else "none"
        query = cls(
            model=result.model,
            words=settings["words"],
            diversity=settings["diversity"],
            sampling=sampling,
            rng_seed=settings["rng_seed"],
            max_copy=settings.get("max_copy"),
        )
        if sampling != "none":
            setattr(query, sampling, settings[sampling])
        if settings.get("title") is not None:
            query.start, query.title = "title", settings["title"]
            query.seed = seed_text(result.seed_words) if result.seed_words else ""
        elif result.mode == "random":
            query.start = "random"
        else:
            query.seed = seed_text(result.seed_words)
        return query

    def to_query_string(self) -> str:
        """A URL query string that ``parse`` reads back as these values."""
        query: dict = {"model": self.model or ""}
        query["words"] = UNTIL_END if self.words is None else self.words
        query["diversity"] = self.diversity
        if self.start == "random":
            query["random"] = 1
        elif self.start == "analyse":
            query["analyse"] = self.seed[:MAX_FIELD]
        else:
            if self.start == "title":
                query["title"] = self.title
            if self.seed or self.start == "seed":
                query["seed"] = self.seed[-MAX_FIELD:]
        if self.sampling in ("top_k", "top_p"):
            query[self.sampling] = getattr(self, self.sampling)
        if self.rng_seed is not None:
            query["rng_seed"] = self.rng_seed
        query["max_copy"] = self.max_copy or "off"
        if self.start == "analyse":
            query = {"model": query["model"], "analyse": query["analyse"]}
        return urlencode(query)

    @classmethod
    def parse(cls, text: str | None, models: list[str], base: Query | None = None) -> tuple[Query, list[str]]:
        """The values a URL query string asks for, over ``base``'s, and the problems found (values
        that are invalid are reported and left as they were)."""
        query = dataclasses.replace(base or cls())
        if not text:
            return query, []
        try:
            params = parse_qs(text.lstrip("?"), keep_blank_values=True, max_num_fields=20)
        except ValueError:
            return query, ["The link's parameters could not be read."]
        given = {name: values[-1] for name, values in params.items()}
        if given.keys() & {"seed", "title", "analyse"} or given.get("random") not in (None, "", "0"):
            query.start = "seed"  # the link's start, not the form's
        problems = []
        for name, read in _READERS.items():
            if name in given:
                try:
                    read(query, given[name], models)
                except ValueError as error:
                    problems.append(str(error))
        return query, problems


def seed_text(words: list[str]) -> str:
    """Text that reads back as exactly ``words`` (the seed of a permalink or a branch):
    the words joined as prose when that round-trips, else joined by spaces."""
    text = detokenize(words)
    return text if read_words(text) == list(words) else " ".join(words)


# --- checks and readers, one per value ----------------------------------------------------------------


def _check_range(value, bounds: tuple, name: str, whole: bool = False) -> None:
    low, high = bounds
    kind = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{name} must be between {low:g} and {high:g}.")


def _number(text: str, cast):
    try:
        return cast(text)
    except ValueError:
        return math.nan


def _read_model(query: Query, text: str, models: list[str]) -> None:
    if text not in models:
        raise InputError(f"Unknown model {text[:60]!r}.")
    query.model = text


def _read_words(query: Query, text: str, models) -> None:
    if text == UNTIL_END:
        query.words = None
        return
    words = _number(text, int)
    _check_range(words, WORDS, "Number of words", whole=True)
    query.words = words


def _read_diversity(query: Query, text: str, models) -> None:
    diversity = _number(text, float)
    _check_range(diversity, DIVERSITY, "Diversity")
    query.diversity = diversity


def _read_rng_seed(query: Query, text: str, models) -> None:
    text = text.strip()
    if not (text.isascii() and text.isdigit() and int(text) <= MAX_RNG_SEED):
        raise InputError(f"rng_seed must be a whole number below {MAX_RNG_SEED + 1}.")
    query.rng_seed = int(text)


def _reader_of_sampling(name: str, bounds: tuple, cast):
    def read(query: Query, text: str, models) -> None:
        value = _number(text, cast)
        _check_range(value, bounds, name, whole=cast is int)
        setattr(query, name, value)
        query.sampling = name

    return read


def _read_max_copy(query: Query, text: str, models) -> None:
    if text not in ("off", str(NO_COPY)):
        raise InputError(f"max_copy must be {NO_COPY} or off.")
    query.max_copy = None if text == "off" else NO_COPY


def _read_start(name: str):
    def read(query: Query, text: str, models) -> None:
        if name == "random":
            if text not in ("", "0"):
                query.start = "random"
            return
        if query.start in ("random", "analyse"):
            return  # random and analyse win over a seed or a title
        if name == "title":  # without a seed= after it, the abstract has no beginning given
            query.start, query.title, query.seed = "title", text[:MAX_TITLE_CHARACTERS], ""
        elif name == "analyse":
            query.start, query.seed = "analyse", text[:MAX_FIELD]
        else:
            query.seed = text[:MAX_FIELD]
            query.start = "title" if query.start == "title" else "seed"

    return read


_READERS = {  # in this order: later ones see what earlier ones set
    "model": _read_model,
    "words": _read_words,
    "diversity": _read_diversity,
    "rng_seed": _read_rng_seed,
    "top_k": _reader_of_sampling("top_k", TOP_K, int),
    "top_p": _reader_of_sampling("top_p", TOP_P, float),
    "max_copy": _read_max_copy,
    "random": _read_start("random"),
    "analyse": _read_start("analyse"),
    "title": _read_start("title"),
    "seed": _read_start("seed"),
}
