"""Where each model's originality index lives: a cache file per (corpus, split, vocabulary), built
from the corpus when missing, stale or damaged, in a child process when a serving kernel asks."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import corpus as corpus_module
from ..progress import working
from ..settings import PROJECT_ROOT, cache_dir
from . import arrays
from .arrays import build_arrays, write_index
from .index import Index
from .results import OriginalityUnavailable

log = logging.getLogger(__name__)


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
    return (directory or cache_dir()) / f"{name}-v{arrays.INDEX_VERSION}.idx"


_open: dict[Path, Index] = {}


def build_index(card: dict, vocabulary, split: corpus_module.SplitConfig, directory: Path | None = None) -> Path:
    """Read the model's corpus, check its sha256 and write the index file; returns its path."""
    identity = index_identity(card, vocabulary, split)
    try:
        path, options = corpus_module.source_of(card["corpus"])  # (checked against the card's sha256)
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
    package_root = str(PROJECT_ROOT)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    code = "from patentrnn.originality.store import _build_request; raise SystemExit(_build_request())"
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
    from ..vocabulary import Vocabulary

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
        with working(f"building {card.get('name', 'the model')}'s originality index (once)"):
            built = build(card, vocabulary, split, directory)
        index = Index.open(built, identity)
    _open[path] = index
    return index
