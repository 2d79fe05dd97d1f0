"""Searching the originality index: the memory-mapped file, the longest copied run (bisection of the
suffix array), the words that would extend a copy (``max_copy``), and BM25's closest abstracts."""

from __future__ import annotations

import bisect
import json
import mmap
import os
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from ..vocabulary import UNK_ID
from . import arrays
from .arrays import MAGIC, PARTS
from .results import CopiedSpan, NearPatent, Originality, patent_url

NEAREST = 3  # closest real patents reported
SOURCE_CANDIDATES = 10  # random start: the BM25 ranks searched for the abstract the seed came from


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
            if header.get("version") != arrays.INDEX_VERSION or header.get("identity") != identity:
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

    def in_training(self) -> np.ndarray:
        """Which documents are training abstracts (one bool a row)."""
        return self.arrays["parts"] == PARTS.index("train")

    def document(self, row: int) -> np.ndarray:
        """A document's word ids."""
        offsets = self.arrays["document_offsets"]
        return self.arrays["documents"][offsets[row] : offsets[row + 1]].astype(np.intp)

    def word_counts(self, rows: np.ndarray, vocab_size: int) -> np.ndarray:
        """How often each word id appears in the documents that ``rows`` (one bool a row) selects."""
        offsets, documents = self.arrays["document_offsets"], self.arrays["documents"]
        selected = np.repeat(rows, np.diff(offsets))  # each word of the documents
        return np.bincount(documents[selected], minlength=vocab_size)

    def training_row(self, stream_position: int) -> int:
        starts = self.arrays["stream_starts"]
        return int(self.arrays["stream_rows"][np.searchsorted(starts, stream_position, side="right") - 1])

    def near(self, row: int, score: float, source: bool = False) -> NearPatent:
        number, title, date, first_words = self.about(row)
        part = PARTS[int(self.arrays["parts"][row])]
        return NearPatent(number, title, date, round(float(score), 3), part, first_words, patent_url(number), source,
                          row + 1)  # fmt: skip

    def check(self, words: list[str], ids: np.ndarray, seed_words: int = 0, source_ids=None) -> Originality:
        """Both searches for a tokenized text (``ids`` in the model's vocabulary)."""
        started = time.perf_counter()
        length, start, position = self.longest_copy(ids, seed_words)
        copy = None
        if length:
            row = self.training_row(position)
            number, title, date, _ = self.about(row)
            copy = CopiedSpan(words[start : start + length], length, start, number, title, date, patent_url(number),
                              row + 1)  # fmt: skip
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
