"""The page's files: the template, and every static directory the page may load (precompressed)."""

from __future__ import annotations

from pathlib import Path

from ..settings import TEMPLATES, cache_dir
from . import delivery

TEMPLATE = "patentrnn"
# URL paths under the base URL (default "/"). HEALTH_PATH is a static file: answering it
# starts no kernel and renders nothing.
HEALTH_PATH = "/voila/static/health.txt"
SESSIONS_PATH = "/patentrnn/api/sessions"
KERNEL_PATH = "/patentrnn/api/kernels/"  # + kernel id: 204 while it serves its page, else 410
RETRY_AFTER_S = 60


def static_cache_dir() -> Path:
    return cache_dir() / "static"


def static_roots() -> list[str]:
    """Every directory whose files the page may load: Voilà's static files, the template's,
    and the front-end extensions."""
    from voila.paths import collect_static_paths
    from voila.utils import get_voila_labextensions_path

    ours = str(TEMPLATES / "voila" / "templates" / TEMPLATE / "static")
    roots = [ours, *collect_static_paths(["voila", "nbconvert"], "lab"), *get_voila_labextensions_path()]
    return list(dict.fromkeys(roots))


def precompress_static() -> str:
    """Compress the page's static files into the cache once (brotli 11 and gzip 9), so that no
    visitor waits on it; one line for the log."""
    return delivery.precompress(static_roots(), static_cache_dir())
