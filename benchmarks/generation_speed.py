"""Generation speed: the reference demo's loop against patentrnn, in one process.

The reference (2018) generated each word by calling Keras ``model.predict`` on the
whole, ever-growing seed and drew the word with float64 log/exp over the
vocabulary. That loop is re-implemented here faithfully, on the same weights as
patentrnn's numpy runtime, and both write 100 words after a 50-word seed.

    python benchmarks/generation_speed.py [--model NAME] [--reference-runs 5] [--runs 200]

Prints medians and ratios. patentrnn is timed first, as it serves (the page never
imports TensorFlow), then the reference with Keras, then patentrnn again: the two
patentrnn medians, a minute apart, show how much this noisy machine drifts (~5%).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import numpy as np
from figures import p95

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def reference_generate(model, seed_ids: list[int], words: int, diversity: float, rng) -> list[int]:
    """The reference's loop: predict on the whole sequence for every new word."""
    from patentrnn.sampling import reference_sample

    ids = list(seed_ids)
    for _ in range(words):
        logits = model.predict(np.array([ids]), verbose=0)[0]
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        ids.append(reference_sample(probabilities, diversity, rng))
    return ids[len(seed_ids) :]


def times_ms(function, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def median_ms(function, runs: int) -> float:
    return statistics.median(times_ms(function, runs))


def seed_words(bundle, words: int = 50) -> list[str]:
    """The first ``words`` words of the first test abstract of the bundle's corpus that has as many."""
    from patentrnn.corpus import load_corpus, split_abstracts

    test = split_abstracts(load_corpus(bundle.card["corpus"]["name"]).abstracts).test
    return next(tokens for tokens in map(bundle.vocabulary.tokenize, test) if len(tokens) >= words)[:words]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--reference-runs", type=int, default=5)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)

    import patentrnn
    from patentrnn.bundle import load_bundle
    from patentrnn.runtime import Cursor
    from patentrnn.sampling import SamplingConfig, reference_sample
    from patentrnn.train.network import build_model, set_named_weights

    generator = patentrnn.load(args.model)
    bundle = load_bundle(generator.name)
    seed = seed_words(bundle)
    seed_text = " ".join(seed)
    seed_ids = bundle.vocabulary.encode_words(seed)
    print(f"model {bundle.name}: vocabulary {len(bundle.vocabulary):,}, {bundle.config}")
    print(f"seed: {len(seed)} words of a test abstract; diversity 0.8; 100 words")
    # `patentrnn serve` gives each kernel one BLAS thread (OPENBLAS_NUM_THREADS=1): set it to time that
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (all cores)')}\n")

    checks = []  # generate() also checks the text's originality: its share, from the result's timings

    def ours_times(words: int = 100, runs: int = args.runs) -> list[float]:
        def once():
            checks.append(generator.generate(seed_text, words=words, diversity=0.8).timings["originality_ms"])

        return times_ms(once, runs)

    def ours(words: int = 100, runs: int = args.runs) -> float:
        return statistics.median(ours_times(words, runs))

    # --- patentrnn first, as it serves: no TensorFlow in the process --------------------
    # Warm up to a serving kernel's steady state: the memory-mapped embedding rows of
    # the words met are paged in, and their input rows cached (a word's first use costs
    # a page fault and a 128 x 1024 product).
    for rng_seed in range(50):
        generator.generate(seed_text, words=100, rng_seed=rng_seed)
    ours_all = ours_times()
    ours_ms, checks_100 = statistics.median(ours_all), list(checks)

    # max_copy=7 (the page's default) beside plain generation, interleaved on the same rng seeds,
    # without the originality check: what the copy guard's lookups cost
    plain, guarded, steered = [], [], 0
    for rng_seed in range(args.runs):
        for max_copy, times in ((None, plain), (7, guarded)):
            started = time.perf_counter()
            result = generator.generate(
                seed_text, words=100, diversity=0.8, rng_seed=rng_seed, originality=False, max_copy=max_copy
            )
            times.append((time.perf_counter() - started) * 1000)
            steered += result.copy_guard["steered"] if result.copy_guard else 0

    # where the time goes: each part of one word, timed alone
    runtime, sampler = generator.runtime, generator.sampler
    cursor = Cursor(runtime, seed_ids)
    saved = cursor.logits().copy()
    saved -= saved[: len(bundle.vocabulary)].max()
    probabilities = np.exp(saved[: len(bundle.vocabulary)].astype(np.float64))
    probabilities /= probabilities.sum()
    config, row, rows = SamplingConfig(0.8), sampler.rows[0], sampler.rows
    python_rng, numpy_rng = random.Random(0), np.random.default_rng(0)

    def network_step():
        cursor.feed(5)
        cursor.logits(out=row)

    def draw():
        np.copyto(row, saved)
        sampler.draw(0, config, python_rng)

    for index in range(len(rows)):  # rows as draw leaves them: exponentiated, columns summed
        rows[index] = saved
        sampler.draw(index, config, python_rng)
    drawn = rows.copy()

    def describe():
        np.copyto(rows, drawn)
        sampler.describe(len(rows), [5] * len(rows), config)

    parts = {
        "the reference's draw (float64 log/exp, multinomial)": (
            lambda: reference_sample(probabilities, 0.8, numpy_rng),
            1,
        ),
        "network: feed a word, next logits": (network_step, 1),
        "draw at diversity 0.8 (+ a 58 KB copy)": (draw, 1),
        f"probability + top-5 (batches of {len(rows)}, + a copy)": (describe, len(rows)),
    }
    part_us = {}
    for name, (function, words) in parts.items():
        part_us[name] = median_ms(lambda f=function: [f() for _ in range(100)], 21) * 10 / words

    # the cost grows linearly with the number of words
    linear = {words: ours(words, max(3, min(args.runs, 20_000 // words))) for words in (10, 100, 1000, 5000)}

    # --- the reference loop, with Keras, on the same weights -------------------------
    import keras

    model = build_model(bundle.config, last_only=True)
    set_named_weights(model, bundle.weights)
    rng = np.random.default_rng(0)
    reference_generate(model, seed_ids, 5, 0.8, rng)  # warm up tracing
    reference_ms = median_ms(lambda: reference_generate(model, seed_ids, 100, 0.8, rng), args.reference_runs)
    ours_again = ours_times()  # (after the reference: how much the machine drifted)
    ours_again_ms = statistics.median(ours_again)

    print(f"{'100 words after a 50-word seed':52}{'median ms':>12}{'ms / word':>12}{'speed-up':>10}")
    rows_out = [
        ("the reference (Keras predict loop)", reference_ms),
        ("patentrnn, serving (no TensorFlow in the process)", ours_ms),
        ("patentrnn again, after the reference", ours_again_ms),
    ]
    for name, ms in rows_out:
        print(f"{name:52}{ms:>12.2f}{ms / 100:>12.4f}{reference_ms / ms:>9,.0f}x")
    print(f"patentrnn p95: {p95(ours_all):.2f} ms, then {p95(ours_again):.2f} ms")
    check_ms = statistics.median(checks_100)
    print(f"of which the originality check: median {check_ms:.2f} ms; generation alone ~{ours_ms - check_ms:.2f} ms")
    print("target: >= 400x and <= 12 ms for 100 words\n")
    ratio = statistics.median(guarded) / statistics.median(plain)
    print(f"generation alone (no originality check), 100 words, {args.runs} rng seeds interleaved:")
    print(f"  plain        median {statistics.median(plain):.2f} ms, p95 {p95(plain):.2f}")
    print(f"  max_copy=7   median {statistics.median(guarded):.2f} ms, p95 {p95(guarded):.2f}  ({ratio:.3f}x; "
          f"{steered / args.runs:.2f} draws steered a text)")  # fmt: skip
    print("  target: <= 1.15x\n")
    for name, us in part_us.items():
        print(f"{name:56}{us:>8.1f} us a word")
    print(f"\n{'words':>8}{'median ms':>12}{'ms / word':>12}")
    for words, ms in linear.items():
        print(f"{words:>8}{ms:>12.2f}{ms / words:>12.4f}")
    print(
        f"\nkeras {keras.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
