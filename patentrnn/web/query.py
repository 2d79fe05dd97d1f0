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
from ..parameters import NO_COPY, PARAMETERS
from ..result import MAX_RNG_SEED, MAX_TITLE_CHARACTERS
from ..vocabulary import detokenize, read_words

# (the ranges, defaults and messages are patentrnn.parameters', shared with the HTTP API)
DIVERSITY, WORDS, TOP_K, TOP_P = (PARAMETERS[name].bounds for name in ("diversity", "words", "top_k", "top_p"))
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
    words: int | None = PARAMETERS["words"].default
    diversity: float = PARAMETERS["diversity"].default
    sampling: str = "none"  # "none", "top_k" or "top_p"
    top_k: int = PARAMETERS["top_k"].default
    top_p: float = PARAMETERS["top_p"].default
    rng_seed: int | None = None
    max_copy: int | None = NO_COPY

    def check(self) -> Query:
        """The same values, or a ValueError whose one line says what to change."""
        if self.start not in STARTS:
            raise InputError(f"Start must be one of {', '.join(STARTS)}.")
        PARAMETERS["diversity"].check(self.diversity)
        if self.words is not None:
            PARAMETERS["words"].check(self.words)
        if self.sampling in ("top_k", "top_p"):
            PARAMETERS[self.sampling].check(getattr(self, self.sampling))
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
        sampling = "top_k" if settings.top_k else "top_p" if settings.top_p else "none"
        query = cls(
            model=result.model,
            words=settings.words,
            diversity=settings.diversity,
            sampling=sampling,
            rng_seed=settings.rng_seed,
            max_copy=settings.max_copy,
        )
        if sampling != "none":
            setattr(query, sampling, getattr(settings, sampling))
        if settings.title is not None:
            query.start, query.title = "title", settings.title
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
    query.words = PARAMETERS["words"].check(_number(text, int))


def _read_diversity(query: Query, text: str, models) -> None:
    query.diversity = PARAMETERS["diversity"].check(_number(text, float))


def _read_rng_seed(query: Query, text: str, models) -> None:
    text = text.strip()
    if not (text.isascii() and text.isdigit() and int(text) <= MAX_RNG_SEED):
        raise InputError(f"rng_seed must be a whole number below {MAX_RNG_SEED + 1}.")
    query.rng_seed = int(text)


def _reader_of_sampling(name: str):
    def read(query: Query, text: str, models) -> None:
        setattr(query, name, PARAMETERS[name].check(_number(text, PARAMETERS[name].kind)))
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
    "top_k": _reader_of_sampling("top_k"),
    "top_p": _reader_of_sampling("top_p"),
    "max_copy": _read_max_copy,
    "random": _read_start("random"),
    "analyse": _read_start("analyse"),
    "title": _read_start("title"),
    "seed": _read_start("seed"),
}
