"""A fresh machine: no $PATENTRNN_DATA, the corpora come through pooch from $PATENTRNN_DATA_URL.

A local HTTP server plays the download origin, serving copies of the real files.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading

import pytest
from conftest import run_cli

from patentrnn import corpus
from patentrnn import serve as serving
from patentrnn.corpus import CORPORA, CorpusError


@pytest.fixture
def mirror(tmp_path, data_dir, monkeypatch):
    """A download origin on 127.0.0.1 holding the corpora; an empty cache; no $PATENTRNN_DATA."""
    served = tmp_path / "origin"
    served.mkdir()
    for source in CORPORA.values():
        (served / source.filename).write_bytes((data_dir / source.filename).read_bytes())
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=served))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("PATENTRNN_DATA", raising=False)
    monkeypatch.setenv("PATENTRNN_DATA_URL", f"http://127.0.0.1:{server.server_address[1]}/")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # pooch's default cache lives under it
    yield served, requests
    server.shutdown()


def test_named_corpora_come_from_the_data_url_through_pooch_and_are_cached(mirror, tmp_path):
    served, requests = mirror
    data = corpus.load_corpus("baseball")
    assert data.path.is_relative_to(tmp_path / "cache")
    assert data.sha256 == CORPORA["baseball"].sha256 and len(data.abstracts) > 100
    assert requests == ["/baseball_patent_query.csv"]
    corpus.load_corpus("baseball")
    assert len(requests) == 1, "the second load reads the cache"
    directory = serving.fetch_corpora()  # what `patentrnn serve` does before it listens
    assert {path.name for path in directory.iterdir()} >= {source.filename for source in CORPORA.values()}
    assert sorted(requests) == sorted(f"/{source.filename}" for source in CORPORA.values())


def test_a_mirror_serving_a_wrong_file_fails_the_hash_check(mirror, tmp_path):
    served, _ = mirror
    path = served / CORPORA["baseball"].filename
    path.write_bytes(path.read_bytes().replace(b"baseball", b"football", 1))
    with pytest.raises(CorpusError, match="sha256"):
        corpus.load_corpus("baseball")
    cached = list((tmp_path / "cache").rglob(CORPORA["baseball"].filename))
    assert not cached or hashlib.sha256(cached[0].read_bytes()).hexdigest() == CORPORA["baseball"].sha256


def test_serve_stops_with_one_line_when_the_corpora_cannot_be_fetched(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("PATENTRNN_DATA_URL", "http://127.0.0.1:9/")
    result = run_cli("serve", "--port", "9", timeout=60)
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]  # after pooch's "Downloading data from ..."
    assert error.startswith("patentrnn serve: error:") and "could not be downloaded" in error
    assert "Traceback" not in result.stderr + result.stdout and "Voilà is running" not in result.stdout
