"""Is it new? The closest real patents to a text, and the longest run of its words
copied from the model's training abstracts.

    >>> import patentrnn
    >>> generator = patentrnn.load()
    >>> check = generator.originality("A neural network trained on patent abstracts")
    >>> check.longest_copy.length, check.longest_copy.patent_number
    >>> [(near.patent_number, near.title, near.score) for near in check.nearest]

Two searches over one index per model corpus:

- **Longest copy**: a suffix array over the training abstracts' word ids (the bundle's
  vocabulary, so an unknown word never matches). For each start in the text, a binary
  search finds the training suffix that shares the most words with it.
- **Nearest**: BM25 (k1 1.5, b 0.75, Lucene's idf) over every abstract of the corpus,
  train, validation and test, words lowercased, punctuation dropped.

BM25 is written here rather than taken from a library because of what the libraries
cost a serving kernel, measured on the neural-network corpus with numpy already loaded:
bm25s, +3.2 MiB PSS to import and +9.8 MiB with its memory-mapped index loaded (its
vocabulary is a Python dict); rank-bm25, +8.5 MiB and 137 ms a 150-word query (pure
Python over one dict an abstract). Here the postings are memory-mapped arrays in the
bundle's word ids, whose dict the generator already holds; a query takes ~1 ms.

The index is built once per (corpus sha256, abstracts used, split, vocabulary) and
cached as one file beside pooch's corpus cache (``$PATENTRNN_CACHE`` overrides the
directory); a missing, stale or damaged file is rebuilt. It is memory-mapped, so a
serving kernel reads only the pages a check touches. Built from the corpus, the file
never enters the repository.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import math
import mmap
import os
import statistics
import subprocess
import sys
import tempfile
import time
import weakref
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np

from . import corpus as corpus_module
from .vocabulary import PAD_ID, UNK_ID, detokenize

log = logging.getLogger(__name__)

INDEX_VERSION = 3  # bump when the file's layout or contents change: old files are then rebuilt
CACHE_ENV = "PATENTRNN_CACHE"
MAGIC = b"patentrnn originality index\n"
NEAREST = 3  # closest real patents reported
EXCERPT_WORDS = 30  # an abstract's first words kept for display
MAX_CHARACTERS = 100_000  # a longer text is refused (a generation holds at most 5,500 words)
SOURCE_CANDIDATES = 10  # random start: the BM25 ranks searched for the abstract the seed came from
BM25_K1, BM25_B = 1.5, 0.75
PARTS = ("train", "validation", "test")
UNAVAILABLE = "Closest real patents and copied spans need the model's corpus, which is not available here."
FAILED = "The check for closest real patents and copied spans failed this time."


# --- results ---------------------------------------------------------------------------


def patent_url(number: str) -> str:
    """The patent's public page."""
    return f"https://patents.google.com/patent/US{quote(number, safe='')}"


@dataclass
class CopiedSpan:
    """The longest run of the text's words found word for word in one training abstract."""

    words: list[str]
    length: int
    start: int  # position of its first word among the text's words (as tokenized)
    patent_number: str
    title: str
    date: str
    url: str


@dataclass
class NearPatent:
    """A real abstract of the model's corpus close to the text (BM25)."""

    patent_number: str
    title: str
    date: str
    score: float
    part: str  # train, validation or test
    first_words: str
    url: str
    source: bool = False  # random start: the abstract the seed came from, not prior art


@dataclass
class Originality:
    """What ``Generator.originality`` found."""

    words: int  # words checked
    seed_words: int  # the first words, the user's, where a copy may start but not lie wholly
    longest_copy: CopiedSpan | None  # None: no word of the text is in a training abstract
    nearest: list[NearPatent]  # the NEAREST closest (none share a word: empty); random mode: the source first
    corpus: str
    timings: dict = field(default_factory=dict)  # milliseconds

    @property
    def copied_words(self) -> int:
        return self.longest_copy.length if self.longest_copy else 0

    @property
    def prior_art(self) -> list[NearPatent]:
        return [near for near in self.nearest if not near.source]

    @property
    def source(self) -> NearPatent | None:
        return next((near for near in self.nearest if near.source), None)


class OriginalityUnavailable(ValueError):
    """The index cannot be built: the corpus is missing or is not the model's."""


# --- the index file ----------------------------------------------------------------------


def cache_dir() -> Path:
    """``$PATENTRNN_CACHE``, else pooch's cache directory for patentrnn (where a fetched corpus lies).

    platformdirs is what ``pooch.os_cache`` calls; importing pooch itself would cost a
    serving kernel 4.9 MiB of PSS."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("patentrnn"))


def index_identity(card: dict, vocabulary, split: corpus_module.SplitConfig) -> dict:
    """What an index depends on; its sha256 names the file."""
    corpus = card.get("corpus", {})
    if not corpus.get("name") or not corpus.get("sha256"):
        raise OriginalityUnavailable("the model's card does not name its corpus and its sha256")
    words = hashlib.sha256("\n".join(vocabulary.words).encode()).hexdigest()
    return {
        "corpus": corpus["name"],
        "corpus_sha256": corpus["sha256"],
        "abstracts": corpus.get("abstracts"),
        "read": corpus.get("read", {}),
        "split": [split.validation, split.test, split.seed],
        "filters": vocabulary.filters,
        "vocabulary_sha256": words,
    }


def index_path(identity: dict, directory: Path | None = None) -> Path:
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    name = f"originality-{identity['corpus_sha256'][:12]}-{key[:16]}"
    return (directory or cache_dir()) / f"{name}-v{INDEX_VERSION}.idx"


def _suffix_array(tokens: np.ndarray) -> np.ndarray:
    """Suffix array by prefix doubling (numpy sorts; ~1 s for 400,000 words)."""
    n = len(tokens)
    rank = tokens.astype(np.int64)
    step = 1
    while True:
        second = np.full(n, -1, np.int64)
        second[: n - step] = rank[step:]
        order = np.lexsort((second, rank))
        first_sorted, second_sorted = rank[order], second[order]
        new = np.empty(n, bool)
        new[0] = True
        new[1:] = (first_sorted[1:] != first_sorted[:-1]) | (second_sorted[1:] != second_sorted[:-1])
        rank = np.empty(n, np.int64)
        rank[order] = np.cumsum(new) - 1
        if rank.max() == n - 1 or step >= n:
            return order.astype(np.int32)
        step *= 2


def _terms_of_words(vocabulary) -> np.ndarray:
    """Each vocabulary id's BM25 term (its lowercased form), -1 for punctuation and specials."""
    terms: dict[str, int] = {}
    out = np.full(len(vocabulary), -1, np.int32)
    for position, word in enumerate(vocabulary.words):
        if position in (PAD_ID, UNK_ID) or not any(ch.isalnum() for ch in word):
            continue
        out[position] = terms.setdefault(word.lower(), len(terms))
    return out


def build_arrays(records: list, vocabulary, split: corpus_module.SplitConfig) -> dict[str, np.ndarray]:
    """The index's arrays for ``records`` (``corpus.Record``), in the vocabulary's ids."""
    documents = [np.asarray(vocabulary.encode(record.abstract), np.int32) for record in records]
    parts = np.array([PARTS.index(corpus_module.part_of(record.abstract, split)) for record in records], np.uint8)
    lengths = np.array([len(ids) for ids in documents], np.int64)
    document_offsets = np.concatenate([[0], np.cumsum(lengths)])
    all_ids = np.concatenate(documents) if documents else np.zeros(0, np.int32)

    # Longest copy: training abstracts, each followed by PAD, which no text holds.
    training = np.flatnonzero(parts == 0)
    stream_parts, stream_starts, position = [], [], 0
    for row in training:
        stream_starts.append(position)
        stream_parts.append(documents[row])
        stream_parts.append(np.array([PAD_ID], np.int32))
        position += len(documents[row]) + 1
    stream = np.concatenate(stream_parts) if stream_parts else np.zeros(0, np.int32)
    suffixes = _suffix_array(stream) if len(stream) else np.zeros(0, np.int32)
    suffixes = suffixes[stream[suffixes] > UNK_ID]  # a suffix that starts at PAD or <unk> matches nothing

    # BM25 over every part: postings grouped by term, each with its precomputed weight.
    term_of_word = _terms_of_words(vocabulary)
    term_count = int(term_of_word.max()) + 1 if len(term_of_word) else 0
    document_of_token = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
    terms = term_of_word[all_ids]
    keep = terms >= 0
    pairs, tf = np.unique(document_of_token[keep] * term_count + terms[keep], return_counts=True)
    posting_documents, posting_terms = pairs // term_count, pairs % term_count  # sorted by document, then term
    document_length = np.bincount(document_of_token[keep], minlength=len(documents)).astype(np.float64)
    average = document_length.mean() if len(documents) else 1.0
    df = np.bincount(posting_terms, minlength=term_count)
    idf = np.log1p((len(documents) - df + 0.5) / (df + 0.5))
    norm = BM25_K1 * (1 - BM25_B + BM25_B * document_length[posting_documents] / max(average, 1e-9))
    weights = idf[posting_terms] * tf * (BM25_K1 + 1) / (tf + norm)
    by_term = np.argsort(posting_terms, kind="stable")
    term_offsets = np.concatenate([[0], np.cumsum(df)])

    def blob(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        encoded = [text.encode() for text in texts]
        offsets = np.concatenate([[0], np.cumsum([len(item) for item in encoded])]).astype(np.int64)
        return np.frombuffer(b"".join(encoded), np.uint8), offsets

    about, about_offsets = blob(
        [
            json.dumps(
                [r.patent_number, r.patent_title, r.patent_date, detokenize(r.abstract.split(" ")[:EXCERPT_WORDS])],
                ensure_ascii=False,
            )
            for r in records
        ]
    )
    return {
        # big-endian, so that bytes compare in word-id order; 2 bytes a word while the ids fit.
        # The narrow types halve what a check maps into a kernel (7.9 MiB file, 4.9 with them).
        "stream": stream.astype(">u2" if len(vocabulary) <= 1 << 16 else ">u4"),
        "suffixes": suffixes.astype("<i4"),
        "stream_starts": np.asarray(stream_starts, np.int64),
        "stream_rows": training.astype(np.int64),
        "documents": all_ids.astype(np.uint16 if len(vocabulary) <= 1 << 16 else np.int32),
        "document_offsets": document_offsets.astype(np.int64),
        "parts": parts,
        "term_of_word": term_of_word,
        "term_offsets": term_offsets.astype(np.int64),
        "posting_documents": posting_documents[by_term].astype(np.uint16 if len(records) <= 1 << 16 else np.int32),
        "posting_weights": weights[by_term].astype(np.float32),
        "about": about,
        "about_offsets": about_offsets,
    }


def write_index(path: Path, arrays: dict[str, np.ndarray], identity: dict) -> None:
    """One file: magic, header length, JSON header, then each array 64-byte aligned.
    Written beside the target and renamed, so a reader never sees half a file."""
    layout, offset = {}, 0
    for name, array in arrays.items():
        offset = -(-offset // 64) * 64
        layout[name] = [array.dtype.str, list(array.shape), offset]
        offset += array.nbytes
    crc = 0
    for array in arrays.values():
        crc = zlib.crc32(np.ascontiguousarray(array).tobytes(), crc)
    header = json.dumps(
        {
            "version": INDEX_VERSION,
            "identity": identity,
            "arrays": layout,
            "data_bytes": offset,
            "crc32": crc,
            "byteorder": sys.byteorder,
        }
    ).encode()
    start = -(-(len(MAGIC) + 8 + len(header)) // 64) * 64
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for name, array in arrays.items():
                out.seek(start + layout[name][2])
                out.write(np.ascontiguousarray(array).tobytes())
            out.truncate(start + offset)
        os.chmod(staging, 0o644)  # mkstemp makes it private; a cache is readable like pooch's files
        os.replace(staging, path)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    for old in path.parent.glob(path.name.rsplit("-v", 1)[0] + "-v*.idx"):  # other versions of this index
        if old != path:
            old.unlink(missing_ok=True)


class Index:
    """A memory-mapped index file. ``Index.open`` checks it and raises ValueError when damaged."""

    def __init__(self, path: Path, header: dict, mapped: mmap.mmap, start: int):
        self.path, self.identity, self._map = path, header["identity"], mapped
        self.arrays = {
            name: np.frombuffer(mapped, np.dtype(dtype), int(np.prod(shape)), start + offset).reshape(shape)
            for name, (dtype, shape, offset) in header["arrays"].items()
        }
        a = self.arrays
        self._stream_base = start + header["arrays"]["stream"][2]
        self._word = a["stream"].dtype
        self._width = self._word.itemsize
        # bisect reads the suffix array through a memoryview: Python ints, no numpy scalar per step
        suffix_offset = start + header["arrays"]["suffixes"][2]
        self._suffixes = memoryview(mapped)[suffix_offset : suffix_offset + a["suffixes"].nbytes].cast("i")
        self.documents = len(a["parts"])

    @classmethod
    def open(cls, path: Path, identity: dict) -> Index:
        with open(path, "rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise ValueError("not an originality index")
            length = int.from_bytes(handle.read(8), "little")
            if not 0 < length < 1 << 20:
                raise ValueError("damaged header")
            header = json.loads(handle.read(length))
            if header.get("version") != INDEX_VERSION or header.get("identity") != identity:
                raise ValueError("built for another version, corpus or model")
            if header.get("byteorder") != sys.byteorder:
                raise ValueError("built on a machine of another byte order")
            start = -(-(len(MAGIC) + 8 + length) // 64) * 64
            if os.fstat(handle.fileno()).st_size != start + header["data_bytes"]:
                raise ValueError("truncated")
            # CRC through read(), not the map: checking it adds nothing to the process's PSS.
            crc, buffer = 0, memoryview(bytearray(1 << 16))  # one small buffer: no lasting heap growth
            for dtype, shape, offset in header["arrays"].values():
                handle.seek(start + offset)
                remaining = int(np.prod(shape)) * np.dtype(dtype).itemsize
                while remaining:
                    got = handle.readinto(buffer[: min(remaining, len(buffer))])
                    if not got:
                        raise ValueError("truncated")
                    crc = zlib.crc32(buffer[:got], crc)
                    remaining -= got
            if crc != header["crc32"]:
                raise ValueError("checksum mismatch")
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return cls(path, header, mapped, start)

    # --- searches ------------------------------------------------------------------------

    def _stream_bytes(self, position: int, length: int) -> bytes:
        start = self._stream_base + self._width * position
        return self._map[start : start + length]

    def longest_copy(self, ids: np.ndarray, seed_words: int = 0) -> tuple[int, int, int]:
        """``(length, start in ids, stream position)`` of the longest run of ``ids`` found in a
        training abstract, not lying wholly inside the first ``seed_words``; length 0 if none."""
        n = len(ids)
        if not n or not len(self._suffixes):
            return 0, 0, -1
        known = ids > UNK_ID
        # each position's segment end: the next unknown word (or the end), which no run crosses
        breaks = np.flatnonzero(~known)
        segment_end = np.full(n, n, np.int64)
        if len(breaks):
            following = np.searchsorted(breaks, np.arange(n), side="left")
            has_break = following < len(breaks)
            segment_end[has_break] = breaks[following[has_break]]
        query, width = ids.astype(self._word).tobytes(), self._width
        suffixes, stream = self._suffixes, self._stream_bytes
        # the bisect key inlines _stream_bytes (~3,000 calls a check): measured 18% less time bisecting
        mapped, base = self._map, self._stream_base
        best = (0, 0, -1)
        for start in range(n):
            end = int(segment_end[start])
            if not known[start] or end <= seed_words or end - start <= best[0]:
                continue  # unknown, wholly inside the seed, or cannot beat the best
            key = query[width * start : width * end]
            size = len(key)
            place = bisect.bisect_left(
                suffixes, key, key=lambda position: mapped[base + width * position : base + width * position + size]
            )
            for candidate in (place - 1, place):
                if 0 <= candidate < len(suffixes):
                    position = suffixes[candidate]
                    length = _common_words(key, stream(position, size), self._word)
                    if length > best[0] and start + length > seed_words:
                        best = (length, start, position)
        return best

    def continuations(self, ids: list[int]) -> list[int]:
        """The word ids that follow ``ids`` somewhere in a training abstract: the words that would
        make ``ids`` a copied run one word longer. Empty when ``ids`` holds an unknown word or occurs
        nowhere. Two bisections of the memory-mapped suffix array (one when absent, the usual case)."""
        if not ids or min(ids) <= UNK_ID or not len(self._suffixes):
            return []
        key = np.asarray(ids, self._word).tobytes()
        size, width, mapped, base, suffixes = len(key), self._width, self._map, self._stream_base, self._suffixes

        def prefix(position):
            return mapped[base + width * position : base + width * position + size]

        low = bisect.bisect_left(suffixes, key, key=prefix)
        if low == len(suffixes) or prefix(suffixes[low]) != key:
            return []
        high = bisect.bisect_right(suffixes, key, lo=low, key=prefix)
        after = base + width * len(ids)  # the word after a match, as bytes of the big-endian stream
        following = {int.from_bytes(mapped[after + width * suffixes[i] : after + width * (suffixes[i] + 1)], "big")
                     for i in range(low, high)}  # fmt: skip
        return sorted(word for word in following if word > UNK_ID)  # PAD: the abstract ended there

    def scores(self, ids: np.ndarray) -> np.ndarray:
        """BM25 score of every abstract for a text's word ids (each distinct term counted once)."""
        a = self.arrays
        terms = a["term_of_word"][ids[(ids >= 0) & (ids < len(a["term_of_word"]))]]
        # distinct terms through a mask, and one small += a term: np.unique and a weighted
        # np.bincount would each add ~1 MiB to a kernel on first use (numpy's own set-up)
        present = np.zeros(len(a["term_offsets"]) - 1, bool)
        present[terms[terms >= 0]] = True
        scores = np.zeros(self.documents, np.float32)
        offsets = a["term_offsets"]
        for term in np.flatnonzero(present):
            start, end = offsets[term], offsets[term + 1]
            scores[a["posting_documents"][start:end]] += a["posting_weights"][start:end]
        return scores

    def contains(self, row: int, ids: np.ndarray) -> bool:
        """Whether abstract ``row`` holds ``ids`` word for word."""
        a = self.arrays
        document = a["documents"][a["document_offsets"][row] : a["document_offsets"][row + 1]]
        if len(ids) > len(document):
            return False
        for start in np.flatnonzero(document[: len(document) - len(ids) + 1] == ids[0]):
            if np.array_equal(document[start : start + len(ids)], ids):
                return True
        return False

    def about(self, row: int) -> tuple[str, str, str, str]:
        """``(number, title, date, first words)`` of abstract ``row``."""
        offsets = self.arrays["about_offsets"]
        return tuple(json.loads(self.arrays["about"][offsets[row] : offsets[row + 1]].tobytes()))

    def training_row(self, stream_position: int) -> int:
        starts = self.arrays["stream_starts"]
        return int(self.arrays["stream_rows"][np.searchsorted(starts, stream_position, side="right") - 1])

    def near(self, row: int, score: float, source: bool = False) -> NearPatent:
        number, title, date, first_words = self.about(row)
        part = PARTS[int(self.arrays["parts"][row])]
        return NearPatent(number, title, date, round(float(score), 3), part, first_words, patent_url(number), source)

    def check(self, words: list[str], ids: np.ndarray, seed_words: int = 0, source_ids=None) -> Originality:
        """Both searches for a tokenized text (``ids`` in the model's vocabulary)."""
        started = time.perf_counter()
        length, start, position = self.longest_copy(ids, seed_words)
        copy = None
        if length:
            number, title, date, _ = self.about(self.training_row(position))
            copy = CopiedSpan(words[start : start + length], length, start, number, title, date, patent_url(number))
        copied = time.perf_counter()
        scores = self.scores(ids)
        wanted = min(self.documents, NEAREST + (SOURCE_CANDIDATES if source_ids is not None else 0))
        if wanted:  # every abstract scoring at least the wanted-th best: ties (repeated abstracts) go by corpus order
            top = np.flatnonzero(scores >= -np.partition(-scores, wanted - 1)[wanted - 1])
            top = top[np.lexsort((top, -scores[top]))][:wanted]
        else:
            top = np.zeros(0, np.int64)
        top = top[scores[top] > 0]  # an abstract sharing no word with the text is not close
        nearest, prior_art = [], 0
        for row in top:
            is_source = source_ids is not None and len(source_ids) > 0 and self.contains(int(row), source_ids)
            if is_source or prior_art < NEAREST:
                nearest.append(self.near(int(row), scores[row], is_source))
                prior_art += not is_source
        nearest.sort(key=lambda near: not near.source)  # the source first, then prior art by score
        finished = time.perf_counter()
        return Originality(
            words=len(ids),
            seed_words=seed_words,
            longest_copy=copy,
            nearest=nearest,
            corpus=self.identity["corpus"],
            timings={
                "copy_ms": round((copied - started) * 1000, 3),
                "nearest_ms": round((finished - copied) * 1000, 3),
            },
        )


def _common_words(a: bytes, b: bytes, word: np.dtype) -> int:
    """How many leading words (of dtype ``word``) two byte strings share."""
    count = min(len(a), len(b)) // word.itemsize
    size = count * word.itemsize
    if a[:size] == b[:size]:
        return count
    left, right = np.frombuffer(a, word, count), np.frombuffer(b, word, count)
    return int(np.argmax(left != right))


# --- an index per model -----------------------------------------------------------------------

_open: dict[Path, Index] = {}
_by_generator: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # generator -> Index or error text


def build_index(card: dict, vocabulary, split: corpus_module.SplitConfig, directory: Path | None = None) -> Path:
    """Read the model's corpus, check its sha256 and write the index file; returns its path."""
    identity = index_identity(card, vocabulary, split)
    try:
        path, options = corpus_module.source_of(card["corpus"])
        if corpus_module.sha256_of(path) != identity["corpus_sha256"]:
            raise corpus_module.CorpusError(f"{path} is not the file the model was trained on")
        records = list(corpus_module.iter_records(path, options))[: identity["abstracts"]]
    except corpus_module.CorpusError as error:
        name = identity["corpus"]
        raise OriginalityUnavailable(f"the originality index needs the {name!r} corpus: {error}") from error
    target = index_path(identity, directory)
    started = time.perf_counter()
    arrays = build_arrays(records, vocabulary, split)
    try:
        write_index(target, arrays, identity)
    except OSError as error:  # a read-only cache: build into the temporary directory instead
        log.warning("cannot write the originality index to %s (%s); using a temporary file", target, error)
        target = index_path(identity, Path(tempfile.gettempdir()) / "patentrnn")
        write_index(target, arrays, identity)
    log.info("built %s in %.1f s (%d abstracts)", target, time.perf_counter() - started, len(records))
    return target


def build_in_child(card: dict, vocabulary, split: corpus_module.SplitConfig, directory: Path | None = None) -> Path:
    """``build_index`` in a separate interpreter. Reading and tokenizing the corpus leaves
    ~28 MiB on the heap of the process that does it (measured; 5.5 MiB even after
    malloc_trim), which a serving kernel would keep for its life; a child costs ~1 s more."""
    request = {
        "card": card,
        "words": vocabulary.words,
        "filters": vocabulary.filters,
        "split": [split.validation, split.test, split.seed],
        "directory": str(directory) if directory else None,
    }
    package_root = str(Path(__file__).resolve().parents[1])
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    code = "from patentrnn.originality import _build_request; raise SystemExit(_build_request())"
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(request), capture_output=True, text=True, env=environment
    )
    message = (done.stderr.strip().splitlines() or ["no message"])[-1]
    if done.returncode == 3:
        raise OriginalityUnavailable(message)
    if done.returncode:
        raise RuntimeError(f"building the originality index failed: {message}")
    return Path(done.stdout.strip().splitlines()[-1])


def _build_request() -> int:
    """``build_in_child``'s other half: a JSON request on stdin, the index's path on stdout."""
    from .vocabulary import Vocabulary

    request = json.loads(sys.stdin.read())
    directory = Path(request["directory"]) if request["directory"] else None
    split = corpus_module.SplitConfig(*request["split"])
    try:
        path = build_index(request["card"], Vocabulary(request["words"], request["filters"]), split, directory)
    except OriginalityUnavailable as error:
        print(error, file=sys.stderr)
        return 3
    print(path)
    return 0


def load_index(
    card: dict, vocabulary, split: corpus_module.SplitConfig, directory: Path | None = None, build=build_index
) -> Index:
    """The model's index: opened from the cache, or built there (by ``build``) when missing,
    stale or damaged."""
    identity = index_identity(card, vocabulary, split)
    path = index_path(identity, directory)
    if path in _open:
        return _open[path]
    index = None
    if path.is_file():
        try:
            index = Index.open(path, identity)
        except (OSError, ValueError) as error:
            log.warning("rebuilding the originality index %s: %s", path, error)
    if index is None:
        built = build(card, vocabulary, split, directory)
        index = Index.open(built, identity)
    _open[path] = index
    return index


def index_for(generator) -> Index:
    """The generator's index, opened once (built in a child process when missing); raises
    OriginalityUnavailable, remembered, without the corpus."""
    known = _by_generator.get(generator)
    if isinstance(known, Index):
        return known
    if isinstance(known, str):
        raise OriginalityUnavailable(known)
    try:
        index = load_index(generator.bundle.card, generator.vocabulary, generator.bundle.split, build=build_in_child)
    except OriginalityUnavailable as error:
        _by_generator[generator] = str(error)
        raise
    _by_generator[generator] = index
    return index


def check_text(generator, text: str, seed_words: int = 0) -> Originality:
    """``Generator.originality``: tokenize ``text`` as a seed is tokenized and check it.

    Raises ValueError for text that is not a string, is empty or holds more than
    ``MAX_CHARACTERS`` characters, or for a ``seed_words`` out of range."""
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if len(text) > MAX_CHARACTERS:
        raise ValueError(f"The text is too long to check: {len(text):,} characters, at most {MAX_CHARACTERS:,}.")
    words = generator.vocabulary.read(text)  # as a seed is read
    if not words:
        raise ValueError("Please give a text to check: it is empty.")
    if isinstance(seed_words, bool) or not isinstance(seed_words, int) or not 0 <= seed_words <= len(words):
        raise ValueError(f"seed_words must be a whole number from 0 to the text's {len(words)} words")
    ids = np.asarray(generator.vocabulary.encode_words(words), np.int64)
    return index_for(generator).check(words, ids, seed_words)


def for_generation(generator, result) -> tuple[Originality | None, str | None]:
    """The check ``generate()`` attaches: seed plus generated words, the seed's words as
    ``seed_words``; in random mode the abstract the seed came from is marked as the source.
    Without the corpus: ``(None, a one-line note)``, the reason in the log."""
    try:
        index = index_for(generator)
    except OriginalityUnavailable as error:
        log.warning("no originality check for %s: %s", generator.name, error)
        return None, UNAVAILABLE
    except Exception:  # a check must never cost the visitor the generated text
        log.exception("originality check failed for %s", generator.name)
        return None, FAILED
    words = list(result.seed_words) + result.generated_words
    ids = np.asarray(generator.vocabulary.encode_words(words), np.int64)
    source = None
    if result.mode == "random":
        source = np.asarray(generator.vocabulary.encode_words(result.seed_words + (result.actual_words or [])))
    return index.check(words, ids, len(result.seed_words), source), None


# --- memorisation figure -------------------------------------------------------------------------

MEMORISATION_SPAN = 8  # a copied run of this many generated words counts as memorised
SHARE_KEY = f"share_ge_{MEMORISATION_SPAN}"  # the card's figure: share of texts with such a run


def memorisation(generator, n: int = 200, words: int = 100, diversity: float = 0.8, max_copy=None) -> dict:
    """How much a model copies: ``n`` generations of ``words`` words at ``diversity``, rng
    seeds 0 … n-1, each from a random 50-word window of a test-split abstract. For each, the
    longest run of *generated* words found word for word in a training abstract (the seed
    is real text and never counts). Returns the share of runs ≥ ``MEMORISATION_SPAN`` words
    and the median longest run, for the bundle's card, with the generated words' perplexity under
    the model and the median generation time; with ``max_copy`` (generate's option), also how
    often it steered a draw and the probability it removed."""
    index = index_for(generator)
    longest, log_loss, steered, removed, milliseconds = [], [], 0, 0.0, []
    for rng_seed in range(n):
        result = generator.generate(
            None, words=words, diversity=diversity, rng_seed=rng_seed, originality=False, max_copy=max_copy
        )
        ids = np.asarray(generator.vocabulary.encode_words(result.generated_words), np.int64)
        longest.append(index.longest_copy(ids)[0])
        log_loss += [-math.log(max(item.probability, 1e-30)) for item in result.generated]
        milliseconds.append(result.timings["generate_ms"])
        if result.copy_guard:
            steered += result.copy_guard["steered"]
            removed += result.copy_guard["mass_removed"]
    figures = {
        "n": n,
        "words": words,
        "diversity": diversity,
        "rng_seeds": f"0-{n - 1}",
        "start": "random 50-word window of a test-split abstract",
        "span": MEMORISATION_SPAN,
        SHARE_KEY: round(sum(length >= MEMORISATION_SPAN for length in longest) / n, 4),
        "median_longest": statistics.median(longest),
        "p90_longest": float(np.percentile(longest, 90)),
        "max_longest": max(longest),
        "generated_perplexity": round(math.exp(statistics.fmean(log_loss)), 2),
        "generate_ms_median": round(statistics.median(milliseconds), 2),
        "index_version": INDEX_VERSION,
    }
    if max_copy is not None:
        figures.update(
            max_copy=max_copy,
            steered_share=round(steered / (n * words), 5),
            mass_removed_mean=round(removed / steered, 4) if steered else 0.0,
        )
    return figures


def memorisation_key(max_copy=None) -> str:
    """The card's key for memorisation figures: with ``max_copy``, its own."""
    return "memorisation" if max_copy is None else f"memorisation_max_copy_{max_copy}"


def write_memorisation(bundle_path: Path, figures: dict, measured_card: dict | None = None) -> None:
    """Put ``figures`` into the bundle's card.json as :func:`memorisation_key` (the weights are not touched).
    With ``measured_card`` (the card of the model measured), refuses when the bundle on disk
    has been replaced since, e.g. retrained."""
    card_path = Path(bundle_path) / "card.json"
    card = json.loads(card_path.read_text())
    key = memorisation_key(figures.get("max_copy"))
    if measured_card is not None and {**card, key: None} != {**measured_card, key: None}:
        raise ValueError(f"{bundle_path} changed while it was measured (retrained?): run the measurement again")
    card[key] = figures
    handle, staging = tempfile.mkstemp(prefix=".card.", suffix=".json", dir=card_path.parent)
    with os.fdopen(handle, "w") as out:
        out.write(json.dumps(card, indent=2) + "\n")
    os.replace(staging, card_path)
