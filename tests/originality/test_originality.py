"""The originality check: longest span copied from training text, closest real patents,
its index file, generate()'s use of it, the command line and the memorisation figure.

Abstracts are read through the corpus API from $PATENTRNN_DATA; none is copied here.
"""

from __future__ import annotations

import collections
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from conftest import run_cli

from patentrnn import corpus, evaluation, originality
from patentrnn.bundle import list_bundles, load_bundle, write_card_figures
from patentrnn.generation import Generator
from patentrnn.originality import arrays, store
from patentrnn.rendering import render_originality_html, render_originality_text
from patentrnn.vocabulary import detokenize
from patentrnn.web.views import generation_view

GIBBERISH = "zqxv wubblefrond ptarmigix qqzzyx snorklewhap vlimmerquon grxthbb zzyzzyx " * 3




@pytest.fixture(scope="module")
def abstracts(default_generator, data_dir):
    """``(record, words, part)`` for each abstract of the default model's corpus."""
    card = default_generator.bundle.card["corpus"]
    _, path = corpus.locate(card["name"], data_dir)
    records = list(corpus.iter_records(path))[: card["abstracts"]]
    split = default_generator.bundle.split
    return [(r, default_generator.vocabulary.tokenize(r.abstract), corpus.part_of(r.abstract, split)) for r in records]


def _training_texts(abstracts) -> list[str]:
    return [f" {' '.join(words)} " for _, words, part in abstracts if part == "train"]


@pytest.fixture(scope="module")
def unique_run(abstracts):
    """A training abstract and 20 of its words found in no other training abstract."""
    training = _training_texts(abstracts)
    for record, words, part in abstracts:
        if part != "train" or len(words) < 40:
            continue
        run = words[5:25]
        needle = f" {' '.join(run)} "
        if sum(text.count(needle) for text in training) == 1:
            return record, words, run
    raise AssertionError("no training abstract with a run of its own")


# --- the API -------------------------------------------------------------------------------------


def test_training_words_then_generated_words_report_that_span_and_patent(default_generator, unique_run):
    record, _, run = unique_run
    generated = default_generator.generate(seed=" ".join(run), words=20, rng_seed=0).generated_words
    check = default_generator.originality(" ".join(run + generated))
    copy = check.longest_copy
    assert copy.start == 0
    assert copy.length >= len(run) and copy.length == len(copy.words)
    assert copy.words[: len(run)] == run
    assert (copy.patent_number, copy.title, copy.date) == (
        record.patent_number,
        record.patent_title,
        record.patent_date,
    )
    assert copy.url == f"https://patents.google.com/patent/US{record.patent_number}"


def test_the_copy_is_really_in_the_named_training_abstract(default_generator, abstracts):
    result = default_generator.generate(seed="A neural network", words=100, rng_seed=5)
    copy = result.originality.longest_copy
    assert copy is not None and copy.length >= 2
    needle = f" {' '.join(copy.words)} "
    holders = [r.patent_number for r, words, part in abstracts if part == "train" and needle in f" {' '.join(words)} "]
    assert copy.patent_number in holders
    text = result.seed_words + result.generated_words
    assert text[copy.start : copy.start + copy.length] == copy.words
    # nothing longer: no run one word longer, at any start, is in a training abstract
    training = _training_texts(abstracts)
    longer = [f" {' '.join(text[s : s + copy.length + 1])} " for s in range(len(text) - copy.length)]
    assert not any(any(run in doc for doc in training) for run in longer)


def test_words_wholly_inside_the_seed_never_count(default_generator, unique_run):
    _, _, run = unique_run
    text = " ".join(run) + " " + GIBBERISH
    assert default_generator.originality(text, seed_words=len(run)).longest_copy is None
    # a run that starts in the seed and goes past it counts, whole
    crossing = default_generator.originality(text, seed_words=len(run) - 1).longest_copy
    assert (crossing.start, crossing.length) == (0, len(run))
    assert default_generator.originality(text).longest_copy.length == len(run)


def test_a_training_abstract_is_its_own_nearest(default_generator, abstracts):
    counts = collections.Counter(record.abstract for record, _, _ in abstracts)
    chosen = [a for a in abstracts if a[2] == "train" and counts[a[0].abstract] == 1 and len(a[1]) >= 40][:10]
    assert len(chosen) == 10
    for record, words, _ in chosen:
        check = default_generator.originality(record.abstract)
        first = check.nearest[0]
        assert (first.patent_number, first.title, first.date) == (
            record.patent_number,
            record.patent_title,
            record.patent_date,
        )
        assert first.part == "train" and first.score > check.nearest[1].score
        assert first.first_words.startswith(detokenize(record.abstract.split(" ")[:5]))
        assert len(check.nearest) == 3
        assert check.longest_copy.length == len(words)


def test_nearest_are_drawn_from_every_part(default_generator, abstracts):
    record, _, part = next(a for a in abstracts if a[2] == "test" and len(a[1]) >= 40)
    first = default_generator.originality(record.abstract).nearest[0]
    assert (first.patent_number, first.part) == (record.patent_number, "test")


def test_words_the_corpus_never_has_copy_at_most_one_word(default_generator):
    check = default_generator.originality(GIBBERISH)
    assert check.copied_words <= 1
    assert check.nearest == []  # no abstract shares a word with it
    assert check.words == len(GIBBERISH.split())


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("   \n\t  ", "empty"), ("word " * 200_000, "too long"), (None, "must be a string")],
)
def test_bad_text_gets_a_clear_error(default_generator, text, message):
    with pytest.raises(ValueError, match=message):
        default_generator.originality(text)


@pytest.mark.parametrize("seed_words", [-1, 4, 1.5, True])
def test_seed_words_out_of_range(default_generator, seed_words):
    with pytest.raises(ValueError, match="seed_words"):
        default_generator.originality("A neural network", seed_words=seed_words)


# --- generate() --------------------------------------------------------------------------------------


def test_generate_checks_seed_and_generated_words(default_generator):
    result = default_generator.generate(seed="A method of training a neural network", words=40, rng_seed=2)
    check = result.originality
    assert check.seed_words == len(result.seed_words) and check.words == len(result.seed_words) + 40
    again = default_generator.originality(" ".join(result.seed_words + result.generated_words), len(result.seed_words))
    assert again.longest_copy == check.longest_copy
    assert [n.patent_number for n in again.nearest] == [n.patent_number for n in check.nearest]
    assert "originality_ms" in result.timings
    data = json.loads(json.dumps(result.to_dict()))
    assert data["originality"]["longest_copy"]["words"] == check.longest_copy.words
    assert len(data["originality"]["nearest"]) == 3


def test_random_start_marks_the_seeds_abstract_as_source(default_generator, abstracts):
    result = default_generator.generate(words=30, rng_seed=11)
    check = result.originality
    source = check.source
    assert source is not None and check.nearest[0] is source and source.part == "test"
    holder = next(r for r, words, _ in abstracts if r.patent_number == source.patent_number)
    window = " ".join(result.seed_words + result.actual_words)
    assert window in " ".join(default_generator.vocabulary.tokenize(holder.abstract))
    assert len(check.prior_art) == 3 and not any(near.source for near in check.prior_art)


def test_without_the_corpus_generation_works_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATENTRNN_DATA", str(tmp_path))  # no CSV there: no corpus, no download
    monkeypatch.setenv(originality.CACHE_ENV, str(tmp_path / "cache"))
    offline = Generator(load_bundle())
    result = offline.generate(seed="A neural network", words=10, rng_seed=1)
    assert len(result.generated) == 10
    assert result.originality is None
    assert result.notes == [originality.UNAVAILABLE]
    assert "\n" not in originality.UNAVAILABLE and "PATENTRNN" not in originality.UNAVAILABLE
    assert render_originality_html(result.originality) == ""
    with pytest.raises(originality.OriginalityUnavailable):
        offline.originality("A neural network")


# --- the index file ---------------------------------------------------------------------------------


@pytest.fixture
def fresh(default_generator, tmp_path, monkeypatch):
    """The default model's card, vocabulary and split, with an empty index cache."""
    monkeypatch.setattr(store, "_open", {})
    bundle = default_generator.bundle
    return tmp_path, (bundle.card, default_generator.vocabulary, bundle.split)


def test_index_is_built_once_then_reused(fresh, monkeypatch):
    directory, model = fresh
    index = originality.load_index(*model, directory)
    path = index.path
    assert path.parent == directory and path.name.startswith(f"originality-{model[0]['corpus']['sha256'][:12]}-")
    built = path.stat().st_mtime_ns
    monkeypatch.setattr(store, "_open", {})
    monkeypatch.setattr(store, "build_arrays", lambda *a: pytest.fail("rebuilt a good index"))
    again = originality.load_index(*model, directory)
    assert again.path == path and path.stat().st_mtime_ns == built


def test_damaged_or_stale_index_is_rebuilt(fresh, default_generator, monkeypatch):
    directory, model = fresh
    path = originality.load_index(*model, directory).path
    word = np.array([default_generator.vocabulary.index["A"]])
    expected = originality.load_index(*model, directory).check(["A"], word)
    for damage in ("flip", "truncate", "garbage"):
        data = bytearray(path.read_bytes())
        if damage == "flip":
            data[len(data) // 2] ^= 0xFF
        elif damage == "truncate":
            del data[len(data) // 3 :]
        else:
            data = bytearray(b"not an index")
        path.write_bytes(bytes(data))
        monkeypatch.setattr(store, "_open", {})
        index = originality.load_index(*model, directory)
        assert index.check(["A"], np.array([default_generator.vocabulary.index["A"]])).nearest == expected.nearest
    # a new index version gets a new file, and the old version's file goes
    monkeypatch.setattr(arrays, "INDEX_VERSION", originality.INDEX_VERSION + 1)
    monkeypatch.setattr(store, "_open", {})
    newer = originality.load_index(*model, directory).path
    assert newer != path and newer.is_file() and not path.exists()


def test_another_vocabulary_or_split_gets_its_own_index(fresh):
    _, (card, vocabulary, split) = fresh
    path = originality.index_path(originality.index_identity(card, vocabulary, split))
    other_split = originality.index_identity(card, vocabulary, replace(split, seed=1))
    other_corpus = originality.index_identity(
        {**card, "corpus": {**card["corpus"], "sha256": "0" * 64}}, vocabulary, split
    )
    assert len({path, originality.index_path(other_split), originality.index_path(other_corpus)}) == 3


# --- rendering ----------------------------------------------------------------------------------------


def test_highlighted_words_are_the_copied_span(default_generator):
    for rng_seed in range(3):
        result = default_generator.generate(seed="A neural network", words=60, rng_seed=rng_seed)
        [block] = generation_view(result).blocks
        copied = [(word.copied, word.word) for word in block.words if word.copied is not None]
        copy = result.originality.longest_copy
        assert [position for position, _ in copied] == list(range(copy.start, copy.start + copy.length))
        assert [word for _, word in copied] == copy.words
        panel = render_originality_html(result.originality)
        assert f'Longest copied span: <b class="length">{copy.length} word' in panel
        assert panel.count('<li class="near"') == 3
        for near in result.originality.nearest:
            assert f'href="https://patents.google.com/patent/US{near.patent_number}"' in panel


def test_a_copied_span_in_the_seed_is_highlighted_in_the_seed(default_generator, unique_run):
    _, _, run = unique_run
    result = default_generator.generate(seed=" ".join(run), words=20, rng_seed=0)
    result.originality = default_generator.originality(" ".join(run))  # the whole seed, as if it were generated
    [block] = generation_view(result).blocks
    seed = block.words[: len(result.seed_words)]
    assert [word.copied for word in seed] == list(range(len(run)))  # every seed word marked, in place
    assert [word.word for word in seed] == result.seed_words


def test_titles_and_numbers_are_shown_as_text(default_generator):
    result = default_generator.generate(seed="A neural network", words=20, rng_seed=1)
    hostile = "<script>alert(1)</script>"
    result.originality.nearest = [
        replace(near, title=hostile, first_words=hostile, patent_number='1"><script>x</script>')
        for near in result.originality.nearest
    ]
    result.originality.longest_copy = replace(result.originality.longest_copy, title=hostile, words=[hostile])
    panel = render_originality_html(result.originality)
    assert "<script>" not in panel and "&lt;script&gt;alert(1)&lt;/script&gt;" in panel
    assert "US1&quot;&gt;&lt;script&gt;x&lt;/script&gt;" in panel
    assert hostile in render_originality_text(result.originality)  # plain text, for a terminal


# --- command line and memorisation ---------------------------------------------------------------------


def test_cli_originality_checks_text_and_files(unique_run, tmp_path):
    record, _, run = unique_run
    done = run_cli("originality", "--text", " ".join(run) + " " + GIBBERISH, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["longest_copy"]["length"] == len(run)
    assert data["longest_copy"]["patent_number"] == record.patent_number
    assert len(data["nearest"]) == 3
    big = tmp_path / "big.txt"
    big.write_text("neural " * 200_000)
    done = run_cli("originality", "--file", str(big))
    assert done.returncode == 2 and "too long" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("originality", "--text", "   ")
    assert done.returncode == 2 and "empty" in done.stderr


def test_cli_generate_json_includes_originality():
    done = run_cli("generate", "--seed", "A neural network", "--words", "20", "--rng-seed", "3", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["originality"]["seed_words"] == 3 and len(data["originality"]["nearest"]) == 3


def test_memorisation_figure_goes_into_the_card_and_the_listing(default_generator, tmp_path):
    figures = evaluation.memorisation(default_generator, n=4, words=30)
    assert figures["n"] == 4 and figures["words"] == 30 and figures["diversity"] == 0.8
    assert 0 <= figures["share_ge_8"] <= 1 and 0 < figures["median_longest"] <= 30
    untimed = lambda row: {key: value for key, value in row.items() if key != "generate_ms_median"}  # noqa: E731
    assert untimed(figures) == untimed(evaluation.memorisation(default_generator, n=4, words=30))  # fixed rng seeds
    bundle = tmp_path / default_generator.name
    bundle.mkdir()
    shutil.copy(default_generator.bundle.path / "card.json", bundle / "card.json")
    write_card_figures(bundle, "memorisation", figures)
    card = json.loads((bundle / "card.json").read_text())
    assert card["memorisation"] == figures
    assert card["metrics"] == default_generator.bundle.card["metrics"]
    assert list_bundles(tmp_path)[0]["memorisation"] == figures
    # a bundle replaced (retrained) while it was measured keeps its card as it is
    retrained = {**default_generator.bundle.card, "date": "later"}
    (bundle / "card.json").write_text(json.dumps(retrained))
    with pytest.raises(ValueError, match="changed while it was measured"):
        write_card_figures(bundle, "memorisation", figures, default_generator.bundle.card)
    assert json.loads((bundle / "card.json").read_text()) == retrained
