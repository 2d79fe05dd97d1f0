"""The continuous cache: the word-at-a-time mixture (``Cache.mix`` in ``Cursor``) is the whole-text one
(``mixed_log_loss``) at any temperature, it never offers the last words read, it is chosen on the
validation split, scoring uses it and generation does not."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli

from patentrnn.bundle import BundleError, load_bundle
from patentrnn.cache import Cache, CacheConfig
from patentrnn.evaluation import log_loss
from patentrnn.generation import Generator
from patentrnn.runtime import Cursor, Runtime
from patentrnn.train.examples import titled_sequence
from patentrnn.tuning import mixed_log_loss, read_states, tune_cache
from patentrnn.vocabulary import ABSTRACT_ID

TEXT = "A valve for heating is disclosed . The valve has a heating element . The heating element heats the valve ."


def with_cache(directory, name: str, tmp_path, config: CacheConfig | None):
    """A copy of bundle ``name`` whose card has ``config`` as its cache."""
    shutil.copytree(directory / name, tmp_path / name)
    card_path = tmp_path / name / "card.json"
    card = json.loads(card_path.read_text())
    card["cache"] = None if config is None else {"theta": config.theta, "weight": config.weight, "skip": config.skip}
    card_path.write_text(json.dumps(card))
    return load_bundle(name, tmp_path)


def log_softmax(row: np.ndarray) -> np.ndarray:
    row = row.astype(np.float64)
    return row - row.max() - np.log(np.exp(row - row.max()).sum())


@pytest.mark.parametrize("config", [CacheConfig(2.0, 0.3, 0), CacheConfig(0.5, 0.1, 2)])
@pytest.mark.parametrize("temperature", [1.0, 1.7])
@pytest.mark.parametrize("name", ["tiny-title", "tiny-windows"])  # a title and one layer; two layers
def test_a_word_at_a_time_is_the_whole_text_mixture(tiny_models, tmp_path, config, temperature, name):
    bundle = with_cache(tiny_models, name, tmp_path, config)
    runtime = Runtime(bundle)
    if name == "tiny-title":
        tokens = titled_sequence(bundle.vocabulary, TEXT, "Valve for heating")[0]
        first = int(np.flatnonzero(tokens == ABSTRACT_ID)[0])  # (its next word is the first scored)
    else:
        tokens, first = np.asarray(bundle.vocabulary.encode(TEXT)), 0
    states, log_probabilities = read_states(runtime, tokens)
    [expected] = mixed_log_loss(states, tokens, log_probabilities, first, [config])
    network = -log_probabilities[first:].sum()
    cursor = Cursor(runtime, tokens[: first + 1])
    assert cursor.cache is not None
    total = 0.0
    for position in range(first + 1, len(tokens)):
        row = cursor.logits(temperature, shift=3.0)[: runtime.vocab_size] * temperature  # (back to temperature 1)
        total -= log_softmax(row)[tokens[position]]
        cursor.feed(int(tokens[position]))
    assert total == pytest.approx(expected, rel=1e-5)
    cards = log_loss(runtime, list(tokens[: first + 1]), list(tokens[first + 1 :]), 0, cache=True)  # (title-figures')
    assert cards == (pytest.approx(expected, rel=1e-9), len(tokens) - first - 1)
    assert expected < network  # the words of this text come back, and the cache saw them coming


def test_the_cache_never_offers_the_last_words_read():
    scratch = np.empty(10, dtype=np.float32)
    cache = Cache(CacheConfig(1.0, 0.5, skip=2), units=3, scratch=scratch, capacity=1)
    state = np.ones(3, dtype=np.float32)
    for token in (7, 1, 8, 9):  # 1 is <unk>: never cached
        cache.add(state, token)
    assert cache.ids.tolist() == [7] and cache.count == 1  # 8 and 9 are the last two read
    logits = np.zeros(10, dtype=np.float32)
    cache.mix(logits, state, 1.0)
    assert logits[7] > 0 and (np.delete(logits, 7) == 0).all()
    cache.add(state, 9)  # 8 now comes back, and the keys grow past their first capacity
    assert cache.ids.tolist() == [7, 8] and len(cache.keys) >= 2


def test_a_card_without_a_cache_runs_the_network_alone(tiny_models, tmp_path):
    assert Runtime(load_bundle("tiny", tiny_models)).cache_config is None
    assert Cursor(Runtime(with_cache(tiny_models, "tiny", tmp_path, None)), [5, 6]).cache is None
    card_path = tmp_path / "tiny" / "card.json"
    card_path.write_text(json.dumps({**json.loads(card_path.read_text()), "cache": {"weight": 0.2}}))
    with pytest.raises(BundleError, match="theta, weight and skip"):
        Runtime(load_bundle("tiny", tmp_path))
    with pytest.raises(ValueError, match="weight"):
        CacheConfig(1.0, 1.0)


def test_tuning_chooses_a_cache_that_helps_on_validation(tiny_models):
    bundle = load_bundle("tiny-tied", tiny_models)
    texts = [(bundle.vocabulary.encode(TEXT), 0), (bundle.vocabulary.encode(TEXT.lower()), 0)]
    figures = tune_cache(Runtime(bundle), texts, thetas=(0.5, 2.0), weights=(0.1, 0.3), skips=(0, 2))
    assert figures["weight"] in (0.1, 0.3) and figures["skip"] in (0, 2)
    assert figures["validation_log_loss_cache"] < figures["validation_log_loss_network"]
    assert figures["validation_words"] == sum(len(tokens) - 1 for tokens, _ in texts)


def test_scoring_uses_the_cache_and_generation_does_not(tiny_models, tmp_path):
    plain = Generator(load_bundle("tiny-tied", tiny_models))
    cached = Generator(with_cache(tiny_models, "tiny-tied", tmp_path, CacheConfig(2.0, 0.3, 2)))
    assert cached.score(TEXT).log_loss < plain.score(TEXT).log_loss
    settings = dict(seed="A valve for heating", words=30, rng_seed=4, originality=False)
    first, second = plain.generate(**settings), cached.generate(**settings)
    assert first.generated_words == second.generated_words
    assert [w.probability for w in first.generated] == [w.probability for w in second.generated]


def test_the_cache_command_writes_the_card(tiny_models, tmp_path, data_dir):
    shutil.copytree(tiny_models / "tiny-tied", tmp_path / "tiny-tied")
    done = run_cli("cache", "--model", "tiny-tied", "--models-dir", str(tmp_path), "--write")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)["tiny-tied"]
    card = json.loads((tmp_path / "tiny-tied" / "card.json").read_text())
    assert card["cache"] == figures and figures["validation_words"] > 0
    if figures["weight"] is None:  # no setting of the grid helped on validation
        assert figures["validation_log_loss_cache"] >= figures["validation_log_loss_network"]
        assert Runtime(load_bundle("tiny-tied", tmp_path)).cache_config is None
    else:
        assert figures["validation_log_loss_cache"] < figures["validation_log_loss_network"]
        assert "test_log_loss_cache" in figures
        assert Runtime(load_bundle("tiny-tied", tmp_path)).cache_config == CacheConfig(
            figures["theta"], figures["weight"], figures["skip"]
        )
