"""Originality check: speed against a naive scan, the index's build time and size, and
what it adds to a serving kernel's memory (PSS).

    PATENTRNN_DATA=../shared/data python benchmarks/originality_speed.py [--model NAME] [--rounds 20]

- Speed: 150-word texts, each checked by the index (suffix array + BM25 postings) and
  by a naive scan (numpy over every training word and every abstract's words, the
  obvious way), alternating in one process; medians and p95 in ms, and their ratio.
  The two must agree on the longest copy's length and on the 3 nearest abstracts.
  Texts: seed + generated words (what the page checks), and the first 150 words of
  training abstracts (the worst case: the whole text is one copy).
- Build: the index built from scratch into a temporary cache (seconds, MiB on disk).
- Memory: a fresh process imports the app, loads the model and generates with the
  check switched off (51 generations, the control); then it opens the index and
  checks 52 texts. PSS and RSS from /proc/self/smaps_rollup. Target: ≤ 10 MiB growth.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WORDS = 150


def memory_mib() -> dict:
    """This process's PSS and RSS, and their anonymous and file-backed parts, in MiB."""
    fields = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, *value = line.split()
        if name in ("Rss:", "Pss:", "Pss_Anon:", "Pss_File:"):
            fields[name[:-1].lower()] = int(value[0]) / 1024
    return fields


def mapping_mib(name_part: str) -> dict:
    """RSS and PSS of this process's mappings whose file name holds ``name_part``."""
    totals, inside = {"rss": 0.0, "pss": 0.0}, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
            inside = len(fields) >= 6 and name_part in fields[-1]
        elif inside and fields[0] in ("Rss:", "Pss:"):
            totals[fields[0][:-1].lower()] += int(fields[1]) / 1024
    return totals


class NaiveScan:
    """The baseline: no suffix array, no postings; numpy over the raw word ids."""

    def __init__(self, index):
        from patentrnn.originality import arrays

        a = index.arrays
        self.stream = a["stream"].astype(np.int64)
        lengths = np.diff(a["document_offsets"])
        self.terms = a["term_of_word"][a["documents"]]
        self.document_of_token = np.repeat(np.arange(len(lengths)), lengths)
        keep = self.terms >= 0
        self.length = np.bincount(self.document_of_token[keep], minlength=len(lengths)).astype(np.float64)
        self.term_of_word = a["term_of_word"]
        self.k1, self.b = arrays.BM25_K1, arrays.BM25_B

    def longest_copy(self, ids: np.ndarray, seed_words: int = 0) -> int:
        best, n, stream = 0, len(ids), self.stream
        for start in range(n):
            if ids[start] <= 1:
                continue
            candidates, length = np.flatnonzero(stream == ids[start]), 1
            if not len(candidates):
                continue
            while start + length < n and ids[start + length] > 1:
                # the stream ends with a separator that no text holds, so candidate + length stays inside
                candidates = candidates[stream[candidates + length] == ids[start + length]]
                if not len(candidates):
                    break
                length += 1
            if length > best and start + length > seed_words:
                best = length
        return best

    def nearest(self, ids: np.ndarray, k: int = 3) -> list[int]:
        documents = len(self.length)
        scores = np.zeros(documents)
        average = self.length.mean()
        terms = self.term_of_word[ids]
        for term in np.unique(terms[terms >= 0]):
            tf = np.bincount(self.document_of_token[self.terms == term], minlength=documents)
            df = np.count_nonzero(tf)
            idf = np.log1p((documents - df + 0.5) / (df + 0.5))
            scores += idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * self.length / average))
        order = np.lexsort((np.arange(documents), -scores))
        return order[:k].tolist()


def texts(generator, index, count: int) -> dict[str, list[tuple[list[str], np.ndarray, int]]]:
    """``{kind: [(words, ids, seed_words)]}``: generated 150-word texts and training abstracts' first 150 words."""
    vocabulary = generator.vocabulary
    generated = []
    for rng_seed in range(count):
        result = generator.generate(seed="A neural network", words=WORDS - 3, rng_seed=rng_seed)
        words = result.seed_words + result.generated_words
        generated.append((words, np.asarray(vocabulary.encode_words(words), np.int64), len(result.seed_words)))
    a = index.arrays
    training = []
    for row in np.flatnonzero(a["parts"] == 0):
        document = a["documents"][a["document_offsets"][row] : a["document_offsets"][row + 1]]
        if len(document) >= WORDS:
            ids = np.asarray(document[:WORDS], np.int64)
            training.append((vocabulary.decode(ids), ids, 0))
        if len(training) == count:
            break
    return {"generated": generated, "training abstract": training}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def speed(args) -> dict:
    import patentrnn
    from patentrnn import originality

    generator = patentrnn.load(args.model)
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        bundle = generator.bundle
        built = originality.build_index(bundle.card, generator.vocabulary, bundle.split, Path(cache))
        build_s = time.perf_counter() - started
        size_mib = built.stat().st_size / 2**20
    index = originality.index_for(generator.bundle)
    naive = NaiveScan(index)
    report = {"model": generator.name, "index_build_s": round(build_s, 2), "index_mib": round(size_mib, 2)}
    for kind, items in texts(generator, index, args.texts).items():
        ours, theirs = [], []
        for _ in range(args.rounds):
            for words, ids, seed_words in items:
                started = time.perf_counter()
                check = index.check(words, ids, seed_words)
                middle = time.perf_counter()
                length = naive.longest_copy(ids, seed_words)
                nearest = naive.nearest(ids)
                finished = time.perf_counter()
                ours.append((middle - started) * 1000)
                theirs.append((finished - middle) * 1000)
                assert check.copied_words == length, (check.copied_words, length)
                numbers = [index.about(row)[0] for row in nearest]
                assert [near.patent_number for near in check.nearest] == numbers, (check.nearest, numbers)
        report[kind] = {
            "texts": len(items),
            "checks": len(ours),
            "index_median_ms": round(statistics.median(ours), 2),
            "index_p95_ms": round(percentile(ours, 95), 2),
            "naive_median_ms": round(statistics.median(theirs), 2),
            "naive_p95_ms": round(percentile(theirs, 95), 2),
            "naive_over_index": round(statistics.median(theirs) / statistics.median(ours), 1),
        }
    return report


def memory(model: str | None) -> dict:
    """Run in a fresh process (``--memory``). The same 51 generations twice: first with the
    check switched off (the control: generation's own growth, e.g. embedding rows touched),
    then with it on, so the second pass's growth is the check's. Both modes are warmed first."""
    import patentrnn.web  # noqa: F401  (what a serving kernel imports)
    from patentrnn import generation, originality

    generator = generation.load(model)
    switched_on = originality.for_generation
    originality.for_generation = lambda bundle, result: (None, None)

    def generations():
        for rng_seed in range(51):
            generator.generate(None if rng_seed % 2 else "A neural network", words=100, rng_seed=rng_seed)

    for rng_seed in range(3):
        generator.generate(seed="A neural network", words=100, rng_seed=rng_seed)
        generator.generate(None, words=100, rng_seed=rng_seed)
    start = memory_mib()
    generations()
    before = memory_mib()
    originality.for_generation = switched_on
    started = time.perf_counter()
    first = generator.generate(seed="A neural network", words=100, rng_seed=99).originality
    first_ms = (time.perf_counter() - started) * 1000
    generations()
    after = memory_mib()
    index_mapping = mapping_mib(originality.index_for(generator.bundle).path.name)
    return {
        "control_pss_growth_mib": round(before["pss"] - start["pss"], 1),
        "pss_before_mib": round(before["pss"], 1),
        "pss_after_mib": round(after["pss"], 1),
        "pss_growth_mib": round(after["pss"] - before["pss"], 1),
        "pss_anon_growth_mib": round(after["pss_anon"] - before["pss_anon"], 1),
        "pss_file_growth_mib": round(after["pss_file"] - before["pss_file"], 1),
        # PSS splits a file page among the processes mapping it, so the file part moves when other
        # processes map or unmap the same files (weights, libraries); RSS does not: the bound for one kernel
        "rss_growth_mib": round(after["rss"] - before["rss"], 1),
        "index_mapping_rss_mib": round(index_mapping["rss"], 1),
        "index_mapping_pss_mib": round(index_mapping["pss"], 1),
        "first_check_ms": round(sum(first.timings.values()), 1),
        "first_generation_with_open_ms": round(first_ms, 1),
        "platformdirs_already_imported": "platformdirs" in sys.modules,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--rounds", type=int, default=10, help="passes over the texts")
    parser.add_argument("--texts", type=int, default=20, help="texts of each kind")
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.memory:
        print(json.dumps(memory(args.model)))
        return 0
    command = [sys.executable, __file__, "--memory"] + (["--model", args.model] if args.model else [])
    child = subprocess.run(command, capture_output=True, text=True, check=True, env=os.environ)
    report = speed(args)
    report["memory"] = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=2))
    for kind in ("generated", "training abstract"):
        row = report[kind]
        print(
            f"{kind}: {WORDS} words, index median {row['index_median_ms']} ms (p95 {row['index_p95_ms']}), "
            f"naive scan median {row['naive_median_ms']} ms (p95 {row['naive_p95_ms']}): "
            f"{row['naive_over_index']}x"
        )
    print(
        f"index: built in {report['index_build_s']} s, {report['index_mib']} MiB; serving kernel after 52 checks: "
        f"PSS +{report['memory']['pss_growth_mib']} MiB (anonymous +{report['memory']['pss_anon_growth_mib']}), "
        f"RSS +{report['memory']['rss_growth_mib']} MiB, of which the index's mapping "
        f"{report['memory']['index_mapping_rss_mib']} MiB (target ≤ 10)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
