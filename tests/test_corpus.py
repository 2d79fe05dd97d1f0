"""Corpus: cleaning like the reference, reading, locating, fetching with a hash check, splitting."""

from __future__ import annotations

import functools
import hashlib
import http.server
import re
import threading

import pytest

from patentrnn import corpus
from patentrnn.corpus import CorpusError, SplitConfig, clean, read_abstracts, split_abstracts
from patentrnn.vocabulary import tokenize


def reference_format_patent(patent: str) -> str:
    """The reference demo's cleaning, verbatim in behaviour."""
    patent = re.sub(r"(?<=[^\s0-9])(?=[.,;?])", r" ", patent)
    patent = re.sub(r"\((\d+)\)", r"", patent)
    patent = re.sub(r"\s\s", " ", patent)
    return patent


def reference_words(text: str, filters: str = '!"%;[\\]^_`{|}~\t\n') -> list[str]:
    """Keras 2 ``text_to_word_sequence(text, filters, lower=False, split=' ')``."""
    text = text.translate(str.maketrans({c: " " for c in filters}))
    return [word for word in text.split(" ") if word]


def test_clean_spaces_punctuation_and_drops_figure_references():
    assert clean("A network (10) has layers (12a), weights; and more? Yes.") == (
        "A network has layers (12a) , weights ; and more ? Yes ."
    )
    assert (
        clean("values 3.5, 4.0 and  2,000  units\n\tend") == "values 3.5, 4.0 and 2,000 units end"
    )  # digits: as the reference


@pytest.mark.parametrize("filename", [source.filename for source in corpus.CORPORA.values()])
def test_cleaning_and_tokenizing_match_the_reference_on_every_real_abstract(data_dir, filename):
    import csv

    with open(data_dir / filename, newline="", encoding="utf-8") as handle:
        raw = [row["patent_abstract"] for row in csv.DictReader(handle)]
    ours = read_abstracts(data_dir / filename)
    raw = [text for text in raw if len(clean(text).split()) >= corpus.MIN_WORDS]  # shorter: skipped ("NULL")
    assert len(ours) == len(raw)
    mismatches = [
        text[:80] for text, mine in zip(raw, ours) if reference_words(reference_format_patent(text)) != tokenize(mine)
    ]
    assert not mismatches, f"{len(mismatches)} abstracts tokenize differently, e.g. {mismatches[:2]}"


def test_named_corpus_from_data_dir(data_dir):
    data = corpus.load_corpus("neural-network", data_dir)
    assert len(data.abstracts) == 3522
    assert data.sha256 == corpus.CORPORA["neural-network"].sha256
    baseball = corpus.load_corpus("baseball", data_dir)
    assert len(baseball.abstracts) == 2056 and baseball.skipped == 608  # 608 rows say only "NULL" or "None"


def test_unknown_corpus_name_is_a_clear_error():
    with pytest.raises(CorpusError, match="unknown corpus 'cats'"):
        corpus.locate("cats")


def test_missing_column_and_empty_file(tmp_path):
    (tmp_path / "wrong.csv").write_text("title,date\nA,2020\n")
    with pytest.raises(CorpusError, match="no text column: name one with --text-column"):
        read_abstracts(tmp_path / "wrong.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CorpusError, match="is empty"):
        read_abstracts(tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_text("patent_abstract\n\n  \n")
    with pytest.raises(CorpusError, match="has no document of 2 words or more"):
        read_abstracts(tmp_path / "blank.csv")
    (tmp_path / "binary.csv").write_bytes(b"patent_abstract\n\xff\xfe\x00garbage")
    with pytest.raises(CorpusError, match="looks binary"):
        read_abstracts(tmp_path / "binary.csv")
    with pytest.raises(CorpusError, match="no such corpus file"):
        corpus.locate(tmp_path / "missing.csv")


def test_local_copy_with_wrong_hash_is_rejected(tmp_path):
    (tmp_path / "baseball_patent_query.csv").write_text("patent_abstract\nA bat.\n")
    with pytest.raises(CorpusError, match="sha256"):
        corpus.locate("baseball", tmp_path)
    with pytest.raises(CorpusError, match="does not exist"):
        corpus.locate("neural-network", tmp_path)


@pytest.fixture
def local_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path/served``."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_fetch_checks_the_hash(local_server, tmp_path, data_dir):
    served, url = local_server
    good = (data_dir / "baseball_patent_query.csv").read_bytes()
    (served / "good.csv").write_bytes(good)
    (served / "tampered.csv").write_bytes(good.replace(b"baseball", b"football", 1))
    path = corpus.fetch("baseball", cache_dir=tmp_path / "cache", url=url + "good.csv")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == corpus.CORPORA["baseball"].sha256
    with pytest.raises(CorpusError, match="sha256"):
        corpus.fetch("baseball", cache_dir=tmp_path / "cache2", url=url + "tampered.csv")
    assert not (tmp_path / "cache2" / "baseball_patent_query.csv").exists()


def test_offline_without_a_local_copy_says_how_to_provide_the_file(tmp_path):
    with pytest.raises(CorpusError, match="PATENTRNN_DATA"):
        corpus.fetch("baseball", cache_dir=tmp_path, url="http://127.0.0.1:9/nothing.csv")


def test_split_keeps_each_abstract_in_one_part_and_is_deterministic(data_dir):
    abstracts = corpus.load_corpus("neural-network", data_dir).abstracts
    parts = split_abstracts(abstracts)
    train, validation, test = set(parts.train), set(parts.validation), set(parts.test)
    assert not train & validation and not train & test and not validation & test
    assert len(parts.train) + len(parts.validation) + len(parts.test) == len(abstracts)
    assert 0.07 < len(parts.test) / len(abstracts) < 0.13
    assert split_abstracts(list(reversed(abstracts))).test == list(reversed(parts.test))
    assert split_abstracts(abstracts, SplitConfig(seed=1)).test != parts.test


def test_split_rejects_bad_fractions():
    with pytest.raises(ValueError):
        split_abstracts(["a b"], SplitConfig(validation=0.6, test=0.5))
