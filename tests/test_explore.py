"""Exploration helpers: the zoo table, nearest words, the embedding map, the guessing game."""

from __future__ import annotations

import numpy as np
import pytest

from patentrnn.bundle import load_bundle
from patentrnn.explore import REFERENCE_RESULTS, embedding_map, nearest_words, table_html, zoo_rows
from patentrnn.game import GuessTheHuman
from patentrnn.generation import Generator
from patentrnn.vocabulary import detokenize


def test_zoo_puts_our_test_metrics_beside_the_reference(tiny_models):
    rows = zoo_rows(tiny_models)
    assert [row["model"] for row in rows[:4]] == ["tiny", "tiny-tied", "tiny-title", "tiny-windows"]
    assert len(rows) == 4 + len(REFERENCE_RESULTS) and rows[-1]["log loss"] == 4.59
    html = table_html(rows)
    assert html.count("<tr>") == len(rows) + 1 and "overlaps training" in html


def test_nearest_words_are_by_cosine_and_exclude_the_word(tiny_models):
    bundle = load_bundle("tiny", tiny_models)
    neighbours = nearest_words(bundle, "network", 5)
    assert len(neighbours) == 5 and "network" not in [w for w, _ in neighbours]
    assert all(a[1] >= b[1] for a, b in zip(neighbours, neighbours[1:]))
    with pytest.raises(ValueError, match="not in the model's vocabulary"):
        nearest_words(bundle, "zorblax")


def test_embedding_map_is_two_dimensional_for_the_most_frequent_words(tiny_models):
    bundle = load_bundle("tiny", tiny_models)
    words, points = embedding_map(bundle, 30)
    assert words == bundle.vocabulary.words[2:32] and points.shape == (30, 2) and np.isfinite(points).all()


def test_guess_the_human_keeps_score(tiny_models):
    generator = Generator(load_bundle("tiny", tiny_models))
    game = GuessTheHuman(generator, words=10, rng_seed=3)
    real = [detokenize(abstract) for abstract in generator.test_abstracts()]
    assert len(game.options) == 3 and any(game.options[game.answer] in text for text in real)  # the person's words
    assert all(game.options[i] != game.options[game.answer] for i in range(3) if i != game.answer)
    assert game.pick(game.answer) is True and game.score == 1 and game.rounds == 1
    assert all(button.disabled for button in game.choices)
    game.new_round()
    wrong = (game.answer + 1) % 3
    assert game.pick(wrong) is False and game.score == 1 and game.rounds == 2
    assert "Score: 1 / 2" in game.verdict.value
