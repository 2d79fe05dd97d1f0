"""Generator.score: log loss as Keras computes it, ranks as a full sort gives them, bad input refused."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from conftest import run_cli

import patentrnn
from patentrnn.bundle import PLAIN_MODEL, keras_model, load_bundle
from patentrnn.corpus import load_corpus, split_abstracts
from patentrnn.generation import Generator
from patentrnn.scoring import MAX_SCORE_CHARACTERS, MAX_SCORE_WORDS, bucket_of, bucket_shares
from patentrnn.vocabulary import PAD_ID, UNK_ID


def softmax64(logits):
    logits = np.asarray(logits, dtype=np.float64)
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    return exp / exp.sum(-1, keepdims=True)


def test_log_loss_agrees_with_keras_on_real_abstracts(data_dir):
    bundle = load_bundle(PLAIN_MODEL)  # (the default title model's own reading: tests/test_runtime.py)
    generator = patentrnn.load(PLAIN_MODEL)
    assert generator.runtime.cache_config is not None  # (scoring's usual reader: tests/test_cache.py)
    network = Generator(dataclasses.replace(bundle, card={**bundle.card, "cache": None}))  # what Keras computes
    model = keras_model(bundle)
    abstracts = split_abstracts(load_corpus(bundle.card["corpus"]["name"]).abstracts, bundle.split).test[:4]
    totals = [0.0, 0.0]  # (log loss of the network alone, with the cache)
    for text in abstracts:
        ids = bundle.vocabulary.encode(text)
        logits = np.asarray(model(np.array([ids]), training=False))[0][:-1].astype(np.float64)
        log_z = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
        expected = float((log_z - logits[np.arange(len(ids) - 1), ids[1:]]).mean())
        score = network.score(text)
        totals = [totals[0] + score.log_loss, totals[1] + generator.score(text).log_loss]
        assert [word.word for word in score.words] == bundle.vocabulary.tokenize(text)
        assert abs(score.log_loss - expected) <= 1e-4, (score.log_loss, expected)
        assert score.perplexity == pytest.approx(math.exp(expected), rel=1e-3)
        # each word's probability is Keras's too
        keras_p = softmax64(logits)[np.arange(len(ids) - 1), ids[1:]]
        assert [word.probability for word in score.words[1:]] == pytest.approx(keras_p.tolist(), rel=1e-3, abs=1e-7)
    assert totals[1] < totals[0]  # the cache reads abstracts better (not each one)


@pytest.mark.parametrize("name", ["tiny", "tiny-windows"])
def test_ranks_and_alternatives_agree_with_a_full_sort(tiny_env, name):
    generator = patentrnn.load(name)
    text = "A neural network is trained on images, and an unheardofword is read as unknown."
    score = generator.score(text)
    # the generator's own runtime: a tiny model's probabilities are nearly flat, and
    # another runtime's round-off would reorder near-ties
    vocabulary, runtime = generator.vocabulary, generator.runtime
    ids = vocabulary.encode_words([word.word for word in score.words])
    assert [word.word for word in score.words][-4:] == ["read", "as", "unknown", "."]  # cleaned like training text
    probabilities = softmax64(runtime.sequence_logits(ids)[:, : len(vocabulary)])
    assert score.words[0].probability is None and score.words[0].rank is None
    assert "unheardofword" in score.unknown_words
    for position, word in enumerate(score.words[1:], start=1):
        row, target = probabilities[position - 1], ids[position]
        order = np.argsort(-row, kind="stable")
        assert word.rank == int(np.nonzero(order == target)[0][0]) + 1
        assert word.probability == pytest.approx(row[target], rel=1e-4)
        allowed = [i for i in order if i not in (PAD_ID, UNK_ID)][:5]
        assert [w for w, _ in word.alternatives] == [vocabulary.words[i] for i in allowed]
        assert [p for _, p in word.alternatives] == pytest.approx(row[allowed].tolist(), rel=1e-4)
    nll = -np.mean([math.log(probabilities[p - 1][ids[p]]) for p in range(1, len(ids))])
    assert score.log_loss == pytest.approx(nll, abs=1e-5)


def test_generated_words_carry_the_rank_that_scoring_gives(tiny_env):
    generator = patentrnn.load("tiny")
    for settings in (dict(diversity=0.8), dict(diversity=2.0), dict(diversity=0), dict(diversity=1.2, top_p=0.9)):
        result = generator.generate("A neural network is trained", words=20, rng_seed=3, **settings)
        score = generator.score(" ".join(result.seed_words + result.generated_words))
        expected = [word.rank for word in score.words[len(result.seed_words) :]]
        assert [item.rank for item in result.generated] == expected, settings
        if settings["diversity"] == 0:
            assert all(item.rank <= 2 for item in result.generated)  # <unk> may rank above the choice


def test_buckets_follow_gltr():
    assert [bucket_of(rank) for rank in (1, 10, 11, 100, 101, 1000, 1001)] == [0, 0, 1, 1, 2, 2, 3]
    assert bucket_shares([1, 2, 50, 5000]) == [0.5, 0.25, 0.0, 0.25]
    assert bucket_shares([]) == [0.0] * 4


def test_score_reports_shares_and_serialises(tiny_env):
    score = patentrnn.load("tiny").score("A neural network is trained on data.")
    assert sum(score.shares) == pytest.approx(1.0)
    data = score.to_dict()
    assert data["perplexity"] == pytest.approx(score.perplexity) and len(data["words"]) == len(score.words)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\x00\u200b", "empty"),
        ("network", "at least two words"),
        ("word " * (MAX_SCORE_WORDS + 1), "at most"),
        ("x" * (MAX_SCORE_CHARACTERS + 1), "too long"),
        (None, "must be a string"),
        (42, "must be a string"),
    ],
)
def test_bad_text_is_refused_with_a_clear_message(tiny_env, text, message):
    with pytest.raises(ValueError, match=message):
        patentrnn.load("tiny").score(text)


def test_cli_scores_text_and_files(tiny_env, tmp_path):
    env = {"PATENTRNN_MODELS": str(tiny_env)}
    text = "A neural network is trained on images."
    done = run_cli("score", "--model", "tiny", "--text", text, "--json", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    expected = patentrnn.load("tiny").score(text)
    assert data["perplexity"] == pytest.approx(expected.perplexity) and len(data["words"]) == len(expected.words)
    path = tmp_path / "text.txt"
    path.write_text(text)
    done = run_cli("score", "--model", "tiny", "--file", str(path), env=env)
    assert done.returncode == 0 and f"perplexity {expected.perplexity:.2f}" in done.stdout
    done = run_cli("score", "--model", "tiny", "--text", "   ", env=env)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "empty" in done.stderr
