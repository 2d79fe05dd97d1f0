"""``generate(max_copy=N)``: no run of more than N words of the output is a training abstract's,
on the default model and its corpus (the originality index); the page's control."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from patentrnn import corpus
from patentrnn.sampling import Sampler, SamplingConfig
from patentrnn.web import App
from patentrnn.web.query import NO_COPY

SPAN = 8  # the memorisation figure's copied run




@pytest.fixture(scope="module")
def training_seed(default_generator, data_dir) -> str:
    """A training abstract's first 20 words."""
    _, path = corpus.locate(default_generator.bundle.card["corpus"]["name"], data_dir)
    split = default_generator.bundle.split
    text = next(t for t in itertools.islice(corpus.iter_abstracts(path), 500) if corpus.part_of(t, split) == "train")
    return " ".join(default_generator.vocabulary.tokenize(text)[:20])


def copied_past_seed(result) -> int:
    """The longest copied run that reaches past the seed (0 if none)."""
    copy = result.originality.longest_copy
    return copy.length if copy and copy.start + copy.length > len(result.seed_words) else 0


def test_greedy_from_a_training_abstract_copies_without_the_option_and_not_with_it(default_generator, training_seed):
    plain = default_generator.generate(training_seed, words=40, diversity=0, rng_seed=1)
    guarded = default_generator.generate(training_seed, words=40, diversity=0, rng_seed=1, max_copy=7)
    assert copied_past_seed(plain) >= SPAN, "the unguarded greedy text copies its abstract on"
    assert copied_past_seed(guarded) <= 7, guarded.originality.longest_copy
    assert guarded.copy_guard["steered"] >= 1 and guarded.settings.max_copy == 7


def test_fifty_random_generations_never_copy_more_than_seven_words(default_generator):
    for rng_seed in range(50):
        result = default_generator.generate(words=60, rng_seed=rng_seed, max_copy=7)
        copy = result.originality.longest_copy
        assert copy is None or copy.length <= 7, (rng_seed, copy)


@pytest.mark.parametrize("config", [SamplingConfig(0.8, 20, None), SamplingConfig(0.8, None, 0.9), SamplingConfig(1.5)])
def test_top_k_top_p_and_high_diversity_respect_it(default_generator, training_seed, config):
    result = default_generator.generate(
        training_seed, words=30, diversity=config.diversity, top_k=config.top_k, top_p=config.top_p,
        rng_seed=4, max_copy=5,
    )  # fmt: skip
    assert copied_past_seed(result) <= 5


def test_a_seed_the_corpus_never_has_generates_the_same_words(default_generator):
    words = default_generator.vocabulary.words
    seed = " ".join(words[-40:-20][::-1])  # rare words, backwards: no training run holds them in this order
    for rng_seed in range(3):
        plain = default_generator.generate(seed, words=7, rng_seed=rng_seed)
        guarded = default_generator.generate(seed, words=7, rng_seed=rng_seed, max_copy=7)
        assert guarded.generated_words == plain.generated_words
        assert guarded.copy_guard["steered"] == 0


@pytest.mark.parametrize("bad", [0, -1, 51, 1.5, "7", True])
def test_bad_values_get_a_clear_error(default_generator, bad):
    with pytest.raises(ValueError, match="max_copy"):
        default_generator.generate("A neural network", words=5, max_copy=bad)


def test_none_changes_nothing(default_generator):
    a = default_generator.generate("A neural network", words=30, rng_seed=9)
    b = default_generator.generate("A neural network", words=30, rng_seed=9, max_copy=None)
    assert a.generated_words == b.generated_words and b.copy_guard is None


def test_the_sampler_never_draws_a_blocked_word():
    sampler = Sampler(40, banned=(0, 1))
    logits = np.zeros(sampler.rows.shape[1], np.float32)
    logits[5], logits[6] = 9.0, 8.0  # 5 then 6 are the likely words
    rng = random.Random(0)
    configs = (SamplingConfig(0), SamplingConfig(0.5), SamplingConfig(1.0, 2, None), SamplingConfig(1.0, None, 0.5))
    for config in configs:
        for _ in range(20):
            sampler.rows[0, :] = logits / sampler.temperature(config)
            assert sampler.draw(0, config, rng, blocked=[5]) != 5


# --- the page ------------------------------------------------------------------------------------




def test_the_page_control_is_on_by_default_and_its_permalink_reproduces_a_copy(default_app, training_seed):
    assert default_app.form.no_copy.value is True and NO_COPY == 7
    default_app.form.seed.value = training_seed
    default_app.form.diversity.value = 0.5
    default_app.form.words.value = 40
    default_app.form.rng_seed.value = "1"
    default_app.generate()
    assert copied_past_seed(default_app.result) <= 7 and "steered away from a copy" in default_app.status.value
    default_app.form.no_copy.value = False
    default_app.generate()
    copied = default_app.result
    assert copied_past_seed(copied) >= SPAN, "with the control off this seed's text copies"
    query = default_app.permalink_query(copied)
    assert "max_copy=off" in query
    again = App()
    assert again.apply_query(query) == []
    assert again.form.no_copy.value is False and again.result.generated_words == copied.generated_words
