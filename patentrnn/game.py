"""Guess the human: which of three continuations did a person write?

The reference demo's game as a widget: a random real abstract's first 50 words,
then its real continuation and two written by the network, shuffled. The player
picks one; the score is kept.
"""

from __future__ import annotations

import random
from html import escape

import ipywidgets as widgets

from .generation import Generator
from .sampling import DEFAULT_DIVERSITY


class GuessTheHuman:
    """A round at a time; ``pick(i)`` answers it, ``new_round()`` starts the next."""

    def __init__(
        self, generator: Generator, words: int = 30, diversity: float = DEFAULT_DIVERSITY, rng_seed: int | None = None
    ):
        self.generator, self.words, self.diversity = generator, words, diversity
        self.rng = random.Random(rng_seed)
        self.score = self.rounds = 0
        self.answer: int | None = None
        self.seed = widgets.HTML()
        self.choices = [widgets.Button(description=f"Option {i + 1}", layout={"width": "8em"}) for i in range(3)]
        self.texts = widgets.HTML()
        self.verdict = widgets.HTML()
        self.next = widgets.Button(description="Next round")
        for i, button in enumerate(self.choices):
            button.on_click(lambda _, i=i: self.pick(i))
        self.next.on_click(lambda _: self.new_round())
        self.container = widgets.VBox([self.seed, self.texts, widgets.HBox(self.choices), self.verdict, self.next])
        self.new_round()

    def new_round(self) -> None:
        first = self.generator.generate(words=self.words, diversity=self.diversity,
                                        rng_seed=self.rng.randrange(2**32))  # fmt: skip
        second = self.generator.generate(" ".join(first.seed_words), words=self.words, diversity=self.diversity,
                                         rng_seed=self.rng.randrange(2**32))  # fmt: skip
        options = [first.actual_text, first.generated_text, second.generated_text]
        order = [0, 1, 2]
        self.rng.shuffle(order)
        self.options = [options[i] for i in order]
        self.answer = order.index(0)
        self.seed.value = f"<b>Seed:</b> {escape(first.seed_text)} …"
        self.texts.value = "".join(
            f"<p><b>Option {i + 1}:</b> … {escape(text)}</p>" for i, text in enumerate(self.options)
        )
        self.verdict.value = ""
        for button in self.choices:
            button.disabled = False

    def pick(self, choice: int) -> bool:
        """Answer the round; returns whether the pick was the human's text."""
        if self.answer is None:
            return False
        right = choice == self.answer
        self.rounds += 1
        self.score += right
        verdict = "Right, a person wrote that." if right else f"No: a person wrote option {self.answer + 1}."
        self.verdict.value = f"{verdict} Score: {self.score} / {self.rounds}"
        self.answer = None
        for button in self.choices:
            button.disabled = True
        return right
