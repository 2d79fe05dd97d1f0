"""Title models: ``<title> title <abstract> abstract <end>`` examples, writing until the model ends,
scoring after a title, and clear errors for models trained without titles."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from patentrnn.bundle import BundleError, keras_model, load_bundle
from patentrnn.corpus import normalised_title, split_abstracts
from patentrnn.generation import UNTIL_END_LIMIT, Generator
from patentrnn.model import preset
from patentrnn.runtime import Runtime
from patentrnn.train.examples import abstract_batches, encode_titled, titled_sequence
from patentrnn.train.network import build_model
from patentrnn.vocabulary import ABSTRACT_ID, END_ID, TITLE_ID, UNK_ID, Vocabulary


@pytest.fixture(scope="module")
def title_model(tiny_models):
    return Generator(load_bundle("tiny-title", tiny_models))


def test_examples_weigh_the_title_zero_and_the_abstract_and_end_one():
    vocabulary = Vocabulary.build(["A valve is shown .", "Valve for heating"], titles=True)
    ids, start = titled_sequence(vocabulary, "A valve is shown .", "Valve for heating")
    assert ids.tolist() == [TITLE_ID, *vocabulary.encode("Valve for heating"), ABSTRACT_ID,
                            *vocabulary.encode("A valve is shown ."), END_ID]  # fmt: skip
    assert start == 5  # the abstract's first word: the first target
    [(inputs, targets, weights)] = abstract_batches([ids], 8, [start])
    assert (weights[0, :4] == 0).all()  # predicting the title's words and <abstract>: context only
    assert (weights[0, 4:] > 0).all()  # every abstract word, then <end>
    assert targets[0, 4:].tolist() == ids[5:].tolist() and targets[0, -1] == END_ID
    # without its title the example starts at <abstract>, and its first word is a target
    sequences, starts = encode_titled(vocabulary, ["A valve is shown ."], [None])
    assert sequences[0][0] == ABSTRACT_ID and starts == [1]


def test_typed_text_never_produces_the_structure_tags():
    vocabulary = Vocabulary.build(["A valve"], titles=True)
    assert vocabulary.has_titles and not Vocabulary.build(["A valve"]).has_titles
    assert vocabulary.encode_words(["<end>", "<title>", "valve"]) == [UNK_ID, UNK_ID, vocabulary.index["valve"]]


def test_titles_go_with_their_abstracts_in_the_split():
    abstracts = [f"abstract number {n} ." for n in range(200)]
    titles = [f"title {n}" for n in range(200)]
    parts = split_abstracts(abstracts, titles=titles)
    for part in ("train", "validation", "test"):
        texts = getattr(parts, part)
        assert [t.split()[1] for t in parts.titles[part]] == [a.split()[2] for a in texts]
    assert split_abstracts(abstracts).test == parts.test  # the same by-abstract split
    assert normalised_title("Neural-network  SYSTEM, for (x)") == "neural network system for x"


def test_a_title_model_ends_its_abstracts_itself(title_model):
    for rng_seed in range(5):
        result = title_model.generate(title="Valve for heating", rng_seed=rng_seed, originality=False)
        assert result.ended and 0 < len(result.generated) < UNTIL_END_LIMIT, result.generated_text
        assert result.mode == "title" and result.title_text == "Valve for heating"
        assert "<end>" not in result.generated_words
        assert result.settings.title == "Valve for heating" and result.settings.words is None
    # with a word count it writes exactly that many words, <end> never among them
    fixed = title_model.generate(title="Valve for heating", words=40, rng_seed=1, originality=False)
    assert len(fixed.generated) == 40 and not fixed.ended


def test_a_title_and_a_seed_reproduce_word_for_word(title_model):
    settings = dict(title="Pump for mixing", seed="A pump", diversity=1.2, rng_seed=7, originality=False)
    first, again = title_model.generate(**settings), title_model.generate(**settings)
    assert first.generated_words == again.generated_words and first.seed_words == ["A", "pump"]


def test_random_mode_reads_and_shows_the_real_title(title_model):
    result = title_model.generate(rng_seed=3, originality=False)
    assert result.mode == "random" and result.title_words
    real = {tuple(title): abstract for title, abstract in title_model.test_documents()}
    assert tuple(result.title_words) in real
    assert real[tuple(result.title_words)][: len(result.seed_words)] == result.seed_words


def test_a_model_without_titles_names_the_option(tiny_models):
    generator = Generator(load_bundle("tiny-tied", tiny_models))
    with pytest.raises(ValueError, match="titles"):
        generator.generate(title="A valve", originality=False)
    with pytest.raises(ValueError, match="titles"):
        generator.score("A valve is shown.", title="A valve")
    # and without a title nothing changes: words=None writes the old default
    assert len(generator.generate("A neural network", rng_seed=1, originality=False).generated) == 50


@pytest.mark.parametrize("title", ["", "   ", "x" * 501, 5])
def test_bad_titles_get_one_line(title_model, title):
    with pytest.raises(ValueError) as caught:
        title_model.generate(title=title, originality=False)
    assert "\n" not in str(caught.value)


def test_scoring_after_a_title_scores_the_first_word_too(title_model, tiny_models):
    text = "A valve for heating is disclosed."
    titled, plain = title_model.score(text, title="Valve for heating"), title_model.score(text)
    assert titled.words[0].probability is not None and plain.words[0].probability is None
    assert len(titled.targets) == len(plain.targets) + 1
    # the numpy runtime's probabilities are Keras's, reading the same tags
    bundle = load_bundle("tiny-title", tiny_models)
    ids, _ = titled_sequence(bundle.vocabulary, "A valve for heating is disclosed .", "Valve for heating")
    logits = np.asarray(keras_model(bundle)(np.array([ids]), training=False))[0]
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    actual = Runtime(bundle).sequence_logits(ids)
    actual = np.exp(actual - actual.max(-1, keepdims=True))
    actual /= actual.sum(-1, keepdims=True)
    assert np.abs(expected - actual).max() <= 1e-5
    first = titled.words[0].probability
    assert abs(first - expected[4, bundle.vocabulary.index["A"]]) <= 1e-5


def test_a_title_models_output_sees_its_title_and_length(tiny_models, tmp_path):
    bundle = load_bundle("tiny-title", tiny_models)
    assert bundle.config.title_context  # (TrainConfig.titles on a tied preset)
    runtime = Runtime(bundle)
    ids = titled_sequence(bundle.vocabulary, "A valve is shown .", "Valve for heating for")[0].tolist()
    title = runtime.title_of(ids)
    assert sorted(title.ids) == sorted(set(bundle.vocabulary.encode("Valve for heating")))  # each word once
    for token in ids:
        title.read(token)
    assert title.written == len(ids) - 1 - ids.index(ABSTRACT_ID)  # the words read since <abstract>
    # a title model's bundle without its title weights is refused, naming what it lacks
    shutil.copytree(tiny_models / "tiny-title", tmp_path / "broken")
    with np.load(tmp_path / "broken" / "weights.npz") as stored:
        kept = {key: stored[key] for key in stored.files if key != "logits/rate"}
    np.savez(tmp_path / "broken" / "weights.npz", **kept)
    with pytest.raises(BundleError, match="logits/rate"):
        load_bundle("broken", tmp_path)


def test_title_context_needs_tied_embeddings():
    with pytest.raises(ValueError, match="tied"):
        build_model(preset("tiny", vocab_size=20, title_context=True))
