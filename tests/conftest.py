"""Shared fixtures: the corpora ($PATENTRNN_DATA, else fetched) and tiny models trained once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """$PATENTRNN_DATA, else the corpora fetched through the library's own path (pooch, hash-checked),
    after which $PATENTRNN_DATA names their cache for the rest of the run (servers, subprocesses)."""
    from patentrnn.corpus import CORPORA, locate

    path = os.environ.get("PATENTRNN_DATA")
    if not path:
        directories = {locate(name)[1].parent for name in CORPORA}
        assert len(directories) == 1, f"the corpora were fetched into several directories: {directories}"
        path = str(directories.pop())
        os.environ["PATENTRNN_DATA"] = path
    assert (Path(path) / "neural_network_patent_query.csv").is_file(), f"no corpus CSVs in {path}"
    return Path(path).resolve()


TINY_CACHE = ROOT / ".pytest_cache" / "tiny-models"


def tiny_models_key() -> str:
    """What the tiny bundles depend on: the training package and what it reads and writes with (corpus,
    documents, vocabulary, model, bundle, logits), the recipe below, Keras's version. Edit one of them
    and the next run trains the bundles again; an edit elsewhere (generation, serving, the page) trains
    nothing."""
    import hashlib
    import inspect
    from importlib.metadata import version

    package = ROOT / "patentrnn"
    sources = [*(package / "train").rglob("*.py")]
    sources += [package / f"{name}.py" for name in ("corpus", "documents", "vocabulary", "model", "bundle", "logits")]
    digest = hashlib.sha256(version("keras").encode())
    for path in sorted(sources):
        digest.update(path.read_bytes())
    for recipe in (train_tiny_models, titled_corpus):
        digest.update(inspect.getsource(recipe).encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, data_dir) -> Path:
    """A directory with four tiny bundles trained in seconds, or copied from the last run's (under
    .pytest_cache, keyed by ``tiny_models_key``: ``make test-fast`` then trains nothing). ``tiny``
    (whole abstracts), ``tiny-windows`` (the reference's windows, two LSTM layers, so that the
    runtime's multi-layer path is exercised too), ``tiny-tied`` (tied embeddings, every regulariser
    and weight averaging, as the default model is trained) and ``tiny-title`` (it has learned where
    a made-up abstract ends: built without Keras, it would not have)."""
    import shutil

    directory = tmp_path_factory.mktemp("models")
    cached = TINY_CACHE / tiny_models_key()
    if not (cached / "complete").is_file():
        shutil.rmtree(TINY_CACHE, ignore_errors=True)
        train_tiny_models(cached)
        (cached / "complete").touch()
    shutil.copytree(cached, directory, dirs_exist_ok=True, ignore=shutil.ignore_patterns("complete", "*.csv"))
    titled_corpus(directory.parent / "titled.csv")  # (the same file: test_topic reads it beside the models)
    return directory


def train_tiny_models(directory: Path) -> None:
    from patentrnn.corpus import SplitConfig
    from patentrnn.train.training import TrainConfig, train

    directory.mkdir(parents=True, exist_ok=True)
    common = dict(corpus="neural-network", preset="tiny", max_abstracts=120, epochs=2, verbose=0)
    train(TrainConfig(**common, split=SplitConfig(0.2, 0.2)), "tiny", directory)
    windows = dict(mode="windows", window=20, model_overrides={"lstm_layers": 2})
    train(TrainConfig(**common, **windows, split=SplitConfig(0.2, 0.2)), "tiny-windows", directory)
    tied = {**common, "preset": "tiny-tied", "weight_averaging": True, "ema_momentum": 0.9}
    train(TrainConfig(**tied, split=SplitConfig(0.2, 0.2)), "tiny-tied", directory)
    titled = dict(corpus=str(titled_corpus(directory / "titled.csv")), preset="tiny-tied", titles=True)
    titled.update(epochs=25, patience=25, verbose=0, split=SplitConfig(0.2, 0.2))
    train(TrainConfig(**titled), "tiny-title", directory)


def titled_corpus(path: Path, count: int = 120) -> Path:
    """A made-up corpus of short titled abstracts, each three sentences, so that a tiny title model
    learns in seconds where an abstract ends (``tiny-title``)."""
    import csv
    import random

    rng = random.Random(0)
    things = ["sensor", "valve", "motor", "filter", "lens", "battery", "pump", "switch", "antenna", "brake"]
    uses = ["cooling", "sorting", "cleaning", "lifting", "heating", "measuring", "printing", "mixing"]
    parts = ["housing", "shaft", "spring", "circuit", "frame", "plate", "cable", "gear"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patent_number", "patent_title", "patent_abstract"])
        for number in range(count):
            thing, use, first, second = rng.choice(things), rng.choice(uses), *rng.sample(parts, 2)
            abstract = (
                f"A {thing} for {use} is disclosed. The {thing} has a {first} and a {second}. "
                f"The {first} holds the {second} while {use}."
            )
            writer.writerow([str(number), f"{thing.capitalize()} for {use}", abstract])
    return path


@pytest.fixture
def tiny_env(tiny_models, monkeypatch):
    """Point patentrnn at the tiny models for one test."""
    monkeypatch.setenv("PATENTRNN_MODELS", str(tiny_models))
    return tiny_models


@pytest.fixture
def generator(tiny_env):
    """The ``tiny`` model's generator."""
    import patentrnn

    return patentrnn.load("tiny")


@pytest.fixture(scope="module")
def default_generator(data_dir):
    """The default model's generator (the shipped bundle)."""
    import patentrnn

    return patentrnn.load()


@pytest.fixture
def app(tiny_env):
    """The page, with the ``tiny`` model chosen."""
    from patentrnn.web import App

    app = App()
    app.form.model.value = "tiny"
    return app


@pytest.fixture
def default_app(data_dir):
    """The page as a visitor meets it: the default model."""
    from patentrnn.web import App

    return App()


@pytest.fixture
def page(browser):
    """A wide page in Chromium that records (and dismisses) any dialog in ``page.dialogs``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``patentrnn ARGS`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "patentrnn.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    """The app served by ``patentrnn serve`` on a free port, for one test module; yields its URL."""
    from voila_server import voila_app

    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with voila_app({"PATENTRNN_DATA": str(data_dir)}, log_path=log) as (url, process):
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Playwright; a missing browser fails the test, never skips it."""
    from playwright.sync_api import sync_playwright
    from voila_server import CHROMIUM_ARGS, NO_CHROMIUM, find_chromium

    chromium = find_chromium()
    assert chromium, NO_CHROMIUM
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


SERVING_FIXTURES = {"server", "small_server", "api", "binder"}
BROWSER_FIXTURES = {"browser", "page", "open_page"}


def pytest_collection_modifyitems(items):
    """Every test that starts a server or a browser (through these fixtures) is marked ``slow`` or
    ``browser`` as well, whatever its module says: ``make test-fast`` leaves them all out."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SERVING_FIXTURES:
            item.add_marker(pytest.mark.slow)
        if fixtures & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
