"""Patent abstract corpora: locate, read, clean and split.

A corpus is a file of documents: a CSV with a ``patent_abstract`` column (the PatentsView
export has patent_abstract, patent_date, patent_number, patent_title), or any CSV/TSV
column, plain text or JSON lines (``patentrnn.documents``, ``ReadOptions``). Two named corpora are
fetched from their public origin (or ``PATENTRNN_DATA_URL``, a mirror) on first use
and checked against a sha256; a local directory named by ``PATENTRNN_DATA`` (or an
explicit path) is used instead when given.

    >>> from patentrnn import corpus
    >>> c = corpus.load_corpus("neural-network")
    >>> parts = corpus.split_abstracts(c.abstracts)
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import progress, settings
from .documents import DocumentsError, ReadOptions, iter_documents
from .errors import InputError
from .settings import DATA_ENV, DATA_URL_ENV, setting

ORIGIN = "https://raw.githubusercontent.com/WillKoehrsen/recurrent-neural-networks/master/data/"


@dataclass(frozen=True)
class CorpusSource:
    """Where a named corpus comes from and the hash its file must have."""

    filename: str
    sha256: str

    @property
    def url(self) -> str:
        base = setting(DATA_URL_ENV) or ORIGIN  # a mirror (the files' sha256 must still match)
        return base.rstrip("/") + "/" + self.filename


CORPORA: dict[str, CorpusSource] = {
    "neural-network": CorpusSource(
        "neural_network_patent_query.csv",
        "6e9f9a2e4cf762b457de0b6fcd255412476970cd68c7b2ded763f88ed51e04f6",
    ),
    "baseball": CorpusSource(
        "baseball_patent_query.csv",
        "1b3abe5f2c4fb882cba0ba3e7acbde71627d6cb776faec4351e2ffe3cc003b97",
    ),
}


class CorpusError(InputError):
    """A corpus cannot be found, fetched, verified or read."""


@dataclass(frozen=True)
class Corpus:
    """Cleaned abstracts of one CSV file, with the file's identity."""

    name: str
    path: Path
    sha256: str
    abstracts: list[str] = field(repr=False)
    options: ReadOptions = ReadOptions()
    skipped: int = 0  # documents of fewer than MIN_WORDS words
    titles: list[str] = field(default_factory=list, repr=False)  # cleaned, parallel to abstracts ('' where none)

    def card(self) -> dict:
        """What a bundle's card records of its corpus, so that the corpus can be found again."""
        record = {"name": self.name, "sha256": self.sha256, "abstracts": len(self.abstracts)}
        if self.name not in CORPORA:
            record["path"] = str(self.path.resolve())
        if self.options.to_dict():
            record["read"] = self.options.to_dict()
        return record


MIN_WORDS = 2  # a shorter document is skipped (and counted)


# --- cleaning, as the reference did it -------------------------------------------

PUNCTUATION = ".,;?"  # cleaning spaces these out: tokens of their own, written against the word before
_SPACE_BEFORE_PUNCT = re.compile(rf"(?<=[^\s0-9])(?=[{re.escape(PUNCTUATION)}])")
_FIGURE_REFERENCE = re.compile(r"\((\d+)\)")
_WHITESPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Space out ``. , ; ?`` after a word, drop ``(12)``-style figure references,
    collapse whitespace.

    Examples:
        >>> clean("A network (10) learns, fast.")
        'A network learns , fast .'
    """
    text = _SPACE_BEFORE_PUNCT.sub(" ", text)
    text = _FIGURE_REFERENCE.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def strip_controls(text: str) -> str:
    """Control and format characters (NUL, bidi overrides, zero-width joiners) become spaces."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)


# --- locating and reading ----------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(name: str, cache_dir: Path | None = None, url: str | None = None) -> Path:
    """Download a named corpus into the cache with pooch, checking its sha256.

    ``url`` overrides the public origin (tests serve a file locally).
    """
    import pooch  # imported here: only a first download needs it

    source = CORPORA[name]
    try:
        path = pooch.retrieve(
            url or source.url,
            known_hash=f"sha256:{source.sha256}",
            fname=source.filename,
            path=cache_dir or pooch.os_cache("patentrnn"),
            progressbar=progress.shown(),  # (a tqdm bar on a terminal)
        )
    except ValueError as error:  # pooch's hash mismatch
        raise CorpusError(f"corpus {name!r}: downloaded file failed its sha256 check ({error})") from error
    except Exception as error:  # network errors come in many types
        raise CorpusError(
            f"corpus {name!r} could not be downloaded from {url or source.url} ({type(error).__name__}). "
            f"Download {source.filename} yourself and set {DATA_ENV} to the directory holding it, "
            "or pass the CSV's path instead of the name."
        ) from error
    return Path(path)


def locate(name_or_path: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> tuple[str, Path]:
    """Return ``(corpus name, CSV path)`` for a corpus name or a CSV path.

    Names are looked up in ``data_dir``, then ``$PATENTRNN_DATA``, then fetched.
    A local copy of a named corpus must have the published sha256.
    """
    text = str(name_or_path)
    if text in CORPORA:
        source = CORPORA[text]
        directory = settings.data_dir(data_dir)
        if directory:
            path = Path(directory).expanduser().resolve() / source.filename
            if not path.is_file():
                raise CorpusError(
                    f"corpus {text!r}: {path} does not exist; {DATA_ENV} must name a directory "
                    f"holding {source.filename}"
                )
            actual = sha256_of(path)
            if actual != source.sha256:
                raise CorpusError(f"corpus {text!r}: {path} has sha256 {actual}, expected {source.sha256}")
            return text, path
        return text, fetch(text)
    path = Path(text).expanduser()
    if path.suffix or path.exists() or os.sep in text:
        if not path.is_file():
            raise CorpusError(f"no such corpus file: {path}")
        return path.name.split(".")[0] or path.name, path
    raise CorpusError(f"unknown corpus {text[:80]!r}: use one of {', '.join(CORPORA)} or a path to a file")


def source_of(card_corpus: dict) -> tuple[Path, ReadOptions]:
    """The file a bundle's corpus came from (its card's "corpus"), checked against its sha256, and
    how to read it. Raises CorpusError, one line, when it cannot be found or has changed."""
    name = card_corpus.get("name")
    if name in CORPORA:  # (locate checks the published sha256)
        if card_corpus.get("sha256") not in (None, CORPORA[name].sha256):
            raise CorpusError(f"the model was trained on another version of the {name!r} corpus")
        return locate(name)[1], ReadOptions(**card_corpus.get("read", {}))
    if not card_corpus.get("path"):
        raise CorpusError(f"the model's corpus {name!r} is not a named corpus and its card records no path")
    path = Path(card_corpus["path"])
    if not path.is_file():
        raise CorpusError(f"the model's corpus file {path} is not there any more")
    if sha256_of(path) != card_corpus.get("sha256"):
        raise CorpusError(f"the model's corpus file {path} has changed since it was trained on")
    return path, ReadOptions(**card_corpus.get("read", {}))


@dataclass(frozen=True)
class Record:
    """One abstract, cleaned, with the patent it belongs to ('' where the CSV lacks a column)."""

    abstract: str
    patent_number: str
    patent_title: str
    patent_date: str


def iter_abstracts(path: str | os.PathLike, options: ReadOptions = ReadOptions()) -> Iterator[str]:
    """Stream the cleaned documents of at least ``MIN_WORDS`` words of a file."""
    for record in iter_records(path, options):
        yield record.abstract


def iter_records(path: str | os.PathLike, options: ReadOptions = ReadOptions(), counts: dict | None = None):
    """Stream the cleaned documents of at least ``MIN_WORDS`` words of a file, with their patent's
    number, title and date ('' where the file has none); ``counts["skipped"]`` counts the shorter ones."""
    try:
        for document in iter_documents(path, options):
            text = clean(document.text)
            if len(text.split()) < MIN_WORDS:
                if counts is not None:
                    counts["skipped"] = counts.get("skipped", 0) + 1
                continue
            yield Record(text, document.id, document.title, document.date)
    except DocumentsError as error:
        raise CorpusError(str(error)) from None


def read_abstracts(
    path: str | os.PathLike, options: ReadOptions = ReadOptions(), counts: dict | None = None
) -> list[str]:
    """The cleaned documents of a file, short ones dropped (and counted in ``counts["skipped"]``)."""
    abstracts = [record.abstract for record in iter_records(path, options, counts)]
    if not abstracts:
        raise CorpusError(f"{path} has no document of {MIN_WORDS} words or more")
    return abstracts


def load_corpus(
    name_or_path: str | os.PathLike, data_dir: str | os.PathLike | None = None, options: ReadOptions = ReadOptions()
) -> Corpus:
    """Locate and read a corpus by name (``neural-network``, ``baseball``) or file path."""
    name, path = locate(name_or_path, data_dir)
    counts: dict = {}
    records = list(iter_records(path, options, counts))
    if not records:
        raise CorpusError(f"{path} has no document of {MIN_WORDS} words or more")
    abstracts = [record.abstract for record in records]
    titles = [clean(record.patent_title) for record in records]
    return Corpus(name, path, sha256_of(path), abstracts, options, counts.get("skipped", 0), titles)


# --- an honest split -----------------------------------------------------------------


@dataclass(frozen=True)
class SplitConfig:
    """Fractions of abstracts for validation and test; the rest trains."""

    validation: float = 0.1
    test: float = 0.1
    seed: int = 0  # changes which abstracts land where, deterministically


@dataclass(frozen=True)
class Split:
    train: list[str]
    validation: list[str]
    test: list[str]
    # with titles: each part's titles, parallel to its abstracts
    titles: dict[str, list[str]] = field(default_factory=dict, repr=False)


def part_of(text: str, config: SplitConfig = SplitConfig()) -> str:
    """Which part, ``train``, ``validation`` or ``test``, an abstract belongs to."""
    # A hash of the text, not a shuffle of positions: identical abstracts (the
    # neural-network corpus has 341 repeats) always land in the same part, and an
    # abstract keeps its part when others are added or removed.
    digest = hashlib.sha256(f"{config.seed}\x00{text}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < config.test:
        return "test"
    if position < config.test + config.validation:
        return "validation"
    return "train"


def records_of(card_corpus: dict, split: SplitConfig, part: str) -> Iterator[tuple[int, Record]]:
    """``(row, record)`` of each abstract in ``part`` of a bundle's corpus (its card's "corpus"), row
    counting every abstract the model was trained from (the originality index's rows)."""
    path, options = source_of(card_corpus)
    records = itertools.islice(iter_records(path, options), card_corpus.get("abstracts"))
    return ((row, record) for row, record in enumerate(records) if part_of(record.abstract, split) == part)


def split_abstracts(
    abstracts: list[str], config: SplitConfig = SplitConfig(), titles: list[str] | None = None
) -> Split:
    """Split whole abstracts into train / validation / test, deterministically; ``titles``
    (parallel to ``abstracts``) go with their abstract."""
    if not 0 <= config.validation < 1 or not 0 <= config.test < 1 or config.validation + config.test >= 1:
        raise InputError("validation and test fractions must be in [0, 1) and sum to less than 1")
    parts: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    part_titles: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for position, text in enumerate(abstracts):
        part = part_of(text, config)
        parts[part].append(text)
        if titles is not None:
            part_titles[part].append(titles[position])
    return Split(**parts, titles=part_titles if titles is not None else {})


def normalised_title(title: str) -> str:
    """A title's letters and digits, lower case, single-spaced: how sibling patents' titles are matched."""
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))
