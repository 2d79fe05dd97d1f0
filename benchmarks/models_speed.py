"""Generation speed of several bundles, side by side in one process (the ablation's last column).

    python benchmarks/models_speed.py neural-network-lstm neural-network-reference [--models-dir DIR]

Each bundle writes 100 words after the same 50-word seed (the first test abstract of the first
bundle's corpus that is long enough) at diversity 0.8, with ``generate(originality=False)``: the
network, the draw, probabilities, ranks and alternatives, as a page shows them. The bundles take
turns, a batch of runs each, so that the machine's drift falls on all of them alike. Prints each
bundle's median and p95, and its ratio to the first bundle's median.
"""

from __future__ import annotations

import argparse
import statistics
import time

from generation_speed import p95, seed_words  # (this folder is on sys.path when run as a script)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="bundle names; the first is the baseline")
    parser.add_argument("--models-dir", default=None, help="where the bundles are (default: models/)")
    parser.add_argument("--rounds", type=int, default=20, help="turns each bundle takes")
    parser.add_argument("--runs", type=int, default=10, help="generations a turn")
    args = parser.parse_args(argv)

    from patentrnn.bundle import load_bundle
    from patentrnn.generation import Generator

    generators = [Generator(load_bundle(name, args.models_dir)) for name in args.models]
    first = generators[0]
    seed = " ".join(seed_words(first.bundle))
    times: dict[str, list[float]] = {generator.name: [] for generator in generators}
    for generator in generators:  # warm up: the input rows of the words met, cached
        for rng_seed in range(30):
            generator.generate(seed, words=100, rng_seed=rng_seed, originality=False)
    for round_ in range(args.rounds):
        for generator in generators:
            for run in range(args.runs):
                started = time.perf_counter()
                generator.generate(seed, words=100, rng_seed=round_ * args.runs + run, originality=False)
                times[generator.name].append((time.perf_counter() - started) * 1000)

    baseline = statistics.median(times[first.name])
    print(f"100 words after a 50-word seed, diversity 0.8, generate(originality=False); "
          f"{args.rounds} turns of {args.runs} runs each")  # fmt: skip
    print(f"{'model':32}{'median ms':>11}{'p95 ms':>9}{'ratio':>8}  network")
    for generator in generators:
        values = times[generator.name]
        config = generator.bundle.config
        shape = (f"embedding {config.embedding_dim}{' tied' if config.tie_embeddings else ''}, "
                 f"LSTM {config.lstm_units}, output from {config.output_units}")  # fmt: skip
        median = statistics.median(values)
        print(f"{generator.name:32}{median:>11.2f}{p95(values):>9.2f}{median / baseline:>7.2f}x  {shape}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
