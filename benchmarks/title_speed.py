"""A whole abstract from a title, against 100 words today: the time a visitor waits, side by side.

The default model writes 100 words after a 50-word seed (today's page); the title model reads a test
title and writes until it ends the abstract (at most 300 words). The two run interleaved on the same
rng seeds, in one process, first without the originality check (generation alone), then with it (what
the page does). Target: a whole abstract within 2x the time of 100 words. The title model also writes
without its title's topic (``topic=False``), to show what the topic costs (its own BM25 search and the
bonus a word).

    python benchmarks/title_speed.py [--title-model neural-network-title] [--model neural-network-lstm] [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from figures import child_figure, p95

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as a serving kernel runs (serve.kernel_environment)


CHILD = """
import gc, sys
import patentrnn
from patentrnn import originality
from patentrnn.evaluation import test_records
from figures import private_dirty_mib

writer = patentrnn.load(sys.argv[1])
originality.index_for(writer.bundle)  # (open in both: the page checks every text)
titles = [r.patent_title for _, r in test_records(writer.bundle) if writer.vocabulary.read(r.patent_title)]
topic = sys.argv[2] == "with its topic"
writer.generate(title=titles[0], rng_seed=0, originality=False, topic=topic)
gc.collect()
before = private_dirty_mib()
for run in range(30):
    writer.generate(title=titles[run + 1], rng_seed=run, originality=False, topic=topic)
gc.collect()
print(private_dirty_mib() - before)
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--title-model", default="neural-network-title")
    parser.add_argument("--model", default="neural-network-lstm")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args(argv)

    import patentrnn
    from patentrnn.evaluation import test_records

    writer, today = patentrnn.load(args.title_model), patentrnn.load(args.model)
    titles = [r.patent_title for _, r in test_records(writer.bundle) if writer.vocabulary.read(r.patent_title)]
    seeds = [" ".join(words[:50]) for words in today.test_abstracts() if len(words) >= 50]
    print(f"{args.title_model} from {len(titles)} test titles, against {args.model}: 100 words after 50-word seeds")
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; {args.runs} rng seeds\n")
    for check in (False, True):
        whole, hundred, lengths, alone, alone_lengths = [], [], [], [], []
        for rng_seed in range(args.runs):
            title = titles[rng_seed % len(titles)]
            started = time.perf_counter()
            result = writer.generate(title=title, rng_seed=rng_seed, originality=check)
            whole.append((time.perf_counter() - started) * 1000)
            lengths.append(len(result.generated))
            started = time.perf_counter()
            result = writer.generate(title=title, rng_seed=rng_seed, originality=check, topic=False)
            alone.append((time.perf_counter() - started) * 1000)
            alone_lengths.append(len(result.generated))
            started = time.perf_counter()
            today.generate(seeds[rng_seed % len(seeds)], words=100, rng_seed=rng_seed, originality=check)
            hundred.append((time.perf_counter() - started) * 1000)
        ratio = statistics.median(whole) / statistics.median(hundred)
        label = "with the originality check" if check else "generation alone"
        print(f"{label}:")
        print(f"  {args.model}, 100 words       median {statistics.median(hundred):7.2f} ms, p95 {p95(hundred):7.2f}")
        print(f"  {args.title_model}, until end  median {statistics.median(whole):7.2f} ms, p95 {p95(whole):7.2f}"
              f"  (median {statistics.median(lengths):g} words, longest {max(lengths)})")  # fmt: skip
        print(f"  ... without its topic         median {statistics.median(alone):7.2f} ms, p95 {p95(alone):7.2f}"
              f"  (median {statistics.median(alone_lengths):g} words)")  # fmt: skip
        per_word = (sum(whole) / sum(lengths)) / (sum(alone) / sum(alone_lengths))
        print(f"  ratio {ratio:.2f}x (target <= 2x); a word with the topic / without: {per_word:.2f}x\n")
    print("memory: private dirty growth after 30 abstracts from titles (after a first), a child process each")
    for mode in ("without its topic", "with its topic"):
        print(f"  {mode:<17} +{child_figure(CHILD, args.title_model, mode):.2f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
