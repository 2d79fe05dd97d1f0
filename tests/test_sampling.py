"""Sampling on fake logits: greedy, temperature, top-k, top-p, reproducibility, bad settings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from patentrnn.sampling import Sampler, SamplingConfig, reference_sample


def peaked(vocab=1000, winners=(7,), value=10.0):
    logits = np.zeros(vocab, dtype=np.float32)
    logits[list(winners)] = value
    return logits


def test_diversity_zero_is_greedy_and_banned_words_are_never_chosen():
    sampler = Sampler(1000, banned=(0, 1))
    logits = peaked(winners=(1,), value=50.0)
    logits[500] = 20.0
    choice, probability, alternatives = sampler.choose(logits, SamplingConfig(0), np.random.default_rng(0))
    assert choice == 500
    assert alternatives[0][0] == 500 and all(i not in (0, 1) for i, _ in alternatives) and len(alternatives) == 5
    assert probability == pytest.approx(math.exp(-30), rel=1e-3)


def test_top_alternatives_are_exact_and_ordered():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=16_500).astype(np.float32)
    sampler = Sampler(len(logits))
    _, _, alternatives = sampler.choose(logits, SamplingConfig(1.0), rng)
    assert [i for i, _ in alternatives] == np.argsort(-logits)[:5].tolist()
    total = np.exp(logits.astype(np.float64) - logits.max()).sum()
    assert alternatives[0][1] == pytest.approx(np.exp(logits.max() - logits.max()) / total, rel=1e-5)


def test_sampling_follows_softmax_of_logits_over_diversity():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05] + [1e-9] * 300, dtype=np.float32))
    sampler, rng = Sampler(len(logits)), np.random.default_rng(2)
    for diversity in (0.5, 1.0, 2.0):
        counts = np.bincount(
            [sampler.choose(logits, SamplingConfig(diversity), rng)[0] for _ in range(6000)], minlength=4
        )[:4]
        expected = np.exp(logits[:4].astype(np.float64) / diversity)
        expected /= np.exp(logits.astype(np.float64) / diversity).sum()
        assert np.allclose(counts / 6000, expected, atol=0.03), (diversity, counts)


def test_draws_survive_a_shift_far_from_the_largest_logit():
    # generation shifts logits by the seed's largest one; a later word's may be far off
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05] + [1e-9] * 300, dtype=np.float32))
    sampler, rng = Sampler(len(logits)), np.random.default_rng(6)
    for diversity, offset in ((0.8, 150.0), (0.8, -150.0), (2.0, 300.0), (0.05, 3.0)):
        config = SamplingConfig(diversity)
        draws = []
        for _ in range(3000):
            row = sampler.rows[0]
            row[:] = -1e30
            row[: len(logits)] = (logits + offset) / sampler.temperature(config)
            draws.append(sampler.draw(0, config, rng))
        counts = np.bincount(draws, minlength=4)[:4] / 3000
        expected = np.exp(logits[:4].astype(np.float64) / diversity)
        expected /= np.exp(logits.astype(np.float64) / diversity).sum()
        assert np.allclose(counts, expected, atol=0.03), (diversity, offset, counts)


def test_rejection_falls_back_when_a_banned_word_holds_nearly_all_the_mass():
    # proposals come from the model's distribution, banned words included: here 99.99%
    # of them are the banned word, so the draw must weigh the words directly
    logits = np.zeros(50, dtype=np.float32)
    logits[1] = 15.0
    logits[7] = 1.0
    sampler, rng = Sampler(50, banned=(0, 1)), np.random.default_rng(7)
    draws = [sampler.choose(logits, SamplingConfig(0.5), rng)[0] for _ in range(2000)]
    assert 1 not in draws
    share = draws.count(7) / len(draws)
    expected = math.exp(2.0) / (math.exp(2.0) + 47)
    assert abs(share - expected) < 0.04, share


def test_batched_description_matches_one_row_at_a_time():
    rng = np.random.default_rng(8)
    sampler = Sampler(3000, banned=(0, 1))
    logits = rng.normal(scale=3.0, size=(5, 3000)).astype(np.float32)
    chosen = [11, 12, 13, 14, 15]
    one_by_one = [sampler.choose(row, SamplingConfig(1.0), rng) for row in logits]
    rows = sampler.rows[:5]
    rows[:] = -1e30  # (padding, as the runtime writes it)
    rows[:, :3000] = (logits - logits.max(axis=1, keepdims=True)) / 2.0
    probabilities, ids, offered = sampler.describe(5, chosen, SamplingConfig(2.0))
    for row_ids, row_offered, (_, _, single) in zip(ids, offered, one_by_one):
        assert row_ids == [i for i, _ in single]
        assert row_offered == pytest.approx([p for _, p in single], rel=1e-5)
    expected = [np.exp(row[c] - row.max()) / np.exp(row - row.max()).sum() for row, c in zip(logits, chosen)]
    assert probabilities == pytest.approx(expected, rel=1e-4)


def test_reference_draw_has_the_same_distribution():
    probabilities = np.array([0.6, 0.3, 0.1])
    rng = np.random.default_rng(3)
    counts = np.bincount([reference_sample(probabilities, 0.8, rng) for _ in range(4000)], minlength=3)
    expected = probabilities ** (1 / 0.8) / (probabilities ** (1 / 0.8)).sum()
    assert np.allclose(counts / 4000, expected, atol=0.03)


def test_top_k_and_top_p_restrict_the_choice():
    logits = np.log(np.array([0.4, 0.3, 0.2, 0.1], dtype=np.float32))
    sampler, rng = Sampler(4), np.random.default_rng(4)
    chosen_k = {sampler.choose(logits, SamplingConfig(5.0, top_k=2), rng)[0] for _ in range(300)}
    assert chosen_k == {0, 1}
    chosen_p = {sampler.choose(logits, SamplingConfig(1.0, top_p=0.65), rng)[0] for _ in range(300)}
    assert chosen_p == {0, 1}


def test_same_rng_seed_same_draws():
    logits = np.random.default_rng(5).normal(size=5000).astype(np.float32)
    sampler = Sampler(5000)

    def draws(seed):
        rng = np.random.default_rng(seed)
        return [sampler.choose(logits, SamplingConfig(1.3), rng)[0] for _ in range(50)]

    assert draws(9) == draws(9) and draws(9) != draws(10)


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(diversity=-1), "between 0.01 and 5"),
        (dict(diversity=5.5), "between 0.01 and 5"),
        (dict(diversity=1e-300), "between 0.01 and 5"),
        (dict(diversity=float("nan")), "finite"),
        (dict(diversity=float("inf")), "finite"),
        (dict(diversity="0.8"), "must be a number"),
        (dict(diversity=True), "must be a number"),
        (dict(top_k=0), "top_k"),
        (dict(top_k=2.5), "whole number"),
        (dict(top_p=0), "top_p"),
        (dict(top_p=1.5), "top_p"),
    ],
)
def test_bad_settings_are_clear_value_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        SamplingConfig(**settings).validated(100)


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_own_probability_is_the_models_whatever_the_temperature(temperature):
    logits = np.random.default_rng(0).normal(0, 3, 300).astype(np.float32)
    sampler = Sampler(300, banned=(0, 1))
    sampler.rows[0, :300] = (logits - 2.0) / temperature  # as the runtime writes them: shifted, tempered
    expected = np.exp(logits.astype(np.float64) - logits.max())
    expected /= expected.sum()  # (banned words' probability counts, as everywhere)
    for word in (0, 5, int(logits.argmax())):
        assert sampler.own_probability(0, word, temperature) == pytest.approx(expected[word], rel=1e-5)
