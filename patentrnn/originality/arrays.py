"""The originality index's contents and file format: a suffix array over the training abstracts'
word ids, BM25 postings over every abstract, and each abstract's number, title, date and first words,
in one file of 64-byte aligned arrays after a JSON header (checked by CRC when opened, ``index.Index``)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

from .. import corpus as corpus_module
from ..vocabulary import ABSTRACT_ID, END_ID, PAD_ID, TITLE_ID, UNK_ID, detokenize

INDEX_VERSION = 3  # bump when the file's layout or contents change: old files are then rebuilt
MAGIC = b"patentrnn originality index\n"
EXCERPT_WORDS = 30  # an abstract's first words kept for display
PARTS = ("train", "validation", "test")
BM25_K1, BM25_B = 1.5, 0.75


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
    special = (PAD_ID, UNK_ID, *((TITLE_ID, ABSTRACT_ID, END_ID) if vocabulary.has_titles else ()))
    out = np.full(len(vocabulary), -1, np.int32)
    for position, word in enumerate(vocabulary.words):
        if position in special or not any(ch.isalnum() for ch in word):
            continue
        out[position] = terms.setdefault(word.lower(), len(terms))
    return out


def _copy_arrays(documents: list[np.ndarray], parts: np.ndarray):
    """The longest copy's arrays: the training abstracts, each followed by PAD (which no text
    holds), as one stream; its suffix array; where each abstract starts, and its row."""
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
    return stream, suffixes, stream_starts, training


def build_arrays(records: list, vocabulary, split: corpus_module.SplitConfig) -> dict[str, np.ndarray]:
    """The index's arrays for ``records`` (``corpus.Record``), in the vocabulary's ids."""
    documents = [np.asarray(vocabulary.encode(record.abstract), np.int32) for record in records]
    parts = np.array([PARTS.index(corpus_module.part_of(record.abstract, split)) for record in records], np.uint8)
    lengths = np.array([len(ids) for ids in documents], np.int64)
    document_offsets = np.concatenate([[0], np.cumsum(lengths)])
    all_ids = np.concatenate(documents) if documents else np.zeros(0, np.int32)

    stream, suffixes, stream_starts, training = _copy_arrays(documents, parts)

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
