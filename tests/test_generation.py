"""The public API: both modes, reproducibility, the result object, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import patentrnn
from patentrnn.bundle import PLAIN_MODEL, load_bundle
from patentrnn.generation import MAX_SEED_WORDS, MAX_WORDS
from patentrnn.runtime import Runtime
from patentrnn.vocabulary import END_ID, PAD_ID, UNK_ID


def test_seed_mode_returns_words_probabilities_alternatives_and_settings(generator):
    result = generator.generate("A neural network is trained", words=12, diversity=0.8, rng_seed=7)
    assert result.mode == "seed" and result.seed_words == ["A", "neural", "network", "is", "trained"]
    assert len(result.generated) == 12 and result.actual_words is None
    for item in result.generated:
        assert 0 < item.probability <= 1 and len(item.alternatives) == 5
        assert item.word not in ("<unk>", "<pad>")
    assert result.settings == patentrnn.Settings(words=12, diversity=0.8, rng_seed=7)
    assert result.to_dict()["settings"] == {"words": 12, "diversity": 0.8, "top_k": None, "top_p": None,
                                            "rng_seed": 7, "max_copy": None, "title": None, "topic": True}  # fmt: skip
    assert result.timings["total_ms"] > 0
    assert result.to_dict()["generated_text"] == result.generated_text


def softmax64(logits):
    logits = np.asarray(logits, dtype=np.float64)
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


@pytest.mark.parametrize("name", ["tiny", "tiny-windows"])  # one LSTM layer, two
@pytest.mark.parametrize("settings", [dict(diversity=0), dict(diversity=0.8), dict(diversity=2.5, top_k=40)])
def test_fast_path_reports_what_the_plain_runtime_computes(tiny_env, name, settings):
    # generation runs Cursor + batched Sampler.describe; recompute every word with
    # Runtime.step and float64 softmax: probabilities, exact top 5, greedy choices
    generator = patentrnn.load(name)
    result = generator.generate("A neural network is trained", words=20, rng_seed=5, **settings)
    vocabulary, runtime = generator.vocabulary, Runtime(load_bundle(name))
    state, logits = runtime.read(vocabulary.encode_words(result.seed_words))
    for item in result.generated:
        probabilities = softmax64(logits[: len(vocabulary)])
        word = vocabulary.index[item.word]
        assert item.probability == pytest.approx(probabilities[word], rel=1e-4, abs=1e-9)
        allowed = probabilities.copy()
        allowed[[PAD_ID, UNK_ID]] = -1
        top = np.argsort(-allowed, kind="stable")[:5]
        assert [name for name, _ in item.alternatives] == [vocabulary.words[i] for i in top]
        assert [p for _, p in item.alternatives] == pytest.approx(probabilities[top].tolist(), rel=1e-4)
        if settings["diversity"] == 0:
            assert word == top[0]
        if "top_k" in settings:
            assert word in np.argsort(-allowed)[: settings["top_k"]]
        state, logits = runtime.step(state, word)


def test_a_model_without_titles_writes_every_word_asked_for(data_dir):
    # id 4 is <end> in a title model's vocabulary, and a frequent word in others: it ends nothing there
    generator = patentrnn.load(PLAIN_MODEL)
    assert not generator.titles
    result = generator.generate("A neural network is trained", words=150, rng_seed=2, originality=False)
    assert len(result.generated) == 150 and not result.ended
    assert generator.vocabulary.words[END_ID] in result.generated_words


def test_same_settings_and_rng_seed_give_the_same_words(generator):
    first = generator.generate("A neural network", words=30, diversity=1.2, top_k=50, rng_seed=11)
    again = patentrnn.Generator(load_bundle("tiny")).generate(
        "A neural network", words=30, diversity=1.2, top_k=50, rng_seed=11
    )
    assert first.generated_words == again.generated_words
    other = generator.generate("A neural network", words=30, diversity=1.2, top_k=50, rng_seed=12)
    assert other.generated_words != first.generated_words


def test_drawn_rng_seed_is_reported_and_reproduces(generator):
    result = generator.generate("A neural network", words=15)
    again = generator.generate("A neural network", words=15, rng_seed=result.settings.rng_seed)
    assert result.generated_words == again.generated_words


def test_greedy_is_deterministic_without_a_seed(generator):
    first = generator.generate("A neural network", words=10, diversity=0)
    assert first.generated_words == generator.generate("A neural network", words=10, diversity=0).generated_words


def test_random_mode_gives_seed_generated_and_actual_from_a_test_abstract(generator):
    result = generator.generate(words=20, rng_seed=3)
    assert result.mode == "random" and len(result.seed_words) == 50
    assert len(result.actual_words) == 20 and len(result.generated) == 20
    joined = " ".join(result.seed_words + result.actual_words)
    assert any(joined in " ".join(abstract) for abstract in generator.test_abstracts())
    assert generator.generate(words=20, rng_seed=3).seed_words == result.seed_words


def test_unknown_seed_words_are_reported_not_dropped(generator):
    result = generator.generate("A neural zorblaxian network", words=5, rng_seed=1)
    assert result.unknown_words == ["zorblaxian"] and "zorblaxian" in result.seed_words


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(seed=""), "empty"),
        (dict(seed="   \n\t "), "empty"),
        (dict(seed="qwxz zzyzx"), "knows none"),
        (dict(seed="😀🤖"), "knows none"),
        (dict(seed="A network", diversity=-0.1), "Diversity"),
        (dict(seed="A network", diversity=float("nan")), "finite"),
        (dict(seed="A network", diversity="lots"), "number"),
        (dict(seed="A network", words=0), "between 1 and"),
        (dict(seed="A network", words=MAX_WORDS + 1), "between 1 and"),
        (dict(seed="A network", words=2.5), "whole number"),
        (dict(seed="A network", rng_seed=-1), "rng_seed"),
        (dict(seed=123), "text"),
    ],
)
def test_bad_input_is_a_clear_value_error(generator, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generator.generate(**kwargs)


def test_unknown_model_and_path_names_are_refused(tiny_env):
    with pytest.raises(ValueError, match="unknown model"):
        patentrnn.load("no-such-model")
    for name in ("../tiny", "/etc/passwd", "tiny/..", ""):
        with pytest.raises(ValueError):
            patentrnn.load(name or "..")


def test_a_megabyte_seed_keeps_the_last_words_and_says_so(generator):
    result = generator.generate("A neural network " * 70_000, words=5, rng_seed=1)
    assert len(result.seed_words) == MAX_SEED_WORDS
    assert result.notes and "last" in " ".join(result.notes)


def test_control_characters_emoji_and_right_to_left_text(generator):
    result = generator.generate("A\x00 neural\u202e network 🤖 שלום", words=5, rng_seed=1)
    assert "\x00" not in "".join(result.seed_words) and "\u202e" not in "".join(result.seed_words)
    assert "🤖" in result.unknown_words and "שלום" in result.unknown_words
    assert len(result.generated) == 5
