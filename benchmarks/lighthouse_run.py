"""Lighthouse 12 (npm lighthouse@12.2.3, installed into benchmarks/.lighthouse on first use; Lighthouse 13
needs Node 22), run with Debian's Chromium on loopback with its own simulated throttling."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

LIGHTHOUSE = "12.2.3"
LIGHTHOUSE_DIR = Path(__file__).resolve().parent / ".lighthouse"


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


def lighthouse_table(url: str, chromium: str, runs: int) -> None:
    """Mobile and desktop presets, medians of ``runs``."""
    print(f"\nLighthouse {LIGHTHOUSE}, {url} on loopback (simulated throttling), medians of {runs}")
    print(f"{'preset':<9}{'score':>6}{'FCP s':>8}{'LCP s':>8}{'TBT ms':>8}{'CLS':>7}{'TTI s':>8}")
    for preset in ("mobile", "desktop"):
        found = [lighthouse(url, preset, chromium) for _ in range(runs)]
        med = {key: statistics.median(run[key] for run in found) for key in found[0]}
        print(f"{preset:<9}{med['score']:>6.0f}{med['first-contentful-paint'] / 1000:>8.2f}"
              f"{med['largest-contentful-paint'] / 1000:>8.2f}{med['total-blocking-time']:>8.0f}"
              f"{med['cumulative-layout-shift']:>7.3f}{med['interactive'] / 1000:>8.2f}"
              f"   (scores {[run['score'] for run in found]})", flush=True)  # fmt: skip
