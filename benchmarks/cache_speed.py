"""What the continuous cache costs where it runs: scoring a text (``patentrnn score``, the page's
"Score a text"), with the cache and with the network alone, side by side.

Time: both score the same test abstracts, interleaved, in one process; the cache's work grows with the
text (one product with every earlier state, and one pass over the vocabulary a word). Memory: two child
processes, one each way, score 30 test abstracts and ten texts of 1,900 words, and report how much
their private dirty memory (a serving kernel's own) grew.

    python benchmarks/cache_speed.py [--model neural-network-lstm] [--runs 60]
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
from figures import private_dirty_mib

generator = patentrnn.load(sys.argv[1])
if sys.argv[2] == "network alone":
    generator.runtime.cache_config = None
texts = [" ".join(words) for words in generator.test_abstracts()]
long = " ".join(" ".join(texts).split()[:1900])
generator.score(texts[0])
gc.collect()
before = private_dirty_mib()
for run in range(30):
    generator.score(texts[run % len(texts)])
    if run % 3 == 0:
        generator.score(long)
gc.collect()
print(private_dirty_mib() - before)
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="neural-network-lstm")
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args(argv)

    from patentrnn.bundle import load_bundle
    from patentrnn.generation import Generator

    bundle = load_bundle(args.model)
    cached, alone = Generator(bundle), Generator(bundle)
    alone.runtime.cache_config = None
    if cached.runtime.cache_config is None:
        print(f"{args.model} has no cache in its card: run `patentrnn cache --model {args.model} --write`")
        return 1
    texts = [" ".join(words) for words in cached.test_abstracts() if len(words) >= 100]
    times: dict[str, list[float]] = {"network alone": [], "with the cache": []}
    words, losses = [], {name: [] for name in times}
    for run in range(args.runs):
        text = texts[run % len(texts)]
        for name, generator in (("network alone", alone), ("with the cache", cached)):
            started = time.perf_counter()
            score = generator.score(text)
            times[name].append((time.perf_counter() - started) * 1000)
            losses[name].append(score.log_loss)
        words.append(len(score.targets))
    print(f"{args.model}, {args.runs} test abstracts of 100+ words (median {statistics.median(words):g} scored)")
    print(f"cache: {cached.runtime.cache_config}\n")
    for name, values in times.items():
        print(f"  {name:<15} median {statistics.median(values):7.2f} ms, p95 {p95(values):7.2f}, "
              f"mean log loss {statistics.fmean(losses[name]):.4f}")  # fmt: skip
    ratio = statistics.median(times["with the cache"]) / statistics.median(times["network alone"])
    print(f"  ratio {ratio:.2f}x\n")
    print("memory: private dirty growth after 30 test abstracts and ten 1,900-word texts, a child process each")
    for mode in ("network alone", "with the cache"):
        print(f"  {mode:<15} +{child_figure(CHILD, args.model, mode):.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
