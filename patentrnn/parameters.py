"""Every generation setting that a visitor or a program may give, defined once: its names, range,
default, description and error message.

The page's form and its URL (``web.query.Query``) and the HTTP API (``patentrnn.api``) check values here,
and the API's OpenAPI document is written from these definitions:

    >>> PARAMETERS["diversity"].check(9)
    Traceback (most recent call last):
    ...
    patentrnn.errors.InputError: Diversity must be between 0.5 and 5.
    >>> PARAMETERS["diversity"].check(9, PARAMETERS["diversity"].api)  # the API names its own field
    Traceback (most recent call last):
    ...
    patentrnn.errors.InputError: temperature must be between 0.5 and 5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import InputError
from .result import MAX_COPY_RANGE, MAX_RNG_SEED
from .sampling import DEFAULT_DIVERSITY

NO_COPY = 7  # the page's max_copy: no copied run reaches the memorisation figure's 8 words
MAX_TOP_N = 5  # alternatives a word: the sampler describes the model's 5 most likely words


@dataclass(frozen=True)
class Parameter:
    """One setting. ``name``: the form's field and URL parameter; ``api``: the HTTP API's field (TGI's
    name where TGI has one); ``label``: what the form calls it, and its messages name."""

    name: str
    api: str
    label: str
    kind: type  # int, float
    bounds: tuple
    default: int | float | None
    description: str

    def check(self, value, field: str | None = None):
        """``value``, or an InputError naming ``field`` (default: the label) with the range."""
        whole = self.kind is int
        kind = int if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
            raise InputError(self.message(field))
        if not self.bounds[0] <= value <= self.bounds[1]:
            raise InputError(self.message(field))
        return value

    def message(self, field: str | None = None) -> str:
        low, high = (f"{bound:g}" if isinstance(bound, float) else str(bound) for bound in self.bounds)
        return f"{field or self.label} must be between {low} and {high}."

    def schema(self) -> dict:
        """Its JSON Schema (OpenAPI 3.1)."""
        kind = "integer" if self.kind is int else "number"
        schema = {"type": [kind, "null"], "minimum": self.bounds[0], "maximum": self.bounds[1]}
        return {**schema, "default": self.default, "description": self.description}


PARAMETERS = {
    parameter.name: parameter
    for parameter in (
        Parameter("words", "max_new_tokens", "Number of words", int, (10, 100), 50,
                  "Words to write. Absent or null with a title model: until the model ends the abstract "
                  "(at most 300 words)."),
        Parameter("diversity", "temperature", "Diversity", float, (0.5, 5.0), DEFAULT_DIVERSITY,
                  "The sampling temperature: low keeps to the likeliest words, high takes risks."),
        Parameter("top_k", "top_k", "top_k", int, (1, 1000), 40,
                  "Sample among the k likeliest words only (the form's default when it is switched on)."),
        Parameter("top_p", "top_p", "top_p", float, (0.01, 1.0), 0.9,
                  "Sample among the likeliest words that make up this probability (nucleus sampling)."),
        Parameter("rng_seed", "seed", "rng_seed", int, (0, MAX_RNG_SEED), None,
                  "Makes the words reproducible; drawn, and reported, when absent."),
        Parameter("max_copy", "max_copy", "max_copy", int, MAX_COPY_RANGE, NO_COPY,
                  "No run of more than this many words is copied from a training abstract; null: no check. "
                  "The page offers only the default, or off."),
        Parameter("top_n", "top_n_tokens", "Alternatives", int, (0, MAX_TOP_N), 0,
                  "The model's likeliest words at each position, with their log-probabilities."),
    )
}  # fmt: skip
