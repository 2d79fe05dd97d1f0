"""The page over real networks: shaped links, first and repeat visits, directly and through HAProxy
(TLS, h2), against the trivial widget page on stock Voilà; then Lighthouse 12, mobile and desktop.

A link is a TCP proxy that delays and rate-limits every byte, websockets included, with every
connection of a visit sharing one link per direction, as on a phone (Chromium's own network
emulation shapes requests one by one, and not websockets). Profiles, as Lighthouse's:

* mobile: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, CPU 4x slower (CDP);
* desktop: 40 ms, 10 Mbit/s both ways;
* loopback: no shaping.

For each visit: bytes over the wire (both directions, as the proxy counted them), requests that
reached the network, preview painted (first contentful paint), form usable (the live Generate
button visible) and click -> 100 words. Lighthouse (npm lighthouse@12.2.3, installed into
benchmarks/.lighthouse on first use; Lighthouse 13 needs Node 22) runs with Debian's Chromium
on loopback with its own simulated throttling.

    python benchmarks/network_speed.py [--runs 3] [--profiles mobile,desktop,loopback] [--no-lighthouse]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from app_speed import trivial_notebook  # noqa: E402
from haproxy_front import haproxy_in_front, self_signed_certificate  # noqa: E402
from voila_server import CHROMIUM_ARGS, NO_CHROMIUM, benchmark_env, find_chromium, voila_app  # noqa: E402

LIGHTHOUSE = "12.2.3"
LIGHTHOUSE_DIR = HERE / ".lighthouse"


@dataclass(frozen=True)
class Profile:
    rtt_ms: float
    down_kbps: float  # kilobits a second
    up_kbps: float
    cpu: float = 1


PROFILES = {
    "mobile": Profile(150, 1600, 750, 4),
    "desktop": Profile(40, 10_000, 10_000, 1),
    "loopback": None,
}


# --- the shaped link ---------------------------------------------------------------------------


class Link:
    """One direction of a link: bytes queue for its bandwidth, then take half the round trip."""

    def __init__(self, loop, kbps: float, delay_s: float):
        self.loop, self.rate, self.delay = loop, kbps * 1000 / 8, delay_s
        self.free_at = 0.0
        self.bytes = 0

    def send(self, data: bytes, deliver) -> None:
        now = self.loop.time()
        done = max(now, self.free_at) + len(data) / self.rate
        self.free_at = done
        self.bytes += len(data)
        self.loop.call_at(done + self.delay, deliver, data)


class ShapedProxy:
    """A TCP proxy on 127.0.0.1 in front of ``target`` (host, port), shaped by ``profile``
    (None: loopback, counted only). Runs its own event loop in a thread."""

    def __init__(self, target: tuple[str, int], profile: Profile | None):
        self.target, self.profile = target, profile
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        profile = self.profile or Profile(0, 10**9, 10**9)
        self.down = Link(self.loop, profile.down_kbps, profile.rtt_ms / 2000)
        self.up = Link(self.loop, profile.up_kbps, profile.rtt_ms / 2000)
        server = self.loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _connection(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, server_writer, self.up), self._pipe(server_reader, client_writer, self.down)
        )

    async def _pipe(self, reader, writer, link: Link):
        def deliver(data):
            if not writer.is_closing():
                writer.write(data)

        try:
            while data := await reader.read(16384):
                link.send(data, deliver)
        except (ConnectionError, OSError):
            pass
        self.loop.call_at(max(self.loop.time(), link.free_at) + link.delay, writer.close)

    def counted(self) -> int:
        return self.down.bytes + self.up.bytes

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)


# --- one visit -------------------------------------------------------------------------------------


def visit(context, url: str, profile: Profile | None, ready: str, proxy: ShapedProxy, click: bool) -> dict:
    """Open ``url`` in a new page of ``context`` (new context: a first visit; used one: a repeat)."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    if profile and profile.cpu > 1:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile.cpu})
    network = set()  # requests answered over the network (a 304 included), not from the browser's cache
    cdp.send("Network.enable")
    cdp.on(
        "Network.responseReceived",
        lambda event: event["response"]["url"].startswith("http")
        and not event["response"].get("fromDiskCache")
        and network.add(event["requestId"]),
    )
    cdp.on("Network.requestServedFromCache", lambda event: network.discard(event["requestId"]))
    before = proxy.counted()
    page.goto(url, wait_until="commit", timeout=240_000)
    page.locator(ready).wait_for(state="visible", timeout=240_000)
    usable = page.evaluate("performance.now()") / 1000
    fcp = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")
    page.wait_for_timeout(1500)  # late requests (fonts, lazy chunks) belong to the visit too
    figures = {
        "bytes": proxy.counted() - before,
        "requests": len(network),
        "painted_s": fcp / 1000 if fcp else float("nan"),
        "usable_s": usable,
        "protocol": page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol"),
    }
    if click:
        sliders = page.locator(".patentrnn-app .widget-slider .noUi-handle")
        sliders.nth(1).focus()
        page.keyboard.press("End")  # the Words slider to its maximum, 100
        page.locator(".patentrnn-output-widget").wait_for(state="attached")
        started = time.perf_counter()
        page.locator(".patentrnn-generate").click()
        page.wait_for_function(
            "() => document.querySelectorAll('.patentrnn-output-widget .generated .word').length === 100",
            polling="raf",
            timeout=60_000,
        )
        figures["click_s"] = time.perf_counter() - started
    figures["urls"] = page.evaluate(  # the static files, as paths: the proxy's port is not the server's
        "performance.getEntriesByType('resource').filter(e => e.name.startsWith('http') && e.name.includes('/voila/'))"
        ".map(e => { const u = new URL(e.name); return u.pathname + u.search; })"
    )
    figures["transfers"] = page.evaluate(  # (path, bytes over the wire) of the page and each file
        "[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]"
        ".filter(e => e.name.startsWith('http')).map(e => [new URL(e.name).pathname, e.transferSize])"
    )
    page.close()
    return figures


def visits(browser, target_url: str, profile: Profile | None, ready: str, runs: int, click: bool) -> dict:
    """``runs`` first visits, each followed by a repeat visit in the same browser profile."""
    host, port = target_url.split("//")[1].split("/")[0].split(":")
    scheme = target_url.split("//")[0]
    proxy = ShapedProxy((host, int(port)), profile)
    url = f"{scheme}//127.0.0.1:{proxy.port}/"
    rows: dict[str, list[dict]] = {"first": [], "repeat": []}
    try:
        for _ in range(runs):
            context = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844})
            for kind, clicks in (("first", click), ("repeat", False)):
                try:
                    rows[kind].append(visit(context, url, profile, ready, proxy, clicks))
                except Exception as error:  # one failed visit is reported, not the end of the run
                    print(f"  {url}: {kind} visit failed: {type(error).__name__}: {str(error)[:200]}", flush=True)
            context.close()
    finally:
        proxy.close()
    return rows


def summary(rows: list[dict]) -> dict:
    keys = [key for key in rows[0] if key not in ("protocol", "urls", "transfers")]
    return {
        **{key: statistics.median(row[key] for row in rows) for key in keys},
        "protocol": rows[0]["protocol"],
    }


# --- Lighthouse -------------------------------------------------------------------------------------


def lighthouse_cli() -> Path:
    cli = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
    if not cli.is_file():
        subprocess.run(["npm", "install", "--silent", "--prefix", str(LIGHTHOUSE_DIR), f"lighthouse@{LIGHTHOUSE}"],
                       check=True)  # fmt: skip
    return cli


def lighthouse(url: str, preset: str, chromium: str) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "report.json"
        flags = "--chrome-flags=--headless=new --no-sandbox --disable-gpu"
        command = ["node", str(lighthouse_cli()), url, "--quiet", "--output=json", f"--output-path={report}",
                   "--only-categories=performance", flags]  # fmt: skip
        if preset == "desktop":
            command.append("--preset=desktop")
        subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": chromium}, timeout=300)
        data = json.loads(report.read_text())
    audits = data["audits"]
    value = {name: audits[name]["numericValue"] for name in
             ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift",
              "interactive")}  # fmt: skip
    return {"score": round(data["categories"]["performance"]["score"] * 100), **value}


# --- the run ---------------------------------------------------------------------------------------


PARTS = (  # (part, what its URLs contain), first match wins
    ("widget manager", ("jupyterlab-manager", "widgets-manager")),
    ("anywidget", ("/anywidget/",)),
    ("Voilà (its app, styles and theme)", ("/voila/static/", "/voila/templates/")),
    ("the page (HTML, page.css, preview)", ("",)),
)


def parts_table(transfers: list, total: int) -> None:
    """Bytes of a first visit by part; the rest of the wire is the kernel websocket (widget state, our
    output widget's code and styles, the generated words) and the headers."""
    sums = dict.fromkeys([name for name, _ in PARTS], 0)
    for path, size in transfers:
        name = next(name for name, needles in PARTS if any(needle in path for needle in needles))
        sums[name] += size
    sums["kernel websocket (our widget's code and state), headers"] = total - sum(sums.values())
    print("\nbytes of a first visit by part (patentrnn serve, loopback):")
    for name, size in sums.items():
        print(f"  {name:<58}{size:>11,}")


def server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def delivery_cpu(url: str, pid: int, assets: list[str], repeats: int = 20) -> dict[str, float]:
    """Server CPU ms to send one page view's static files, by Accept-Encoding, side by side."""
    import urllib.request

    cpu = {}
    for encoding in ("identity", "gzip", "br"):
        before = server_cpu_s(pid)
        for _ in range(repeats):
            for asset in assets:
                request = urllib.request.Request(asset, headers={"Accept-Encoding": encoding})
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
        cpu[encoding] = (server_cpu_s(pid) - before) / repeats * 1000
    return cpu


def spki_hash(certificate: Path) -> str:
    """The base64 sha256 of a certificate's public key, for Chromium's --ignore-certificate-errors-spki-list:
    the self-signed certificate is then trusted, and HTTPS responses are cached as with a real one."""
    key = subprocess.run(["openssl", "x509", "-in", str(certificate), "-pubkey", "-noout"],
                         check=True, capture_output=True).stdout  # fmt: skip
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=key, check=True,
                         capture_output=True).stdout  # fmt: skip
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def table(title: str, results: dict) -> None:
    print(f"\n{title}", flush=True)
    print(f"{'page':<34}{'visit':<8}{'bytes':>11}{'requests':>10}{'painted':>9}{'usable':>9}{'click':>8}  proto")
    for name, rows in results.items():
        for kind in ("first", "repeat"):
            if not rows[kind]:
                print(f"{name:<34}{kind:<8}  every visit failed", flush=True)
                continue
            row = summary(rows[kind])
            click = f"{row['click_s']:.2f}" if "click_s" in row else "-"
            print(f"{name:<34}{kind:<8}{row['bytes']:>11,.0f}{row['requests']:>10.0f}{row['painted_s']:>9.2f}"
                  f"{row['usable_s']:>9.2f}{click:>8}  {row['protocol']}", flush=True)  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profiles", default="mobile,desktop,loopback")
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--lighthouse-runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, served side by side")
    parser.add_argument("--pages", help="only these rows, comma-separated: serve,haproxy,before,trivial")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if not chromium:
        print(NO_CHROMIUM, file=sys.stderr)
        return 1
    env = benchmark_env()
    serve_args = ("--max-sessions", "60", "--pool-size", "2")
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack, sync_playwright() as playwright:
        directory = Path(directory)
        app, server = stack.enter_context(voila_app(env, directory / "app.log", args=serve_args))
        # (stock Voilà culls its own preheated kernel after voila.json's 120 s: not culled here,
        # the page waited on a dead kernel when its turn came minutes after the start)
        trivial, _ = stack.enter_context(
            voila_app(env, directory / "trivial.log", notebook=trivial_notebook(directory),
                      args=("--template=lab", "--MappingKernelManager.cull_idle_timeout=0"))
        )
        certificate = self_signed_certificate(directory)
        tls, _ = stack.enter_context(haproxy_in_front([app], directory / "haproxy.log", tls_cert=certificate))
        pages = {  # short name: (row, URL, what shows the form is usable, click -> 100 words)
            "serve": ("patentrnn serve", app, ".patentrnn-generate", True),
            "haproxy": ("HAProxy, TLS, h2", tls, ".patentrnn-generate", True),
        }
        if args.baseline:
            before, _ = stack.enter_context(
                voila_app(env, directory / "before.log", args=serve_args, root=args.baseline.resolve())
            )
            pages["before"] = (f"before ({args.baseline.name})", before, ".patentrnn-generate", True)
        pages["trivial"] = ("trivial page, stock Voilà", trivial, ".trivial-button", False)
        if args.pages:
            pages = {key: pages[key] for key in args.pages.split(",")}
        trusted = f"--ignore-certificate-errors-spki-list={spki_hash(certificate)}"
        browser = playwright.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, trusted])
        for name in args.profiles.split(","):
            profile = PROFILES[name]
            results = {}
            for row, url, ready, click in pages.values():
                results[row] = visits(browser, url, profile, ready, args.runs, click)
                table(f"{name} ({profile or 'no shaping'}), medians of {args.runs}", {row: results[row]})
        if "serve" not in pages:
            return 0
        first = results["patentrnn serve"]["first"][0]
        parts_table(first["transfers"], first["bytes"])
        assets = [app.rstrip("/") + path for path in results["patentrnn serve"]["first"][0]["urls"]]
        cpu = delivery_cpu(app, server.pid, assets)
        print(f"\nserver CPU to send one page view's {len(assets)} static files, median of 20 views: "
              + ", ".join(f"{encoding} {ms:.1f} ms" for encoding, ms in cpu.items()))  # fmt: skip
        browser.close()
        if not args.no_lighthouse:
            print(f"\nLighthouse {LIGHTHOUSE}, patentrnn serve on loopback (simulated throttling), "
                  f"medians of {args.lighthouse_runs}")  # fmt: skip
            print(f"{'preset':<9}{'score':>6}{'FCP s':>8}{'LCP s':>8}{'TBT ms':>8}{'CLS':>7}{'TTI s':>8}")
            for preset in ("mobile", "desktop"):
                runs = [lighthouse(app, preset, chromium) for _ in range(args.lighthouse_runs)]
                med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                print(f"{preset:<9}{med['score']:>6.0f}{med['first-contentful-paint'] / 1000:>8.2f}"
                      f"{med['largest-contentful-paint'] / 1000:>8.2f}{med['total-blocking-time']:>8.0f}"
                      f"{med['cumulative-layout-shift']:>7.3f}{med['interactive'] / 1000:>8.2f}"
                      f"   (scores {[run['score'] for run in runs]})")  # fmt: skip
    return 0


if __name__ == "__main__":
    if shutil.which("node") is None:
        print("note: no node: Lighthouse will not run", file=sys.stderr)
    sys.exit(main())
