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

The package: ``results`` (what a check reports), ``arrays`` (the file's contents and format),
``index`` (searching it), ``store`` (the cache and building in a child process); here, the checks.
"""

from __future__ import annotations

import logging
import weakref

import numpy as np

from ..errors import InputError
from ..settings import CACHE_ENV, cache_dir
from ..vocabulary import read_input
from .arrays import INDEX_VERSION
from .index import NEAREST, Index
from .results import CopiedSpan, NearPatent, Originality, OriginalityUnavailable, patent_url
from .store import build_in_child, build_index, index_identity, index_path, load_index

__all__ = [
    "CACHE_ENV", "INDEX_VERSION", "MAX_CHARACTERS", "NEAREST", "CopiedSpan", "Index", "NearPatent", "Originality",
    "OriginalityUnavailable", "build_in_child", "build_index", "cache_dir", "check_text", "for_generation",
    "index_for", "index_identity", "index_path", "load_index", "patent_url",
]  # fmt: skip

log = logging.getLogger(__name__)
MAX_CHARACTERS = 100_000  # a longer text is refused (a generation holds at most 5,500 words)
UNAVAILABLE = "Closest real patents and copied spans need the model's corpus, which is not available here."
FAILED = "The check for closest real patents and copied spans failed this time."
_known: dict[int, tuple] = {}  # id(bundle) -> (a weak reference to it, its Index or why it has none)


def index_for(bundle) -> Index:
    """The bundle's index, opened once (built in a child process when missing); raises
    OriginalityUnavailable, remembered for this bundle object (a later one, e.g. once the corpus is
    there, asks again), without the corpus. (Remembered per bundle: finding the file again hashes the
    vocabulary, ~1 ms a check.)"""
    known = _known.get(id(bundle))
    if known and known[0]() is bundle:
        if isinstance(known[1], Index):
            return known[1]
        raise OriginalityUnavailable(known[1])
    try:
        index = load_index(bundle.card, bundle.vocabulary, bundle.split, build=build_in_child)
    except OriginalityUnavailable as error:
        _known[id(bundle)] = (weakref.ref(bundle), str(error))
        raise
    _known[id(bundle)] = (weakref.ref(bundle), index)
    return index


def check_text(bundle, text: str, seed_words: int = 0) -> Originality:
    """``Generator.originality``: tokenize ``text`` as a seed is tokenized and check it against the
    bundle's index.

    Raises ValueError for text that is not a string, is empty or holds more than
    ``MAX_CHARACTERS`` characters, or for a ``seed_words`` out of range."""
    words = read_input(text, MAX_CHARACTERS, "check", bundle.vocabulary.filters)  # as a seed is read
    if isinstance(seed_words, bool) or not isinstance(seed_words, int) or not 0 <= seed_words <= len(words):
        raise InputError(f"seed_words must be a whole number from 0 to the text's {len(words)} words")
    ids = np.asarray(bundle.vocabulary.encode_words(words), np.int64)
    return index_for(bundle).check(words, ids, seed_words)


def for_generation(bundle, result) -> tuple[Originality | None, str | None]:
    """The check ``generate()`` attaches: seed plus generated words, the seed's words as
    ``seed_words``; in random mode the abstract the seed came from is marked as the source.
    Without the corpus: ``(None, a one-line note)``, the reason in the log."""
    try:
        index = index_for(bundle)
    except OriginalityUnavailable as error:
        log.warning("no originality check for %s: %s", bundle.name, error)
        return None, UNAVAILABLE
    except Exception:  # a check must never cost the visitor the generated text
        log.exception("originality check failed for %s", bundle.name)
        return None, FAILED
    vocabulary = bundle.vocabulary
    words = list(result.seed_words) + result.generated_words
    ids = np.asarray(vocabulary.encode_words(words), np.int64)
    source = None
    if result.mode == "random":
        source = np.asarray(vocabulary.encode_words(result.seed_words + (result.actual_words or [])))
    return index.check(words, ids, len(result.seed_words), source), None
