"""The numpy runtime agrees with Keras, and serving never imports TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from patentrnn.bundle import DEFAULT_MODEL, keras_model, list_names, load_bundle, models_dir
from patentrnn.corpus import load_corpus, split_abstracts
from patentrnn.runtime import Cursor, Runtime
from patentrnn.train.examples import titled_sequence
from patentrnn.vocabulary import ABSTRACT_ID


def softmax(logits):
    logits = logits.astype(np.float64)
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    return exp / exp.sum(-1, keepdims=True)


def real_seeds(bundle, count=3, length=60):
    """Test abstracts' first ids; a title model's read their real title first (titled_sequence)."""
    corpus = load_corpus(bundle.card["corpus"]["name"])
    parts = split_abstracts(corpus.abstracts, titles=corpus.titles)
    if bundle.vocabulary.has_titles:
        encoded = [titled_sequence(bundle.vocabulary, text, title)[0][:length].tolist()
                   for text, title in zip(parts.test, parts.titles["test"])]  # fmt: skip
    else:
        encoded = [bundle.vocabulary.encode(text)[:length] for text in parts.test]
    return [ids for ids in encoded if len(ids) >= 10][:count]


@pytest.mark.parametrize("name", list_names() or ["(no shipped models)"])
def test_numpy_runtime_matches_keras_on_real_seeds(name, data_dir):
    assert name in list_names(), f"no model bundles in {models_dir()}"
    bundle = load_bundle(name)
    model, runtime = keras_model(bundle), Runtime(bundle)
    worst = 0.0
    for ids in real_seeds(bundle):
        expected = softmax(np.asarray(model(np.array([ids]), training=False))[0])
        actual = softmax(runtime.sequence_logits(ids))
        worst = max(worst, float(np.abs(expected - actual).max()))
        # stepping after reading a prefix gives the same next-word distribution (a title model's
        # runtime is told the title it reads, as Keras sees it from every position)
        title = runtime.title_of(ids)
        state, logits = runtime.read(ids[:-1], title=title)
        _, stepped = runtime.step(state, ids[-1], title)
        assert np.abs(softmax(stepped) - expected[-1]).max() <= 1e-5
    assert worst <= 1e-5, f"{name}: max |p_keras - p_numpy| = {worst:.2e}"


@pytest.mark.parametrize("name", list_names() or ["(no shipped models)"])
def test_generation_cursor_matches_keras(name, data_dir):
    # Cursor is what generation runs: input table, joint products, shortened output product
    bundle = load_bundle(name)
    model, runtime = keras_model(bundle), Runtime(bundle, pad_to=32)
    vocab = runtime.vocab_size
    for ids in real_seeds(bundle, count=2):
        expected = softmax(np.asarray(model(np.array([ids]), training=False))[0])
        start = ids.index(ABSTRACT_ID) + 1 if bundle.vocabulary.has_titles else 5  # (generation reads a whole title)
        cursor = Cursor(runtime, ids[:start], cache=False)  # (the network alone: what Keras computes)
        for position in range(start, len(ids)):
            logits = cursor.logits()[:vocab].copy()
            assert np.abs(softmax(logits) - expected[position - 1]).max() <= 1e-5, position
            # tempered logits are (logits - shift) / temperature
            tempered = cursor.logits(0.7, 3.0)[:vocab]
            assert np.allclose(tempered, (logits - 3.0) / 0.7, atol=1e-4)
            cursor.feed(ids[position])
        assert np.abs(softmax(cursor.logits()[:vocab]) - expected[-1]).max() <= 1e-5


def test_tiny_models_agree_too(tiny_models):
    for name in ("tiny", "tiny-windows", "tiny-tied", "tiny-title"):
        bundle = load_bundle(name, tiny_models)
        ids = bundle.vocabulary.encode("A neural network is trained on data to classify signals .")
        expected = softmax(np.asarray(keras_model(bundle)(np.array([ids]), training=False))[0])
        assert np.abs(expected - softmax(Runtime(bundle).sequence_logits(ids))).max() <= 1e-5


@pytest.mark.parametrize("name", ["tiny-tied", "tiny-title"])
def test_tied_model_cursor_matches_keras(tiny_models, name):
    # tiny-title: the title's bonuses and <end>'s length bonus, tempered, as generation reads them
    bundle = load_bundle(name, tiny_models)
    runtime = Runtime(bundle, pad_to=32)
    text = "A valve for heating is shown . The valve is heated by a pump . A pump for heating is cleaned ."
    if name == "tiny-title":
        ids = titled_sequence(bundle.vocabulary, text, "Valve for heating")[0].tolist()
        start = ids.index(ABSTRACT_ID) + 1
        assert np.abs(runtime.end_rate).max() > 0.01 and np.abs(runtime.title_strength).max() > 0.01  # (learned)
    else:
        ids, start = bundle.vocabulary.encode(text), 3
    expected = softmax(np.asarray(keras_model(bundle)(np.array([ids]), training=False))[0])
    cursor = Cursor(runtime, ids[:start], cache=False)  # (the network alone: what Keras computes)
    for position in range(start, len(ids)):
        logits = cursor.logits()[: runtime.vocab_size].copy()
        assert np.abs(softmax(logits) - expected[position - 1]).max() <= 1e-5
        assert np.allclose(cursor.logits(0.7, 3.0)[: runtime.vocab_size], (logits - 3.0) / 0.7, atol=1e-4)
        cursor.feed(ids[position])


def test_generating_never_imports_tensorflow():
    code = (
        "import sys, patentrnn\n"
        "from patentrnn import cli, rendering, web\n"
        f"r = patentrnn.load({DEFAULT_MODEL!r}).generate('A neural network', words=20, rng_seed=1)\n"
        "assert r.generated_words, 'nothing generated'\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


def test_empty_sequence_is_refused(tiny_models):
    with pytest.raises(ValueError):
        Runtime(load_bundle("tiny", tiny_models)).read([])


def test_every_module_outside_the_training_package_imports_without_tensorflow():
    code = (
        "import importlib, pkgutil, sys, patentrnn\n"
        "names = [m.name for m in pkgutil.walk_packages(patentrnn.__path__, 'patentrnn.')\n"
        "         if not m.name.startswith('patentrnn.train') and not m.name.endswith('__main__')]\n"
        "for name in names: importlib.import_module(name)\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "import patentrnn.train\n"
        "assert 'keras' not in sys.modules, 'importing the training package itself imports nothing'\n"
        "print(len(names))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and int(done.stdout.split()[-1]) > 30, done.stderr[-2000:]
