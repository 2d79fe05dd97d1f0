"""What the benchmarks print their samples as, and a process's memory (each runs as a script, and its child
processes with this directory on their path: ``from figures import p95``)."""

from __future__ import annotations

import statistics


def p95(values: list[float]) -> float:
    """The 95th percentile (``statistics.quantiles``' default, exclusive method); a lone value is its own."""
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def private_dirty_mib() -> float:
    """This process's private dirty memory (MiB): what its heap holds that no other process shares."""
    with open("/proc/self/smaps_rollup") as smaps:
        return next(int(line.split()[1]) / 1024 for line in smaps if line.startswith("Private_Dirty:"))
