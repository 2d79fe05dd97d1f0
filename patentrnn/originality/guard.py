"""``max_copy``: steer generation away from copying the training text, word by word."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import Index

NO_COPY_CHECK = "Words were not steered away from copies: that needs the model's corpus, which is not available here."
ALL_BLOCKED = "Every word would have copied the training text at one step: the most likely word was taken there."


@dataclass
class CopyGuard:
    """``max_copy``: before each draw, the words that would make the output's last ``span`` words
    (seed words included) a run of ``span + 1`` training words are blocked (the originality
    index's suffix array, ``Index.continuations``); counts what it did."""

    index: Index
    span: int
    history: list[int]  # the output's word ids so far, seed first
    allowed: int  # words the sampler may draw at all
    steered: int = 0  # draws with at least one word blocked
    removed: float = 0.0  # their blocked probability (at diversity 1), summed
    all_blocked: int = 0

    def blocked(self, logits: np.ndarray, temperature: float) -> list[int]:
        """This step's blocked ids; ``logits`` is the sampler's row, ``(logits - shift) / temperature``."""
        blocked = self.index.continuations(self.history[-self.span :]) if len(self.history) >= self.span else []
        if not blocked:
            return blocked
        if len(blocked) >= self.allowed:
            self.all_blocked += 1
            return []
        weights = np.exp((logits - logits.max()) * temperature)
        self.steered += 1
        self.removed += float(weights[blocked].sum() / weights.sum())
        return blocked

    def record(self, word: int) -> None:
        """The word drawn: the next step's run ends with it."""
        self.history.append(word)

    def summary(self) -> dict:
        return {"max_copy": self.span, "steered": self.steered, "mass_removed": round(self.removed, 6)}
