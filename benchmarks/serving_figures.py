"""Figures of a serving run, shared by benchmarks/capacity.py and benchmarks/api_load.py: medians and
p95 as printed, the load average, a process's CPU time, and the memory (PSS) of a server and its kernels."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient
from voila_server import kernel_pids, pss_mib, rss_mib

from patentrnn.serve import SESSIONS_PATH


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def summary(values: list[float], scale: float = 1, unit: str = "") -> str:
    if not values:
        return "no values"
    return (f"median {statistics.median(values) * scale:.0f}{unit}, p95 {p95(values) * scale:.0f}{unit}, "
            f"max {max(values) * scale:.0f}{unit} (n={len(values)})")  # fmt: skip


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_memory(server_pid: int) -> dict:
    """PSS of the server and of each of its kernels (MiB)."""
    kernels = []
    for pid in kernel_pids(server_pid):
        with contextlib.suppress(OSError, StopIteration):
            kernels.append((pss_mib(pid), rss_mib(pid)))
    server = pss_mib(server_pid)
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    available = int(next(line.split()[1] for line in meminfo if line.startswith("MemAvailable:"))) / 1024
    total = server + sum(pss for pss, _ in kernels)
    return {"server": server, "kernels": kernels, "total": total, "available": available}


async def counts(url: str) -> dict:
    response = await AsyncHTTPClient().fetch(url.rstrip("/") + SESSIONS_PATH, request_timeout=10)
    return json.loads(response.body)
