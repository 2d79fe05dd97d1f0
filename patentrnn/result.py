"""What ``Generator.generate`` returns, and the limits its arguments are checked against."""

from __future__ import annotations

import numbers
import secrets
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from .errors import InputError
from .vocabulary import detokenize

if TYPE_CHECKING:
    import random

    from .originality import Originality
    from .sampling import SamplingConfig

MAX_WORDS = 5000  # words generated per call
MAX_SEED_WORDS = 500  # the seed's last words that the network reads
MAX_SEED_CHARACTERS = 20_000  # the seed's tail that is cleaned and tokenized at all
RANDOM_WINDOW = 50  # random start: words of the real abstract given as the seed
UNTIL_END_LIMIT = 300  # words=None: a title model writes until it ends the abstract, or this many words
DEFAULT_WORDS = 50  # words=None, a model without titles
MAX_TITLE_CHARACTERS = 500
CUT_NOTE = f"The model had not ended the abstract after {UNTIL_END_LIMIT} words: it was cut there."
MAX_RNG_SEED = 2**32 - 1
MAX_COPY_RANGE = (1, 50)  # max_copy: the longest run of training words allowed


@dataclass(frozen=True)
class Settings:
    """What one ``generate`` call used: given back (``Generator.branch``, the page's permalink, the HTTP
    API's ``seed``), they write the same words."""

    words: int | None  # None: a title model wrote until it ended the abstract
    diversity: float
    top_k: int | None = None
    top_p: float | None = None
    rng_seed: int | None = None  # the one drawn when none was given
    max_copy: int | None = None
    title: str | None = None  # given (a random start's real title is the result's title_words)
    topic: bool = True

    def arguments(self) -> dict:
        """``Generator.generate``'s keyword arguments for these settings."""
        return asdict(self)


@dataclass(slots=True)
class GeneratedWord:
    word: str
    probability: float  # under the model (diversity 1), whatever the sampling settings
    alternatives: list[tuple[str, float]]  # the model's 5 most likely words here
    rank: int = 0  # 1 = the model's first choice (a full sort of its probabilities, <unk> included)


@dataclass
class Generation:
    """What one call to ``generate`` produced, and how."""

    model: str
    mode: str  # "seed", "random" or "title"
    seed_words: list[str]  # as the network read them (title mode: the abstract's given beginning, maybe none)
    generated: list[GeneratedWord]
    actual_words: list[str] | None  # random mode: the real continuation
    unknown_words: list[str]  # seed words the model does not know (read as <unk>)
    notes: list[str]  # e.g. that a long seed was shortened
    settings: Settings
    timings: dict = field(default_factory=dict)  # milliseconds
    # closest real patents and the longest copied span (None without the corpus; see notes)
    originality: Originality | None = None
    # with max_copy: {"max_copy": N, "steered": draws with a word blocked, "mass_removed": their blocked probability}
    copy_guard: dict | None = None
    title_words: list[str] | None = None  # the title the network read first (title models)
    ended: bool = False  # whether the model ended the abstract itself (<end>)

    @property
    def title_text(self) -> str | None:
        return None if self.title_words is None else detokenize(self.title_words)

    @property
    def generated_words(self) -> list[str]:
        return [item.word for item in self.generated]

    @property
    def seed_text(self) -> str:
        return detokenize(self.seed_words)

    @property
    def generated_text(self) -> str:
        return detokenize(self.generated_words)

    @property
    def actual_text(self) -> str | None:
        return None if self.actual_words is None else detokenize(self.actual_words)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a notebook, the page's output view (``web.display``): live, branching in place, while the
        generator that wrote it is; plain text elsewhere."""
        from .web.display import generation_bundle

        return generation_bundle(self, getattr(self, "_generator", None), include, exclude)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(
            seed_text=self.seed_text,
            generated_text=self.generated_text,
            actual_text=self.actual_text,
            title_text=self.title_text,
        )
        return data


def _validate_words(words) -> int | None:
    if words is None:
        return None
    if isinstance(words, bool) or not isinstance(words, numbers.Integral):
        raise InputError("words must be a whole number")
    if not 1 <= int(words) <= MAX_WORDS:
        raise InputError(f"words must be between 1 and {MAX_WORDS}")
    return int(words)


def _validate_max_copy(max_copy) -> int | None:
    if max_copy is None:
        return None
    low, high = MAX_COPY_RANGE
    if isinstance(max_copy, bool) or not isinstance(max_copy, numbers.Integral) or not low <= max_copy <= high:
        raise InputError(f"max_copy must be None or a whole number from {low} to {high}")
    return int(max_copy)


def _validate_rng_seed(rng_seed) -> int:
    if rng_seed is None:
        return secrets.randbelow(MAX_RNG_SEED + 1)
    if isinstance(rng_seed, bool) or not isinstance(rng_seed, numbers.Integral):
        raise InputError("rng_seed must be a whole number")
    if not 0 <= int(rng_seed) <= MAX_RNG_SEED:
        raise InputError(f"rng_seed must be between 0 and {MAX_RNG_SEED}")
    return int(rng_seed)


@dataclass
class Run:
    """One ``generate`` call's checked settings (``Generator._run_settings``)."""

    sampling: SamplingConfig
    limit: int  # words at most
    until_end: bool  # a title model may end the abstract
    topic: bool  # a title model adds its title's topic (``patentrnn.topic``)
    rng: random.Random
    settings: Settings
    started: float
