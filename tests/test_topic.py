"""A title's topic: drawn from the training abstracts closest to the title (never the other parts), a
bonus only on the words they use, the same a word at a time as for whole texts, used by generation
and scoring when the card has one, chosen on the validation split, and off with ``topic=False``."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run_cli

from patentrnn import originality
from patentrnn.bundle import BundleError, load_bundle
from patentrnn.evaluation import log_loss
from patentrnn.generation import NO_TOPIC, Generator
from patentrnn.runtime import Cursor, Runtime
from patentrnn.topic import TopicConfig, Topics
from patentrnn.train.examples import titled_sequence
from patentrnn.tuning import read_states, tune_topic
from patentrnn.vocabulary import ABSTRACT_ID

TITLE = "Valve for heating"
TEXT = "A valve for heating is disclosed . The valve has a heating element ."


def with_topic(directory, tmp_path, config: TopicConfig | None):
    """A copy of ``tiny-title`` whose card has ``config`` as its topic."""
    shutil.copytree(directory / "tiny-title", tmp_path / "tiny-title")
    card_path = tmp_path / "tiny-title" / "card.json"
    card = json.loads(card_path.read_text())
    card["topic"] = None if config is None else {**config.__dict__}
    card_path.write_text(json.dumps(card))
    return load_bundle("tiny-title", tmp_path)


@pytest.fixture(scope="module")
def topics(tiny_models):
    bundle = load_bundle("tiny-title", tiny_models)
    return bundle, Topics(originality.index_for(bundle), bundle.config.vocab_size)


def test_a_topic_comes_from_the_closest_training_abstracts(topics):
    bundle, source = topics
    title_ids = np.asarray(bundle.vocabulary.encode_words(["Valve", "for", "heating"]))
    ids, probabilities = source.distribution(title_ids, neighbours=3)
    assert probabilities.sum() == pytest.approx(1.0) and (probabilities > 0).all()
    index = source.index
    scores = index.scores(title_ids)
    training = np.flatnonzero(index.arrays["parts"] == 0)
    best = training[np.argsort(-scores[training], kind="stable")[:3]]
    used = set()
    for row in best:
        used |= set(
            index.arrays["documents"][
                index.arrays["document_offsets"][row] : index.arrays["document_offsets"][row + 1]
            ].tolist()
        )
    assert set(ids.tolist()) == used  # the three best training abstracts' words, and no other
    valve = bundle.vocabulary.index["valve"]
    assert valve in ids  # (the made-up corpus: a valve's abstracts say "valve")
    # the bonus: weight * log(1 + p_topic / (smoothing * p)), on those words only
    topic = source.bonus((ids, probabilities), TopicConfig(0.5, 2.0))
    expected = 0.5 * np.log1p(probabilities / (2.0 * source.frequencies[ids]))
    assert np.allclose(topic.bonus, expected, rtol=1e-6) and topic.bonus.dtype == np.float32
    # a title with no word any training abstract has: no topic
    assert source.topic(np.asarray([bundle.vocabulary.index["<unk>"]]), TopicConfig(1.0)) is None


def test_the_validation_and_test_abstracts_are_never_drawn_from(topics):
    bundle, source = topics
    parts = source.index.arrays["parts"]
    held_out = np.flatnonzero(parts != 0)
    assert len(held_out)
    for row in held_out[:5]:  # a held-out abstract's own words as the title
        document = source.index.document(row)
        scores = source.index.scores(document.astype(np.int64))
        assert scores[row] > 0  # BM25 would find it ...
        ids, _ = source.distribution(document, neighbours=len(parts))
        training_words = set()
        for kept in np.flatnonzero(parts == 0):
            training_words |= set(source.index.document(kept).tolist())
        assert set(ids.tolist()) <= training_words  # ... but only training abstracts lend words


def test_a_word_at_a_time_is_the_whole_text_reading(topics, tmp_path):
    bundle, source = topics
    runtime = Runtime(bundle)
    tokens = titled_sequence(bundle.vocabulary, TEXT, TITLE)[0]
    first = int(np.flatnonzero(tokens == ABSTRACT_ID)[0])
    topic = source.topic(runtime.title_of(tokens).ids, TopicConfig(1.0, 1.0))
    _, with_topic = read_states(runtime, tokens, topic)
    _, without = read_states(runtime, tokens)
    assert not np.allclose(with_topic, without)
    plain, topical = Cursor(runtime, tokens[: first + 1]), Cursor(runtime, tokens[: first + 1], topic=topic)
    for position in range(first + 1, len(tokens)):
        # (each into its own buffer: without ``out``, both write into the runtime's one)
        with_bonus = topical.logits(1.3, 2.0, out=np.empty(len(runtime.logits_buffer), np.float32))
        difference = (with_bonus - plain.logits(1.3, 2.0, out=np.empty_like(with_bonus)))[: runtime.vocab_size]
        expected = np.zeros(runtime.vocab_size, np.float32)
        expected[topic.ids] = topic.bonus / 1.3  # tempered like every logit, on the topic's words only,
        expected[tokens[position - 1]] = 0.0  # but the word just read
        assert np.allclose(difference, expected, atol=1e-5)
        plain.feed(int(tokens[position]))
        topical.feed(int(tokens[position]))
    # the card's figures read the same way
    total, count = log_loss(runtime, list(tokens[: first + 1]), list(tokens[first + 1 :]), 0, topic=topic)
    assert total == pytest.approx(-with_topic[first:].sum(), rel=1e-9) and count == len(tokens) - first - 1


def test_generation_and_scoring_use_the_cards_topic(tiny_models, tmp_path):
    plain = Generator(load_bundle("tiny-title", tiny_models))
    assert plain.runtime.topic_config is None
    topical = Generator(with_topic(tiny_models, tmp_path, TopicConfig(2.0, 1.0)))
    settings = dict(title=TITLE, words=30, rng_seed=4, originality=False)
    first, again, off = (
        topical.generate(**settings),
        topical.generate(**settings),
        topical.generate(**settings, topic=False),
    )
    assert first.generated_words == again.generated_words  # a permalink reproduces it
    assert off.generated_words == plain.generate(**settings).generated_words  # topic=False: the network alone
    assert first.generated_words != off.generated_words and off.settings.topic is False
    assert first.settings.topic is True
    branched, _ = topical.branch(first.generated_words[:5], first.generated_words[5], off.settings, originality=False)
    assert branched.settings.topic is False
    # scoring after a title reads with the topic; without a title there is none
    assert topical.score(TEXT, title=TITLE).log_loss != plain.score(TEXT, title=TITLE).log_loss
    assert topical.score(TEXT).log_loss == plain.score(TEXT).log_loss
    with pytest.raises(ValueError, match="topic"):
        topical.generate(**settings, topic="yes")


def test_without_the_corpus_a_title_model_writes_without_its_topic(tiny_models, tmp_path, monkeypatch):
    topical = Generator(with_topic(tiny_models, tmp_path, TopicConfig(2.0, 1.0)))

    def unavailable(bundle):
        raise originality.OriginalityUnavailable("no corpus")

    monkeypatch.setattr(originality, "index_for", unavailable)
    result = topical.generate(title=TITLE, words=20, rng_seed=1, originality=False)
    assert NO_TOPIC in result.notes
    assert (
        result.generated_words
        == topical.generate(title=TITLE, words=20, rng_seed=1, originality=False, topic=False).generated_words
    )


def test_a_malformed_topic_is_refused(tiny_models, tmp_path):
    card_path = with_topic(tiny_models, tmp_path, None).path / "card.json"
    card_path.write_text(json.dumps({**json.loads(card_path.read_text()), "topic": {"weight": 1.0}}))
    with pytest.raises(BundleError, match="weight, smoothing and neighbours"):
        Runtime(load_bundle("tiny-title", tmp_path))
    for bad in (dict(weight=-1.0), dict(weight=1.0, smoothing=0.0), dict(weight=1.0, neighbours=0)):
        with pytest.raises(ValueError, match="topic needs"):
            TopicConfig(**bad)


def test_tuning_chooses_a_topic_that_helps_on_validation(topics):
    bundle, source = topics
    runtime = Runtime(bundle)
    texts = []
    for title, text in [(TITLE, TEXT), ("Pump for mixing", "A pump for mixing has a shaft . The pump mixes .")]:
        tokens = titled_sequence(bundle.vocabulary, text, title)[0]
        texts.append((tokens, int(np.flatnonzero(tokens == ABSTRACT_ID)[0])))
    figures = tune_topic(runtime, source, texts, weights=(0.5, 2.0), smoothings=(1.0,))
    assert figures["validation_words"] == sum(len(tokens) - 1 - first for tokens, first in texts)
    if figures["weight"] is not None:
        assert figures["validation_log_loss_topic"] < figures["validation_log_loss_without"]
    # the figure without a topic is the network's own log loss, and with one, the runtime's reading with it
    expected = sum(-read_states(runtime, tokens)[1][first:].sum() for tokens, first in texts)
    assert figures["validation_log_loss_without"] == round(expected / figures["validation_words"], 4)
    one = tune_topic(runtime, source, texts, weights=(2.0,), smoothings=(1.0,))
    config = TopicConfig(2.0, 1.0)
    topical = 0.0
    for tokens, first in texts:
        topic = source.topic(runtime.title_of(tokens).ids, config)
        topical -= read_states(runtime, tokens, topic)[1][first:].sum()
    assert one["validation_log_loss_topic"] == pytest.approx(topical / one["validation_words"], abs=1e-4)


def test_the_topic_command_writes_the_card(tiny_models, tmp_path, data_dir):
    shutil.copytree(tiny_models / "tiny-title", tmp_path / "tiny-title")
    shutil.copytree(tiny_models / "tiny-tied", tmp_path / "tiny-tied")
    done = run_cli("topic", "--models-dir", str(tmp_path), "--write")  # all models: the title models
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert list(figures) == ["tiny-title"]
    card = json.loads((tmp_path / "tiny-title" / "card.json").read_text())
    assert card["topic"] == figures["tiny-title"] and figures["tiny-title"]["validation_words"] > 0
    if figures["tiny-title"]["weight"] is not None:
        assert Runtime(load_bundle("tiny-title", tmp_path)).topic_config == TopicConfig(
            figures["tiny-title"]["weight"], figures["tiny-title"]["smoothing"], figures["tiny-title"]["neighbours"]
        )
    refused = run_cli("topic", "--model", "tiny-tied", "--models-dir", str(tmp_path))
    assert refused.returncode != 0 and "titles" in refused.stderr


def test_the_title_figures_report_the_topic(tiny_models, tmp_path):
    from patentrnn.evaluation import title_figures
    from patentrnn.rendering import _title_lines

    topical = Generator(with_topic(tiny_models, tmp_path, TopicConfig(2.0, 1.0)))
    shutil.copytree(tiny_models / "tiny-title", tmp_path / "plain" / "tiny-plain")  # (the same, by another name)
    plain = Generator(load_bundle("tiny-plain", tmp_path / "plain"))
    figures = title_figures(topical, plain, n=3)
    loss = figures["test_log_loss"]["all"]["network"]
    assert loss["given_title_and_topic"] != loss["given_title"]
    made = figures["generation"]
    ranks = made["own_abstract_bm25_rank"]
    assert made["n"] == 3 and set(ranks) == {"tiny-title", "tiny-title without its topic", "tiny-plain"}
    assert set(made["longest_copy"]) == set(ranks) and 0 <= made["longest_copy"]["tiny-title"]["share_ge_8"] <= 1
    lines = "\n".join(_title_lines({"name": "tiny-title", "title_figures": figures}))
    assert "and its topic" in lines and "without its topic" in lines
    with pytest.raises(ValueError, match="different corpora"):
        title_figures(topical, Generator(load_bundle("tiny-tied", tiny_models)), n=1)
    with pytest.raises(ValueError, match="another model"):
        title_figures(topical, topical, n=1)


@pytest.mark.slow  # (it trains or serves by itself)
def test_evaluate_reports_the_topic_on_any_corpus(tiny_models, tmp_path):
    bundle = with_topic(tiny_models, tmp_path, TopicConfig(1.0, 1.0))
    card_path = bundle.path / "card.json"
    card_path.write_text(
        json.dumps({**json.loads(card_path.read_text()), "cache": {"theta": 1.0, "weight": 0.2, "skip": 2}})
    )
    corpus = tiny_models.parent / "titled.csv"
    done = run_cli(
        "evaluate", "--model", "tiny-title", "--models-dir", str(tmp_path), "--corpus", str(corpus), "--json"
    )
    assert done.returncode == 0, done.stderr
    cache = json.loads(done.stdout)["cache"]
    assert cache["log_loss_topic"] != cache["log_loss_cache"] and cache["words"] > 0
