"""The app page's front end, built from ``patentrnn/web/js`` by its ``build.mjs`` (esbuild) into the
template's ``static/frontend/`` and ``frontend.html``: is that build there, and is it of the sources
as they are now? ``build.json`` records the sha256 of the sources it was built from; this computes
the same digest (the same files, names and order as ``build.mjs``'s ``sourceDigest``)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .paths import TEMPLATE, TEMPLATES

JS = Path(__file__).resolve().parents[1] / "web" / "js"
SOURCES = ("build.mjs", "package.json", "package-lock.json", "src")
TEMPLATE_DIR = TEMPLATES / "voila" / "templates" / TEMPLATE
BUILD = TEMPLATE_DIR / "static" / "frontend" / "build.json"
HOW = "run `pip install -e .` (or `make frontend`: npm ci and npm run build in patentrnn/web/js)"


def source_digest(root: Path = JS) -> str:
    digest = hashlib.sha256()

    def walk(path: Path) -> None:
        if path.is_dir():
            for name in sorted(os.listdir(path)):
                walk(path / name)
        else:
            digest.update(f"{path.relative_to(root).as_posix()}\n".encode())
            digest.update(path.read_bytes())

    for name in SOURCES:
        walk(root / name)
    return digest.hexdigest()


def built(build: Path = BUILD) -> dict:
    """The build's record: ``{"sources": sha256, "files": [...], "modules": {...}, "packages": {...}}``."""
    return json.loads(build.read_text())


def problem(build: Path = BUILD, sources: Path = JS) -> str | None:
    """One line when the page's front end is missing or older than its sources; None when it is ready."""
    if not build.is_file() or not (build.parents[2] / "frontend.html").is_file():
        return f"the page's front end is not built: {HOW}"
    record = built(build)
    if not all((build.parent / name).is_file() for name in record["files"]):
        return f"the page's front end is incomplete: {HOW}"
    if record["sources"] != source_digest(sources):
        return f"the page's front end is older than its sources in patentrnn/web/js: {HOW}"
    return None
