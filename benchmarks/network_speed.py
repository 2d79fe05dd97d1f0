"""The page over real networks: shaped links, first and repeat visits, directly and through HAProxy
(TLS, h2), against the trivial widget page on stock Voilà; then Lighthouse 12, mobile and desktop.

The links and profiles are shaped_link.py's (mobile: 150 ms, 1.6 Mbit/s, CPU 4x; desktop: 40 ms,
10 Mbit/s). For each visit: bytes over the wire (both directions, as the proxy counted them), requests that
reached the network, preview painted (first contentful paint), form usable (the live Generate
button visible) and click -> 100 words; then the bytes by part, the front end's script by npm
package (esbuild's metafile) and Lighthouse (lighthouse_run.py).

Any other page is measured side by side with ``--peer URL``: ``--peer-ready`` names what shows its
form is usable, ``--peer-click`` and ``--peer-output`` its button and output (click -> output).

    python benchmarks/network_speed.py [--runs 3] [--profiles mobile,desktop,loopback] [--no-lighthouse]
    python benchmarks/network_speed.py --pages serve,peer --peer http://127.0.0.1:7860/ \
        --peer-ready "#generate" --peer-click "#generate" --peer-output "#output textarea"
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from app_speed import trivial_notebook  # noqa: E402
from haproxy_front import haproxy_in_front, self_signed_certificate  # noqa: E402
from lighthouse_run import lighthouse_table  # noqa: E402
from shaped_link import PROFILES, Profile, ShapedProxy  # noqa: E402
from voila_server import CHROMIUM_ARGS, NO_CHROMIUM, benchmark_env, find_chromium, voila_app  # noqa: E402

# --- one visit -------------------------------------------------------------------------------------


def click_for_words(page) -> float:
    """This page: the Words slider to 100, Generate, seconds until the 100th word shows."""
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
    return time.perf_counter() - started


def click_for_output(button: str, output: str) -> Callable:
    """Another page (``--peer``): click ``button``, seconds until ``output``'s text changes and is not empty."""

    def click(page) -> float:
        before = page.locator(output).first.inner_text() if page.locator(output).count() else ""
        started = time.perf_counter()
        page.locator(button).first.click()
        page.wait_for_function(
            "([selector, before]) => { const node = document.querySelector(selector);"
            " const text = node ? (node.value || node.innerText || '').trim() : '';"
            " return text !== '' && text !== before.trim(); }",
            arg=[output, before],
            polling="raf",
            timeout=60_000,
        )
        return time.perf_counter() - started

    return click


def visit(context, url: str, profile: Profile | None, ready: str, proxy: ShapedProxy, click: Callable | None) -> dict:
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
    page.locator(ready).first.wait_for(state="visible", timeout=240_000)
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
        figures["click_s"] = click(page)
    figures["transfers"] = page.evaluate(  # (path, bytes over the wire) of the page and each file
        "[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]"
        ".filter(e => e.name.startsWith('http')).map(e => [new URL(e.name).pathname + new URL(e.name).search,"
        " e.transferSize])"
    )
    page.close()
    return figures


def visits(browser, target_url: str, profile: Profile | None, ready: str, runs: int, click: Callable | None) -> dict:
    """``runs`` first visits, each followed by a repeat visit in the same browser profile."""
    host, port = target_url.split("//")[1].split("/")[0].split(":")
    scheme, path = target_url.split("//")[0], "/" + target_url.split("//")[1].split("/", 1)[1]
    proxy = ShapedProxy((host, int(port)), profile)
    url = f"{scheme}//127.0.0.1:{proxy.port}{path}"
    rows: dict[str, list[dict]] = {"first": [], "repeat": []}
    try:
        for _ in range(runs):
            context = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844})
            for kind, clicks in (("first", click), ("repeat", None)):
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


# --- the run ---------------------------------------------------------------------------------------


PARTS = (  # (part, what its URLs contain), first match wins
    ("the front end (patentrnn/web/js: script, styles)", ("/static/frontend/",)),
    ("Voilà's lab app (other notebooks only)", ("/voila/static/", "/voila/labextensions/")),
    ("the page (HTML, page.css, preview, widget state)", ("",)),
)
FRONTEND = HERE.parent / "patentrnn" / "jupyter" / "voila" / "templates" / "patentrnn" / "static" / "frontend"


def parts_table(transfers: list, total: int) -> None:
    """Bytes of a first visit by part; the rest of the wire is the kernel websocket (the widgets'
    messages, the generated words) and the headers."""
    sums = dict.fromkeys([name for name, _ in PARTS], 0)
    for path, size in transfers:
        name = next(name for name, needles in PARTS if any(needle in path for needle in needles))
        sums[name] += size
    sums["kernel websocket, headers"] = total - sum(sums.values())
    print("\nbytes of a first visit by part (patentrnn serve):")
    for name, size in sums.items():
        print(f"  {name:<58}{size:>11,}")


def package_of(path: str) -> str:
    parts = path.split("node_modules/")
    if len(parts) == 1:
        return "patentrnn (src/)"
    names = parts[-1].split("/")
    return "/".join(names[:2]) if names[0].startswith("@") else names[0]


def bundle_table() -> None:
    """The front end's script by npm package, from esbuild's metafile (minified bytes), and the file's gzip and
    brotli sizes (what travels)."""
    import brotli

    meta = json.loads((FRONTEND / "meta.json").read_text())
    for output, entry in meta["outputs"].items():
        sizes: dict[str, int] = {}
        for path, used in entry["inputs"].items():
            sizes[package_of(path)] = sizes.get(package_of(path), 0) + used["bytesInOutput"]
        files = json.loads((FRONTEND / "build.json").read_text())["files"]
        name = next(file for file in files if file.endswith(Path(output).suffix))
        built = FRONTEND / name
        data = built.read_bytes()
        print(f"\nthe front end's {name}: {len(data):,} B minified, {len(gzip.compress(data, 9)):,} gzip, "
              f"{len(brotli.compress(data, quality=11)):,} br; by package (minified):")  # fmt: skip
        total = sum(sizes.values())
        for package, size in sorted(sizes.items(), key=lambda item: -item[1])[:12]:
            print(f"  {package:<40}{size:>10,}{size / total:>7.0%}")


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


def arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profiles", default="mobile,desktop,loopback")
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--lighthouse-runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, served side by side")
    parser.add_argument("--pages", help="only these rows, comma-separated: serve,haproxy,before,trivial,peer")
    parser.add_argument("--peer", help="another page's URL (a Gradio app, say), measured side by side")
    parser.add_argument("--peer-name", default="peer", help="its row's name")
    parser.add_argument("--peer-ready", default="button", help="CSS selector: visible once its form is usable")
    parser.add_argument("--peer-click", help="CSS selector of its button (with --peer-output: click -> output)")
    parser.add_argument("--peer-output", help="CSS selector of its output, timed until its text changes")
    return parser.parse_args(argv)


def serve_pages(args, env: dict, directory: Path, stack) -> tuple[dict, object, Path]:
    """Start every page's server; {short name: (row, URL, what shows the form is usable, click or None)}."""
    serve_args = ("--max-sessions", "60", "--pool-size", "2")
    app, server = stack.enter_context(voila_app(env, directory / "app.log", args=serve_args))
    # (stock Voilà culls its own preheated kernel after voila.json's 120 s: not culled here,
    # the page waited on a dead kernel when its turn came minutes after the start)
    trivial, _ = stack.enter_context(
        voila_app(env, directory / "trivial.log", notebook=trivial_notebook(directory),
                  args=("--template=lab", "--MappingKernelManager.cull_idle_timeout=0"))
    )  # fmt: skip
    certificate = self_signed_certificate(directory)
    tls, _ = stack.enter_context(haproxy_in_front([app], directory / "haproxy.log", tls_cert=certificate))
    pages = {
        "serve": ("patentrnn serve", app, ".patentrnn-generate", click_for_words),
        "haproxy": ("HAProxy, TLS, h2", tls, ".patentrnn-generate", click_for_words),
    }
    if args.baseline:
        before, _ = stack.enter_context(
            voila_app(env, directory / "before.log", args=serve_args, root=args.baseline.resolve())
        )
        pages["before"] = (f"before ({args.baseline.name})", before, ".patentrnn-generate", click_for_words)
    pages["trivial"] = ("trivial page, stock Voilà", trivial, ".trivial-button", None)
    if args.peer:
        click = click_for_output(args.peer_click, args.peer_output) if args.peer_click and args.peer_output else None
        pages["peer"] = (args.peer_name, args.peer, args.peer_ready, click)
    if args.pages:
        pages = {key: pages[key] for key in args.pages.split(",")}
    return pages, server, certificate


def main(argv=None) -> int:
    args = arguments(argv)
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if not chromium:
        print(NO_CHROMIUM, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack, sync_playwright() as playwright:
        pages, server, certificate = serve_pages(args, benchmark_env(), Path(directory), stack)
        trusted = f"--ignore-certificate-errors-spki-list={spki_hash(certificate)}"
        browser = playwright.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, trusted])
        for name in args.profiles.split(","):
            profile = PROFILES[name]
            results = {}
            for row, url, ready, click in pages.values():
                results[row] = visits(browser, url, profile, ready, args.runs, click)
                table(f"{name} ({profile or 'no shaping'}), medians of {args.runs}", {row: results[row]})
        browser.close()
        if "serve" not in pages:
            return 0
        app = pages["serve"][1]
        first = results["patentrnn serve"]["first"][0]
        parts_table(first["transfers"], first["bytes"])
        bundle_table()
        assets = [app.rstrip("/") + path for path, _ in first["transfers"][1:] if "/static/" in path]
        cpu = delivery_cpu(app, server.pid, assets)
        print(f"\nserver CPU to send one page view's {len(assets)} static files, median of 20 views: "
              + ", ".join(f"{encoding} {ms:.1f} ms" for encoding, ms in cpu.items()))  # fmt: skip
        if not args.no_lighthouse:
            lighthouse_table(app, chromium, args.lighthouse_runs)
    return 0


if __name__ == "__main__":
    if shutil.which("node") is None:
        print("note: no node: Lighthouse will not run", file=sys.stderr)
    sys.exit(main())
