"""Capacity of `patentrnn serve`: many visitors at once, churn, the session limit, two replicas.

    python benchmarks/capacity.py                                   # everything, about 30 minutes
    python benchmarks/capacity.py --sessions 30 --churn-minutes 1   # a shorter run
    python benchmarks/capacity.py --parts limit,replicas            # some parts only

Parts, each against fresh servers, each with its baseline measured in the same run:

* ``concurrent``: ``--sessions`` visitors opened at ``--open-rate`` a second, then all kept open.
  Page ready (page fetched, kernel websocket open, every widget's state received) and click →
  100 words in the output, against the same clicks with 3 visitors open; each kernel's PSS
  (``/proc/<pid>/smaps_rollup``) and the server's total (server + kernels).
* ``churn``: ``--churn-rate`` page views a minute for ``--churn-minutes``; each view loads the
  page, clicks once and leaves, half with the unload beacon and half without (a lost tab).
  Every second: live kernels against open tabs + pool + the unclean closes of the last 3 minutes
  (what the idle cull may still hold). After the last close: minutes until the server's memory
  is back to its starting level.
* ``limit``: ``--limit`` sessions open; visitors beyond it get the busy page (503) while the open
  sessions click. Busy-page latency; click p95 with and without the turned-away visitors, and a
  second quiet run after them, for the noise between two quiet runs.
* ``replicas``: the churn through HAProxy (deploy/haproxy.cfg) with 2 replicas: how the page
  views and the sessions split between them.

Visitors are protocol clients (benchmarks/widget_client.py), not Chromium: a hundred headless
pages, each a renderer process running the page's JupyterLab-based JavaScript, would share this
machine's two cores with the server they measure. The server's work per visitor is the same (page
render, kernel websocket, widget states, comm messages, beacon); what the browser adds is its own
rendering, which benchmarks/app_speed.py and the browser tests measure with Chromium. Each part
prints the load average: other work on the machine slows every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from haproxy_front import haproxy_in_front  # noqa: E402
from serving_figures import counts, cpu_seconds, load, p95, server_memory, summary  # noqa: E402
from tornado.httpclient import HTTPClientError  # noqa: E402
from voila_server import kernel_pids, voila_app  # noqa: E402
from widget_client import QUERY, WORDS, Busy, Views, Visitor, paced_clicks, view  # noqa: E402

from patentrnn.serve import ServeConfig  # noqa: E402

CULL_WINDOW_S = 180  # the bound: a lost tab's kernel may live 3 minutes (timeout 120 s + checks every 30 s)


# --- figures -----------------------------------------------------------------------------------


# --- parts --------------------------------------------------------------------------------------


async def concurrent_part(url: str, server_pid: int, args) -> None:
    print(f"\n## {args.sessions} concurrent sessions, opened at {args.open_rate:g} a second ({load()})")
    quiet = [Visitor(url + QUERY) for _ in range(3)]
    for visitor in quiet:
        await visitor.open()
        await visitor.click(WORDS)  # warm
    await asyncio.sleep(1)
    baseline = await paced_clicks(quiet, args.clicks)
    for visitor in quiet:
        await visitor.close(unload=True)
    await asyncio.sleep(3)
    before = await asyncio.to_thread(server_memory, server_pid)
    visitors = [Visitor(url + QUERY) for _ in range(args.sessions)]
    failures: list[str] = []

    async def open_at(visitor: Visitor, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await visitor.open()
        except Exception as error:
            failures.append(f"{type(error).__name__}: {str(error)[:200]}")

    await asyncio.gather(*(open_at(v, i / args.open_rate) for i, v in enumerate(visitors)))
    opened = [v for v in visitors if v.page_ready_s is not None]
    ready = [v.page_ready_s for v in opened]
    started = []  # CPU a kernel used to start, run the notebook and generate the URL's words
    for pid in kernel_pids(server_pid):
        with contextlib.suppress(OSError):
            started.append(cpu_seconds(pid))
    await asyncio.sleep(5)  # the pages' own first generation (the URL asks for one) is done
    loaded = await paced_clicks(opened, args.clicks) if opened else []
    after = await asyncio.to_thread(server_memory, server_pid)
    server = await counts(url)
    pss = [p for p, _ in after["kernels"]]
    rss = [r for _, r in after["kernels"]]
    print(f"opened {len(opened)} of {args.sessions}; failures {len(failures)} {failures[:3]}; server says {server}")
    print(f"page ready (s)                     {summary(ready, 1000, ' ms')}   target p95 <= 3000 ms")
    print(f"kernel CPU to start and serve a page: median {statistics.median(started):.2f} s "
          f"(at most {os.cpu_count() / statistics.median(started):.1f} new sessions a second "
          f"on {os.cpu_count()} idle CPUs)")  # fmt: skip
    print(f"click -> {WORDS} words, 3 open      {summary(baseline, 1000, ' ms')}")
    print(f"click -> {WORDS} words, {len(opened)} open    {summary(loaded, 1000, ' ms')}   target p95 <= 500 ms")
    if baseline and loaded:
        print(f"  ratio p95 {p95(loaded) / p95(baseline):.2f}x, median "
              f"{statistics.median(loaded) / statistics.median(baseline):.2f}x")  # fmt: skip
    print(f"kernel PSS (MiB)                   median {statistics.median(pss):.1f}, p95 {p95(pss):.1f}, "
          f"max {max(pss):.1f} over {len(pss)} kernels (RSS median {statistics.median(rss):.1f})")  # fmt: skip
    added = max(1, len(after["kernels"]) - len(before["kernels"]))  # visitors who gave up still hold theirs
    print(f"server + kernels PSS (MiB)         {before['total']:.0f} with the pool only -> {after['total']:.0f} with "
          f"{added} more kernels ({len(opened)} pages ready): {(after['total'] - before['total']) / added:.1f} MiB "
          f"a session; server process {before['server']:.0f} -> {after['server']:.0f}")  # fmt: skip
    print(f"machine memory: MemAvailable {before['available']:.0f} -> {after['available']:.0f} MiB")
    for visitor in visitors:
        await visitor.close(unload=True)


async def churn(urls: list[str], rate: float, minutes: float, views: Views, samples: list[dict]) -> None:
    """Page views at ``rate`` a minute for ``minutes`` (spread over ``urls``' one entry: a server
    or the proxy), sampling every server's counts each second."""
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            now = time.monotonic()
            try:
                servers = [await counts(url) for url in urls[1:] or urls]
            except (OSError, HTTPClientError) as error:
                views.failures.append(f"counts: {error}")
                servers = []
            unclean = sum(1 for t in views.unclean if now - t <= CULL_WINDOW_S)
            samples.append({"t": now, "open": views.open, "unclean": unclean, "servers": servers})
            await asyncio.sleep(1)

    sampler = asyncio.ensure_future(sample())
    loop = asyncio.get_running_loop()
    count = int(math.ceil(minutes * rate))
    # Half unload, half vanish, in a shuffled order: alternating would line up with a round-robin
    # balancer and leave every lost tab on one replica.
    unloads = [i % 2 == 0 for i in range(count)]
    random.Random(1).shuffle(unloads)
    start, tasks = loop.time(), []
    for i, unload in enumerate(unloads):
        await asyncio.sleep(max(0.0, start + i * 60 / rate - loop.time()))
        tasks.append(asyncio.ensure_future(view(urls[0], unload=unload, views=views)))
    await asyncio.gather(*tasks)
    stop.set()
    await sampler


def churn_report(views: Views, samples: list[dict]) -> None:
    over = []
    for s in samples:
        kernels = sum(server["kernels"] for server in s["servers"])
        pool = sum(server["pool"] for server in s["servers"])
        allowed = s["open"] + pool + s["unclean"]
        over.append(kernels - allowed)
    peak = max(samples, key=lambda s: sum(server["kernels"] for server in s["servers"]))
    print(f"page views {len(views.ready)} complete, failures {len(views.failures)} {views.failures[:3]}")
    print(
        f"page ready {summary(views.ready, 1000, ' ms')}; click -> {WORDS} words {summary(views.clicks, 1000, ' ms')}"
    )
    print(f"live kernels above open tabs + pool + unclean closes of the last 3 min: in "
          f"{sum(1 for x in over if x > 0)} of {len(over)} one-second samples (worst {max(over):+d}); "
          f"peak {sum(server['kernels'] for server in peak['servers'])} kernels with {peak['open']} tabs open, "
          f"{peak['unclean']} unclean closes in the window")  # fmt: skip


async def settle(server_pid: int, baseline: dict, pool: int, minutes: float) -> None:
    """Seconds after the last close until the kernels are back to the pool and their memory to its
    starting level; and what the server process itself kept."""
    start = time.monotonic()
    kernels_before = sum(pss for pss, _ in baseline["kernels"])
    while True:
        memory = await asyncio.to_thread(server_memory, server_pid)
        waited = time.monotonic() - start
        kernels = sum(pss for pss, _ in memory["kernels"])
        back = len(memory["kernels"]) <= pool and kernels <= kernels_before + 16
        if back or waited > minutes * 60:
            print(f"kernels {'back' if back else 'NOT back'} to the pool ({len(memory['kernels'])} kernels, "
                  f"{kernels:.0f} MiB PSS; start {len(baseline['kernels'])}, {kernels_before:.0f} MiB) "
                  f"{waited:.0f} s after the last close   target <= 180 s")  # fmt: skip
            print(f"server + kernels PSS {memory['total']:.0f} MiB (start {baseline['total']:.0f}); the server "
                  f"process {memory['server']:.0f} MiB (start {baseline['server']:.0f})")  # fmt: skip
            return
        await asyncio.sleep(5)


async def churn_part(url: str, server_pid: int, args) -> None:
    print(f"\n## churn: {args.churn_rate:g} page views a minute for {args.churn_minutes:g} min, half closed "
          f"without unload ({load()})")  # fmt: skip
    await asyncio.sleep(2)
    baseline = await asyncio.to_thread(server_memory, server_pid)
    for round_ in range(1, args.churn_rounds + 1):
        if args.churn_rounds > 1:
            print(f"round {round_} of {args.churn_rounds}, on the same server")
        views, samples = Views(), []
        await churn([url], args.churn_rate, args.churn_minutes, views, samples)
        churn_report(views, samples)
        await settle(server_pid, baseline, args.pool_size, args.settle_minutes)


async def limit_part(url: str, server_pid: int, args) -> None:
    print(f"\n## at the session limit ({args.limit} sessions; {load()})")
    visitors = [Visitor(url + QUERY) for _ in range(args.limit)]
    for visitor in visitors:
        await visitor.open()
    await asyncio.sleep(5)
    quiet = await paced_clicks(visitors, args.clicks)
    kernels_before = (await counts(url))["kernels"]
    busy: list[float] = []
    answers: list[str] = []
    stop = asyncio.Event()

    async def turned_away() -> None:
        while not stop.is_set():
            try:
                await Visitor(url + QUERY).open(timeout=10)
                answers.append("served")
            except Busy as refused:
                busy.append(refused.seconds)
                answers.append(f"503 Retry-After {refused.retry_after}")
            except Exception as error:
                answers.append(f"{type(error).__name__}")
            await asyncio.sleep(1 / args.busy_rate)

    hammer = asyncio.ensure_future(turned_away())
    loaded = await paced_clicks(visitors, args.clicks)
    stop.set()
    await hammer
    kernels_after = (await counts(url))["kernels"]
    quiet_again = await paced_clicks(visitors, args.clicks)
    kinds = {answer: answers.count(answer) for answer in set(answers)}
    print(f"visitors beyond the limit: {kinds}; kernels {kernels_before} before, {kernels_after} after")
    print(f"busy page                        {summary(busy, 1000, ' ms')}   target <= 1000 ms")
    print(f"click -> {WORDS} words, quiet       {summary(quiet, 1000, ' ms')}")
    print(
        f"click -> {WORDS} words, turning away {summary(loaded, 1000, ' ms')}  ({args.busy_rate:g} visitors a second)"
    )
    print(f"click -> {WORDS} words, quiet again {summary(quiet_again, 1000, ' ms')}")
    print(f"  p95 ratios: turning away / quiet {p95(loaded) / p95(quiet):.2f}x; "
          f"quiet again / quiet {p95(quiet_again) / p95(quiet):.2f}x (the noise)")  # fmt: skip
    for visitor in visitors:
        await visitor.close(unload=True)


async def replicas_part(proxy: str, replicas: list[str], args) -> None:
    print(f"\n## churn through HAProxy, 2 replicas: {args.churn_rate:g} page views a minute for "
          f"{args.replica_minutes:g} min ({load()})")  # fmt: skip
    views, samples = Views(), []
    await churn([proxy, *replicas], args.churn_rate, args.replica_minutes, views, samples)
    churn_report(views, samples)
    print(f"page views per replica (HAProxy's cookie): {dict(sorted(views.replicas.items()))}")
    for i, _ in enumerate(replicas):
        sessions = [s["servers"][i]["sessions"] for s in samples if len(s["servers"]) == len(replicas)]
        print(f"replica app{i + 1}: sessions median {statistics.median(sessions):.0f}, max {max(sessions)}, "
              f"mean {statistics.fmean(sessions):.1f}")  # fmt: skip
    totals = [sum(server["sessions"] for server in s["servers"]) for s in samples if s["servers"]]
    shares = [s["servers"][0]["sessions"] / t for s, t in zip([s for s in samples if s["servers"]], totals) if t]
    print(f"replica app1's share of live sessions: median {statistics.median(shares):.2f} (half: 0.50)")


# --- main ------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="concurrent,churn,limit,replicas")
    parser.add_argument("--sessions", type=int, default=100, help="concurrent sessions")
    parser.add_argument("--open-rate", type=float, default=1.0, help="new sessions a second")
    parser.add_argument("--clicks", type=int, default=60, help="clicks measured per phase")
    parser.add_argument("--churn-rate", type=float, default=60, help="page views a minute")
    parser.add_argument("--churn-minutes", type=float, default=5)
    parser.add_argument("--churn-rounds", type=int, default=1, help="churns one after another on one server: "
                        "whether what the server process keeps grows with every round")  # fmt: skip
    parser.add_argument("--settle-minutes", type=float, default=4, help="how long to wait for memory to return")
    parser.add_argument("--limit", type=int, default=20, help="the session limit in the limit part")
    parser.add_argument("--busy-rate", type=float, default=4, help="visitors a second beyond the limit")
    parser.add_argument("--replica-minutes", type=float, default=5)
    parser.add_argument("--pool-size", type=int, default=ServeConfig.pool_size, help="preheated kernels per server")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    env = {key: os.environ[key] for key in ("PATENTRNN_DATA",) if key in os.environ}
    pool = ("--pool-size", str(args.pool_size))
    print(f"capacity of patentrnn serve; visitors: protocol clients (benchmarks/widget_client.py), not Chromium; "
          f"{os.cpu_count()} CPUs shared with whatever else runs ({load()})")  # fmt: skip
    logs = Path(tempfile.mkdtemp(prefix="capacity-"))
    if "concurrent" in parts:
        with voila_app(env, logs / "concurrent.log", args=("--max-sessions", str(args.sessions + 10), *pool)) as (
            url,
            server,
        ):
            asyncio.run(concurrent_part(url, server.pid, args))
    if "churn" in parts:
        with voila_app(env, logs / "churn.log", args=("--max-sessions", "200", *pool)) as (url, server):
            asyncio.run(churn_part(url, server.pid, args))
    if "limit" in parts:
        with voila_app(env, logs / "limit.log", args=("--max-sessions", str(args.limit), *pool)) as (url, server):
            asyncio.run(limit_part(url, server.pid, args))
    if "replicas" in parts:
        with contextlib.ExitStack() as stack:
            replicas = [
                stack.enter_context(voila_app(env, logs / f"replica{i}.log", args=("--max-sessions", "200", *pool)))[0]
                for i in (1, 2)
            ]
            proxy, _ = stack.enter_context(haproxy_in_front(replicas, logs / "haproxy.log"))
            asyncio.run(replicas_part(proxy, replicas, args))
    print(f"\nserver logs in {logs} ({load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
