"""Generation speed of two checkouts side by side: this one against an earlier commit.

Each round runs one short child process per checkout (its own ``patentrnn`` first on ``PYTHONPATH``),
alternating, so that both meet the same machine; each child times ``generate`` on the default model:
100 words after a 50-word test seed, with and without the originality check, as the page and the API
run it. Prints medians and p95 of every round's runs, and the ratios.

    git worktree add /tmp/before <commit>
    python benchmarks/commits_speed.py /tmp/before [--rounds 4] [--runs 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from figures import p95

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys, time
import patentrnn
generator = patentrnn.load()
seed = " ".join(next(words for words in generator.test_abstracts() if len(words) >= 50)[:50])
generator.generate(seed, words=100, rng_seed=0)  # (index opened, caches warm)
times = {"alone": [], "with_check": []}
for rng_seed in range(int(sys.argv[1])):
    for key, check in (("alone", False), ("with_check", True)):
        started = time.perf_counter()
        generator.generate(seed, words=100, rng_seed=rng_seed, originality=check)
        times[key].append((time.perf_counter() - started) * 1000)
print(json.dumps({"file": patentrnn.__file__, **times}))
"""


def run(checkout: Path, runs: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(runs)], cwd=checkout, env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path, help="a checkout of the earlier commit")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    checkouts = {"before": args.baseline.resolve(), "now": ROOT}
    times = {name: {"alone": [], "with_check": []} for name in checkouts}
    for _ in range(args.rounds):
        for name, checkout in checkouts.items():
            result = run(checkout, args.runs)
            assert Path(result["file"]).resolve().is_relative_to(checkout), result["file"]
            for key in ("alone", "with_check"):
                times[name][key] += result[key]
    print(f"100 words after a 50-word seed, default model; {args.rounds} rounds x {args.runs} runs, alternating")
    print(f"{'':28}{'before median':>14}{'p95':>8}{'now median':>12}{'p95':>8}{'ratio':>8}")
    for key, label in (("alone", "generation alone"), ("with_check", "with the originality check")):
        before, now = times["before"][key], times["now"][key]
        print(f"{label:28}{statistics.median(before):>14.2f}{p95(before):>8.2f}{statistics.median(now):>12.2f}"
              f"{p95(now):>8.2f}{statistics.median(now) / statistics.median(before):>7.3f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
