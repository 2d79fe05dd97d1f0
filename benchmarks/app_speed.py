"""App speed and memory: the patentrnn page against a trivial widget page, one run.

Both are served by Voilà with the repository's voila.json (a preheated kernel), and
driven by headless Chromium through Playwright:

* navigation → widgets visible (median of several page loads, each on a fresh
  preheated kernel);
* click → 100 generated words visible with their cards' data (patentrnn only; median
  and p95 of several clicks);
* "Analyse text" on a 300-word text: click → coloured words and perplexity visible;
* kernel PSS and RSS of the kernel that served the page, and of a spare preheated one.

    python benchmarks/app_speed.py [--loads 5] [--clicks 15]

Targets: widgets visible <= 1.5 s, click -> 100 words <= 200 ms p95, analysing 300 words
<= 200 ms, kernel PSS <= 65 MiB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from voila_server import (  # noqa: E402
    CHROMIUM_ARGS,
    NO_CHROMIUM,
    ROOT,
    benchmark_env,
    find_chromium,
    kernel_pids,
    pss_mib,
    rss_mib,
    voila_app,
)  # fmt: skip

TRIVIAL = """import ipywidgets as widgets
button = widgets.Button(description="Go")
button.add_class("trivial-button")
widgets.VBox([widgets.Textarea(), widgets.FloatSlider(), button, widgets.HTML()])"""


# 300 words to analyse: written here, not taken from the corpus
_SENTENCE = ("A neural network is trained on a plurality of images to classify each input signal , and the weights "
             "of the network are adjusted by back propagation of the error between the output and the target .")
ANALYSED = " ".join((_SENTENCE.split() * 9)[:300])


def trivial_notebook(directory: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(TRIVIAL)]
    path = directory / "trivial.ipynb"
    nbformat.write(notebook, path)
    return path


def wait_for_pool(log: Path, fills: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while log.read_text().count("is filled") < fills:
        if time.monotonic() > deadline:
            raise RuntimeError("the preheated kernel pool did not refill")
        time.sleep(0.1)


def measure(browser, notebook: Path | None, selector: str, loads: int, clicks: int, env: dict, root=ROOT) -> dict:
    log = Path(tempfile.mkstemp(suffix=".log")[1])
    figures: dict = {"visible_s": [], "click_ms": [], "analyse_ms": []}
    with voila_app(env, log_path=log, notebook=notebook, root=root) as (url, server):
        for load in range(loads):
            wait_for_pool(log, load + 1)
            time.sleep(0.5)  # let the spare kernel settle
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            started = time.perf_counter()
            page.goto(url)
            page.locator(selector).wait_for(state="visible")
            figures["visible_s"].append(time.perf_counter() - started)
            if clicks and load == loads - 1:
                page.goto(url + "?words=100&seed=A+neural+network")
                page.locator(".patentrnn-output-widget .word").first.wait_for()
                for _ in range(clicks):
                    before = page.locator(".patentrnn-output-widget").inner_html()
                    started = time.perf_counter()
                    page.locator(".patentrnn-generate").click()
                    page.wait_for_function(
                        "before => { const o = document.querySelector('.patentrnn-output-widget');"
                        " return o.innerHTML !== before && o.querySelectorAll('.word').length === 100; }",
                        arg=before,
                        polling="raf",
                    )
                    figures["click_ms"].append((time.perf_counter() - started) * 1000)
                page.get_by_role("button", name="Analyse text").click()
                for analysis in range(max(clicks // 2, 1)):
                    # two texts in turn: the same text twice would not change the page
                    page.locator(".patentrnn-seed textarea").fill(ANALYSED if analysis % 2 else "The" + ANALYSED[1:])
                    page.evaluate("() => document.querySelector('.patentrnn-view .perplexity')?.remove()")
                    started = time.perf_counter()
                    page.locator(".patentrnn-generate").click()
                    page.locator(".patentrnn-view .perplexity").wait_for()
                    figures["analyse_ms"].append((time.perf_counter() - started) * 1000)
            if load < loads - 1:
                page.close()
        time.sleep(1)
        rss = sorted((rss_mib(pid), pss_mib(pid)) for pid in kernel_pids(server.pid))
        nan = (float("nan"), float("nan"))
        figures["rss_serving"], figures["pss_serving"] = rss[-1] if rss else nan
        figures["rss_spare"], figures["pss_spare"] = rss[0] if rss else nan
        figures["kernels"] = len(rss)
    return figures


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[int(0.95 * (len(values) - 1))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=15)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit, measured the same way, after")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if not chromium:
        print(NO_CHROMIUM, file=sys.stderr)
        return 1
    env = benchmark_env()
    with tempfile.TemporaryDirectory() as directory, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        trivial = measure(browser, trivial_notebook(Path(directory)), ".trivial-button", args.loads, 0, env)
        # (PYTHONPATH: the kernels import the checkout that serves them, not the installed package)
        ours = measure(browser, None, ".patentrnn-generate", args.loads, args.clicks, {**env, "PYTHONPATH": str(ROOT)})
        if args.baseline:
            root = args.baseline.resolve()
            before = measure(browser, None, ".patentrnn-generate", args.loads, args.clicks,
                             {**env, "PYTHONPATH": str(root)}, root=root)  # fmt: skip
        browser.close()

    def row(name, baseline, value, unit, target):
        ratio = f"{value / baseline:.2f}x" if baseline == baseline and baseline else ""
        base = f"{baseline:.2f}" if baseline == baseline else "–"
        print(f"{name:34}{base:>14}{value:>12.2f} {unit:<5}{ratio:>8}   {target}")

    print(f"{'':34}{'trivial page':>14}{'patentrnn':>12}{'':6}{'ratio':>8}   target")
    row("widgets visible (median s)", statistics.median(trivial["visible_s"]),
        statistics.median(ours["visible_s"]), "s", "<= 1.5 s")  # fmt: skip
    clicks = sorted(ours["click_ms"])
    row("click -> 100 words (median ms)", float("nan"), statistics.median(clicks), "ms", "")
    row("click -> 100 words (p95 ms)", float("nan"), clicks[int(0.95 * (len(clicks) - 1))], "ms", "<= 200 ms")
    row("analyse 300 words (median ms)", float("nan"), statistics.median(ours["analyse_ms"]), "ms", "<= 200 ms")
    row("serving kernel PSS", trivial["pss_serving"], ours["pss_serving"], "MiB", "<= 65 MiB")
    row("spare preheated kernel PSS", trivial["pss_spare"], ours["pss_spare"], "MiB", "")
    row("serving kernel RSS", trivial["rss_serving"], ours["rss_serving"], "MiB", "")
    row("spare preheated kernel RSS", trivial["rss_spare"], ours["rss_spare"], "MiB", "")
    if args.baseline:
        print(f"\n{'':34}{'before':>14}{'now':>12}{'':6}{'ratio':>8}   ({args.baseline.name})")
        for name, key, unit in (("widgets visible (median s)", "visible_s", "s"),
                                ("click -> 100 words (median ms)", "click_ms", "ms"),
                                ("analyse 300 words (median ms)", "analyse_ms", "ms")):  # fmt: skip
            row(name, statistics.median(before[key]), statistics.median(ours[key]), unit, "")
        row("click -> 100 words (p95 ms)", p95(before["click_ms"]), p95(ours["click_ms"]), "ms", "")
        for name, key in (("serving kernel PSS", "pss_serving"), ("spare preheated kernel PSS", "pss_spare")):
            row(name, before[key], ours[key], "MiB", "")
    print(f"\npage loads: {args.loads} each; clicks: {len(ours['click_ms'])}; "
          f"all visible times (s): trivial {[round(t, 2) for t in trivial['visible_s']]}, "
          f"patentrnn {[round(t, 2) for t in ours['visible_s']]}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
