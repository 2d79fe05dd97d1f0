"""Train on your own text: CSV/TSV columns, plain text (lines, paragraphs), JSON lines, .gz; clear
errors; the bundle finds its file again for the originality check; the page lists a new bundle."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import pytest

from patentrnn import corpus
from patentrnn.bundle import load_bundle
from patentrnn.corpus import CorpusError, SplitConfig, load_corpus
from patentrnn.documents import ReadOptions
from patentrnn.generation import Generator

N = 80


@pytest.fixture(scope="module")
def records(data_dir):
    """Real abstracts with their titles and numbers (the baseball corpus's first ones)."""
    _, path = corpus.locate("baseball", data_dir)
    return list(corpus.iter_records(path))[:N]


def write(directory: Path, kind: str, records) -> tuple[Path, ReadOptions]:
    """``records`` in one format, with column names the default reader does not know where useful."""
    if kind == "csv":
        path = directory / "mine.csv"
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["number", "abstract", "title"])
            writer.writerows([r.patent_number, r.abstract, r.patent_title] for r in records)
        return path, ReadOptions(id_column="number")
    if kind == "tsv":
        path = directory / "mine.data"  # no telling suffix: detected from the tab
        path.write_text("body\theadline\n" + "".join(f"{r.abstract}\t{r.patent_title}\n" for r in records))
        return path, ReadOptions(text_column="body", title_column="headline")
    if kind == "lines":
        path = directory / "mine.txt"
        path.write_text("".join(r.abstract + "\n" for r in records))
        return path, ReadOptions()
    if kind == "paragraphs":
        path = directory / "mine.txt"
        halves = [" ".join(r.abstract.split()[: len(r.abstract.split()) // 2]) + "\n" +
                  " ".join(r.abstract.split()[len(r.abstract.split()) // 2 :]) for r in records]  # fmt: skip
        path.write_text("\n\n".join(halves) + "\n")
        return path, ReadOptions()
    if kind == "jsonl":
        path = directory / "mine.jsonl"
        path.write_text("".join(json.dumps({"text": r.abstract, "title": r.patent_title}) + "\n" for r in records))
        return path, ReadOptions()
    if kind == "gz":
        path = directory / "mine.jsonl.gz"
        with gzip.open(path, "wt") as handle:
            handle.writelines(json.dumps({"text": r.abstract}) + "\n" for r in records)
        return path, ReadOptions()
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["csv", "tsv", "lines", "paragraphs", "jsonl", "gz"])
def test_each_format_reads_the_same_abstracts(tmp_path, records, kind):
    path, options = write(tmp_path, kind, records)
    data = load_corpus(path, options=options)
    assert data.abstracts == [r.abstract for r in records], kind
    if kind in ("csv", "tsv", "jsonl"):
        titles = [r.patent_title for r in corpus.iter_records(path, options)]
        assert titles == [r.patent_title for r in records]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["csv", "tsv", "lines", "paragraphs", "jsonl", "gz"])
def test_each_format_trains_a_tiny_model_that_generates(tmp_path, records, kind):
    from patentrnn.train.training import TrainConfig, train

    path, options = write(tmp_path, kind, records)
    config = TrainConfig(corpus=str(path), read=options, preset="tiny", epochs=1, split=SplitConfig(0.2, 0.2),
                         verbose=0)  # fmt: skip
    bundle_path = train(config, "mine", tmp_path / "models")
    card = json.loads((bundle_path / "card.json").read_text())
    assert card["corpus"]["path"] == str(path.resolve()) and card["corpus"].get("read", {}) == options.to_dict()
    generator = Generator(load_bundle("mine", bundle_path.parent))
    result = generator.generate("The ball", words=10, rng_seed=1)
    assert len(result.generated_words) == 10
    assert result.originality is not None and result.originality.corpus == card["corpus"]["name"]


@pytest.mark.slow
def test_a_bundle_reports_originality_against_its_file_and_says_when_it_moved(tmp_path, records):
    from patentrnn import originality
    from patentrnn.train.training import TrainConfig, train

    path, options = write(tmp_path, "csv", records)
    config = TrainConfig(corpus=str(path), read=options, preset="tiny", epochs=1, split=SplitConfig(0.2, 0.2),
                         verbose=0)  # fmt: skip
    bundle_path = train(config, "mine", tmp_path / "models")
    bundle = load_bundle("mine", bundle_path.parent)
    training = [r for r in records if corpus.part_of(r.abstract, bundle.split) == "train"]
    generator = Generator(bundle)
    check = generator.originality(" ".join(training[0].abstract.split()[:30]))
    assert check.longest_copy is not None and check.longest_copy.length >= 20
    assert check.longest_copy.patent_number == training[0].patent_number
    path.rename(tmp_path / "moved.csv")
    with pytest.raises(originality.OriginalityUnavailable, match="not there any more"):
        originality.build_index(bundle.card, bundle.vocabulary, bundle.split, tmp_path / "cache")


def test_a_missing_column_lists_the_real_ones_cut_to_a_sensible_length(tmp_path):
    long_name = "x" * 200
    path = tmp_path / "wide.csv"
    path.write_text(",".join([long_name, "other"] + [f"c{i}" for i in range(30)]) + "\n" + "a,b" + ",z" * 30 + "\n")
    with pytest.raises(CorpusError) as error:
        load_corpus(path)
    message = str(error.value)
    assert "--text-column" in message and "x" * 40 in message and "x" * 41 not in message
    assert "and 20 more" in message and len(message) < 600 and "\n" not in message
    with pytest.raises(CorpusError, match="no title column 'headline'"):
        load_corpus(path, options=ReadOptions(text_column="other", title_column="headline"))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"\x00\x01\x02binary" * 50, "looks binary"),
        (b"abstract\n\xff\xfe\xfa broken bytes here\n" * 3, "not UTF-8"),
        (b'{"text": "one two"}\n[1, 2]\n', "not a JSON object"),
        (b'{"text": "one two"\n', "not JSON"),
    ],
)
def test_bad_files_get_one_line_naming_the_fix(tmp_path, content, message):
    path = tmp_path / ("bad.jsonl" if content.startswith(b"{") else "bad.txt")
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message) as error:
        load_corpus(path)
    assert "\n" not in str(error.value)


def test_short_documents_are_skipped_and_counted(tmp_path):
    path = tmp_path / "some.txt"
    path.write_text("A ball and a bat .\nNULL\nOne\nThe glove holds the ball .\n")
    data = load_corpus(path)
    assert data.abstracts == ["A ball and a bat .", "The glove holds the ball ."] and data.skipped == 2


def test_too_few_documents_for_a_split_is_a_clear_error(tmp_path):
    from patentrnn.train.training import TrainConfig, train

    path = tmp_path / "few.txt"
    path.write_text("A ball and a bat .\nThe glove holds the ball .\n")
    with pytest.raises(ValueError, match="too small for a train / validation / test split"):
        train(TrainConfig(corpus=str(path), preset="tiny", epochs=1, verbose=0), "few", tmp_path / "models")
    assert not (tmp_path / "models" / "few").exists(), "nothing half-written"


def test_the_cli_names_a_missing_file_and_a_bad_format(tmp_path):
    from conftest import run_cli

    result = run_cli("train", "--name", "x", "--corpus", str(tmp_path / "nowhere.csv"), "--preset", "tiny")
    assert result.returncode != 0 and "no such corpus file" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("train", "--name", "x", "--corpus", "x.csv", "--format", "xml")
    assert result.returncode != 0 and "invalid choice" in result.stderr


# --- the page picks up a new bundle ----------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_a_bundle_copied_in_while_serving_shows_in_a_new_page(tiny_models, data_dir, tmp_path, browser):
    from voila_server import voila_app, wait_for

    models = tmp_path / "models"
    shutil.copytree(tiny_models / "tiny", models / "tiny")
    env = {"PATENTRNN_DATA": str(data_dir), "PATENTRNN_MODELS": str(models)}
    with voila_app(env, tmp_path / "voila.log", args=("--pool-size", "1")) as (url, _):
        (models / "broken").mkdir()
        (models / "broken" / "config.json").write_text("{}")
        (models / "broken" / "card.json").write_text("not json")
        shutil.copytree(tiny_models / "tiny-tied", models / "tiny-tied")  # after the pool's kernel started
        context = browser.new_context()
        page = context.new_page()
        page.goto(url, timeout=60_000)
        page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)
        options = page.locator(".patentrnn-app select").first.locator("option").all_inner_texts()
        assert any(text.startswith("tiny-tied") for text in options), options
        assert not any(text.startswith("broken") for text in options)
        page.locator(".patentrnn-generate").click()
        page.locator(".patentrnn-output-widget .word").first.wait_for(timeout=30_000)
        assert "left out" not in page.content(), "the log line is the server's, not the visitor's"
        context.close()
        log = tmp_path / "voila.log"
        wait_for(lambda: "model 'broken' left out" in log.read_text(), 15, "the kernel's log line in the server's log")
