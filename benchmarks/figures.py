"""What the benchmarks print their samples as, and a process's memory (each runs as a script, and its child
processes with this directory on their path: ``from figures import p95``)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys


def p95(values: list[float]) -> float:
    """The 95th percentile (``statistics.quantiles``' default, exclusive method); a lone value is its own."""
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def private_dirty_mib() -> float:
    """This process's private dirty memory (MiB): what its heap holds that no other process shares."""
    with open("/proc/self/smaps_rollup") as smaps:
        return next(int(line.split()[1]) / 1024 for line in smaps if line.startswith("Private_Dirty:"))


def child_figure(code: str, *args: str) -> float:
    """Run ``code`` in a fresh Python process (this directory on its path), with ``args`` as its argv, and
    return the last number it prints: a figure, such as memory, that one process must not share."""
    environment = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.abspath(__file__))}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=environment
    )
    return float(done.stdout.split()[-1])
