"""What the timing benchmarks print their samples as (each runs as a script: ``from figures import p95``)."""

from __future__ import annotations

import statistics


def p95(values: list[float]) -> float:
    """The 95th percentile (``statistics.quantiles``' default, exclusive method); a lone value is its own."""
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
