"""Delivery of the page over real networks: compression, cache lifetimes and a Content-Security-Policy.

Voilà as installed sends every static file uncompressed with no cache lifetime, and its page
names no CSP (benchmarks/network_speed.py measures what that costs a phone). What this adds,
used by ``serve.server``:

* **Precompressed static files.** Every compressible file under the page's static roots is
  compressed once (gzip 9 and brotli 11) into a disk cache keyed by its content's sha256,
  before the server starts (:func:`precompress`). A request is answered from that cache with
  ``Content-Encoding`` chosen from ``Accept-Encoding``; a file missing from the cache is
  gzipped once and kept in memory. Brotli 11 costs ~2 s a MB of CPU, once per installation,
  never per visitor. The page's HTML and JSON are gzipped on the fly by Tornado
  (``compress_response``): they are a few kB and carry a session.
* **Cache lifetimes** (:func:`cache_control`): a URL that names its version (``?v=``, a content
  hash in the file name, or Voilà's static files under :func:`static_version`'s prefix) is
  ``immutable`` for a year; anything else is revalidated (``no-cache``). The page is ``no-store``.
* **A CSP with a fresh nonce per page** (:func:`content_security_policy`, :func:`add_nonce`):
  only this origin's scripts, styles, fonts, images and connections (the kernel websocket
  included), plus ``blob:`` scripts (anywidget imports a widget's module from a blob URL) and
  inline styles (every widget sets ``style`` attributes). Voilà's own inline scripts run
  because the page handler stamps the nonce on them; any other inline script is refused.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import secrets
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

COMPRESSIBLE = {".js", ".mjs", ".css", ".json", ".svg", ".html", ".txt", ".map", ".ttf", ".eot"}
MIN_BYTES = 1024  # below this, compression saves less than a header's worth
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# A file name with a content hash: remoteEntry.698dcaf7.js, 2.3dbf81c0.js, 9834b82ad26e2a37583d.woff2
HASHED_NAME = re.compile(r"(?:^|[.-])[0-9a-f]{8,}\.[a-z0-9]+$")
SCRIPT_TAG = re.compile(r"<script(?=[\s>])", re.IGNORECASE)


def cache_control(url_path: str, arguments: dict, versioned_prefixes: tuple[str, ...] = ()) -> str:
    """``IMMUTABLE`` for a URL that names its version, else ``REVALIDATE``."""
    name = url_path.rsplit("/", 1)[-1]
    if "v" in arguments or HASHED_NAME.search(name) or url_path.startswith(versioned_prefixes):
        return IMMUTABLE
    return REVALIDATE


def static_version(paths: list[str]) -> str:
    """A short token that changes whenever a file under ``paths`` does (name, size or mtime):
    Voilà's own chunks (``7155.voila.js``) carry no hash, so their URL carries this instead."""
    digest = hashlib.sha256()
    for root in paths:
        for directory, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                stat = os.stat(os.path.join(directory, name))
                digest.update(f"{directory}/{name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


# --- compression ---------------------------------------------------------------------------


def _compress(path: Path, target: Path) -> None:
    """Write ``target.gz`` and ``target.br`` for one file."""
    import brotli

    data = path.read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix, encoded in ((".gz", gzip.compress(data, 9, mtime=0)), (".br", brotli.compress(data, quality=11))):
        partial = target.with_suffix(suffix + f".{os.getpid()}.tmp")
        partial.write_bytes(encoded)
        partial.replace(target.with_suffix(suffix))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Precompressed:
    """Compressed copies of static files, on disk under ``directory`` and in memory once read."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.memory: dict[tuple[str, int, int], dict[str, bytes]] = {}

    def _target(self, digest: str) -> Path:
        return self.directory / digest[:2] / digest

    def encodings(self, path: str) -> dict[str, bytes]:
        """``{"br": …, "gzip": …}`` for a compressible file (only ``gzip`` if the cache lacks it),
        ``{}`` for one not worth compressing."""
        file = Path(path)
        if file.suffix not in COMPRESSIBLE:
            return {}
        stat = file.stat()
        key = (path, stat.st_size, stat.st_mtime_ns)
        if key not in self.memory:
            if stat.st_size < MIN_BYTES:
                self.memory[key] = {}
            else:
                target = self._target(_digest(file))
                found = {name: target.with_suffix(suffix) for name, suffix in (("br", ".br"), ("gzip", ".gz"))}
                encoded = {name: f.read_bytes() for name, f in found.items() if f.is_file()}
                if "gzip" not in encoded:  # not precompressed: gzip now (~5 ms for 100 kB), once
                    encoded["gzip"] = gzip.compress(file.read_bytes(), 9, mtime=0)
                self.memory[key] = encoded
        return self.memory[key]

    def fill(self, roots: list[str], workers: int = 2) -> tuple[int, int]:
        """Compress every compressible file under ``roots`` that the cache lacks, on ``workers``
        processes; return (files compressed now, files found)."""
        files = sorted(
            {
                Path(directory, name).resolve()
                for root in roots
                if os.path.isdir(root)
                for directory, _, names in os.walk(root)
                for name in names
                if Path(name).suffix in COMPRESSIBLE and os.path.getsize(os.path.join(directory, name)) >= MIN_BYTES
            }
        )
        missing = {}
        for file in files:
            target = self._target(_digest(file))
            if not (target.with_suffix(".br").is_file() and target.with_suffix(".gz").is_file()):
                missing[target] = file
        if missing:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                list(pool.map(_compress, missing.values(), missing.keys()))
        return len(missing), len(files)


def precompress(roots: list[str], directory: Path) -> str:
    """Fill the cache for ``roots``; one line for the log."""
    compressed, found = Precompressed(directory).fill(roots)
    return f"static files: {found} compressible, {compressed} compressed now (cache {directory})"


def choose_encoding(accept_encoding: str, available: dict[str, bytes]) -> str | None:
    """The best encoding both sides have: brotli, then gzip. ``q=0`` refuses one."""
    accepted = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        quality = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            accepted[name.strip().lower()] = float(quality)
        except ValueError:
            continue
    for name in ("br", "gzip"):
        if name in available and accepted.get(name, accepted.get("*", 0)) > 0:
            return name
    return None


class CompressedStatic:
    """A mixin for a Tornado ``StaticFileHandler``: answers from :class:`Precompressed` with
    ``Content-Encoding`` and ``Vary``, and sets :func:`cache_control`'s lifetime. Range requests
    get the plain file. Configure with the application settings ``patentrnn_precompressed``
    and ``patentrnn_versioned_prefixes``."""

    _encoded: bytes | None = None

    def set_headers(self) -> None:
        super().set_headers()
        prefixes = self.settings.get("patentrnn_versioned_prefixes", ())
        self.set_header("Cache-Control", cache_control(self.request.path, self.request.arguments, prefixes))
        self.clear_header("Expires")
        cache: Precompressed | None = self.settings.get("patentrnn_precompressed")
        available = cache.encodings(self.absolute_path) if cache else {}
        if available:
            self.set_header("Vary", "Accept-Encoding")
            encoding = None
            if "Range" not in self.request.headers:
                encoding = choose_encoding(self.request.headers.get("Accept-Encoding", ""), available)
            if encoding:
                self._encoded = available[encoding]
                self.set_header("Content-Encoding", encoding)
                etag = self._headers.get("Etag")
                if etag:  # each encoding is its own representation
                    self.set_header("Etag", etag.rstrip('"') + "-" + encoding + '"')

    def get_content_size(self) -> int:
        return len(self._encoded) if self._encoded is not None else super().get_content_size()

    def get_content(self, abspath, start=None, end=None):  # Tornado's is a classmethod; this one serves a request
        if self._encoded is not None:
            return self._encoded
        return super().get_content(abspath, start, end)

    @classmethod
    def get_content_version(cls, abspath) -> str:  # Tornado's, on its own classmethod get_content
        from tornado.web import StaticFileHandler

        return StaticFileHandler.get_content_version.__func__(StaticFileHandler, abspath)


# --- the page's Content-Security-Policy -------------------------------------------------------


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def content_security_policy(nonce: str) -> str:
    """Only this origin, Voilà's inline scripts by ``nonce``, anywidget's blob modules and inline styles."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}' blob:",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",  # the kernel websocket is same-origin ws(s):, which 'self' allows
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


def add_nonce(html: str, nonce: str) -> str:
    """Stamp ``nonce`` on every ``<script`` tag of the page's HTML, as Voilà's template wrote it.
    Cell outputs never carry a literal tag: the template embeds them as JSON (``tojson`` escapes
    ``<``), and the page is pre-rendered before its request, so the nonce can only be added here."""
    return SCRIPT_TAG.sub(f'<script nonce="{nonce}"', html)
