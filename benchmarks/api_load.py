"""The HTTP API under load, against the page's kernel path and the library itself, in one run.

    python benchmarks/api_load.py                         # about 2 minutes
    python benchmarks/api_load.py --requests 60 --workers 2

Measured side by side, on one ``patentrnn serve`` (rate limit off, ``--api-workers`` workers):

* the library in this process: ``generate`` 100 words (the floor: no HTTP, no worker), on one BLAS
  thread as the server's workers and kernels run (``serve.kernel_environment``: one a process, since
  they share the cores);
* ``POST /v1/generate`` (100 words, the page's copy check on) at 1, 2, 4 and 16 clients at once:
  latency median / p95 and requests a second;
* the page's click → 100 words over a visitor's kernel (benchmarks/widget_client.py), paced;
* overload: 40 clients at once against a queue of ``--queue``: how many get 429 ``overloaded``, and
  how fast (an answer at once, not a wait);
* memory: PSS of the API's worker processes (all of them, the forkserver included) against one
  visitor's kernel after a click. A kernel is per visitor; the workers are per server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # (before numpy: as the server's processes run)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving_figures import load, p95  # noqa: E402
from tornado.httpclient import AsyncHTTPClient, HTTPClientError  # noqa: E402
from voila_server import benchmark_env, kernel_pids, pss_mib, voila_app, wait_api_ready  # noqa: E402
from widget_client import Visitor  # noqa: E402

import patentrnn  # noqa: E402

SEED = "A neural network"
WORDS = 100
BODY = json.dumps({"inputs": SEED, "parameters": {"max_new_tokens": WORDS}})


def figures(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:6.1f} ms, p95 {p95(values) * 1000:6.1f} ms (n={len(values)})"


def library_baseline(count: int) -> list[float]:
    generator = patentrnn.load()
    generator.generate(SEED, words=WORDS, max_copy=7, originality=False)  # warm
    times = []
    for _ in range(count):
        started = time.perf_counter()
        generator.generate(SEED, words=WORDS, max_copy=7, originality=False)
        times.append(time.perf_counter() - started)
    return times


async def post(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    headers = {"Content-Type": "application/json"}
    try:
        response = await AsyncHTTPClient().fetch(url + "v1/generate", method="POST", body=BODY, headers=headers,
                                                 request_timeout=30)  # fmt: skip
        code = response.code
    except HTTPClientError as error:
        code = error.code
    return code, time.perf_counter() - started


async def clients(url: str, concurrency: int, total: int) -> tuple[list[tuple[int, float]], float]:
    results: list[tuple[int, float]] = []

    async def client(count: int) -> None:
        for _ in range(count):
            results.append(await post(url))

    started = time.perf_counter()
    share = [total // concurrency + (i < total % concurrency) for i in range(concurrency)]
    await asyncio.gather(*(client(count) for count in share))
    return results, time.perf_counter() - started


def worker_pids(server_pid: int) -> list[int]:
    """The forkserver the server started, and the workers it forked."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            parent = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
            children.setdefault(parent, []).append(int(entry.name))
    kernels = set(kernel_pids(server_pid))
    forkservers = [pid for pid in children.get(server_pid, []) if pid not in kernels
                   and b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()]  # fmt: skip
    return forkservers + [pid for forkserver in forkservers for pid in children.get(forkserver, [])]


async def kernel_clicks(url: str, count: int) -> tuple[list[float], int]:
    visitor = Visitor(url + f"?words={WORDS}&seed=A+neural+network")
    await visitor.open()
    times = []
    for _ in range(count):
        times.append(await visitor.click(WORDS))
        await asyncio.sleep(0.6)  # (under the page's own rate limit)
    return times, visitor


async def measure(url: str, server_pid: int, args) -> None:
    print(f"library, in process, 100 words      {figures(library_baseline(args.requests))}")
    for concurrency in (1, 2, 4, 16):
        results, elapsed = await clients(url, concurrency, args.requests)
        ok = [seconds for code, seconds in results if code == 200]
        print(f"API, {concurrency:2d} clients at once        {figures(ok)}, {len(ok) / elapsed:5.1f} requests/s"
              f"{'' if len(ok) == len(results) else f', {len(results) - len(ok)} not 200'}")  # fmt: skip
    clicks, visitor = await kernel_clicks(url, min(args.requests, 20))
    print(f"page click over its kernel, paced   {figures(clicks)}")
    results, _ = await clients(url, 40, 40)
    refused = [seconds for code, seconds in results if code == 429]
    served = [seconds for code, seconds in results if code == 200]
    print(f"overload, 40 at once (queue {args.queue}): {len(served)} served ({figures(served)}), {len(refused)} got 429"
          f"{f' ({figures(refused)})' if refused else ''}")  # fmt: skip
    workers = worker_pids(server_pid)
    kernels = [pss_mib(pid) for pid in kernel_pids(server_pid)]
    worker_pss = sum(pss_mib(pid) for pid in workers)
    print(f"PSS: API workers + forkserver {worker_pss:.0f} MiB in {len(workers)} processes; a visitor's kernel "
          f"{statistics.median(kernels):.0f} MiB (median of {len(kernels)}); the workers cost "
          f"{worker_pss / statistics.median(kernels):.1f} kernels")  # fmt: skip
    await visitor.close(True)
    print(load())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="requests for each figure")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="the API's worker processes")
    parser.add_argument("--queue", type=int, default=16, help="API requests that may wait for a worker")
    args = parser.parse_args(argv)
    serve_args = ("--pool-size", "1", "--api-workers", str(args.workers), "--api-queue", str(args.queue))
    with voila_app(benchmark_env(), args=serve_args) as (url, process):
        wait_api_ready(url)
        asyncio.run(measure(url, process.pid, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
