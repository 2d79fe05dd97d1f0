"""Serve the app to many visitors: ``patentrnn serve``.

One process, one Voilà server, one kernel per visitor:

    patentrnn serve --host 0.0.0.0 --port 8866 --max-sessions 100

Every option has an environment variable (``PATENTRNN_HOST``, ``PATENTRNN_PORT``, ...; see
:data:`OPTIONS`). Before serving, the corpora are fetched and hash-checked, so no visitor's
click waits on a download. The server logs to stdout.

What this adds to Voilà as configured by the repository's ``voila.json``:

* **Closed tabs free their kernels.** Voilà's unload beacon posts the ``_xsrf`` cookie's
  value, but nothing ever set that cookie, so jupyter_server refused every beacon with 403
  (voila-dashboards/voila#1458). The page handler sets it; XSRF protection stays on.
  Disconnected kernels (a tab that vanished without unloading) are culled after
  ``--cull-idle-timeout`` seconds, checked every ``--cull-interval``; connected ones never.
* **A session limit** (voila-dashboards/voila#617 asks for one): beyond ``--max-sessions``
  live visitor kernels, a visitor gets a small "busy" page, HTTP 503 with ``Retry-After``,
  and no kernel.
* **A lost-session note.** The page template (``patentrnn/jupyter/voila/templates/patentrnn``)
  asks :data:`KERNEL_PATH` on each click whether its kernel still serves it, and offers a
  reload when it does not (culled, restarted, or the server restarted).
* **A ready kernel for each visitor**: a pool of 2 preheated kernels (``--pool-size``), refilled
  without Voilà's 1-second delay (``VoilaKernelManager.fill_delay`` in ``voila.json``).
* **Counts for operators and tests** at :data:`SESSIONS_PATH`, and a static health check at
  :data:`HEALTH_PATH` that starts no kernel (``/`` renders the notebook: never probe it).

The Generate button's server-side rate limit lives in the kernel (patentrnn/ratelimit.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from . import delivery
from .ratelimit import BURST_ENV, RATE_ENV, RateLimit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "jupyter"  # a Jupyter data directory: voila/templates/patentrnn
TEMPLATE = "patentrnn"

# URL paths under the base URL (default "/"). HEALTH_PATH is a static file: answering it
# starts no kernel and renders nothing.
HEALTH_PATH = "/voila/static/health.txt"
SESSIONS_PATH = "/patentrnn/api/sessions"
KERNEL_PATH = "/patentrnn/api/kernels/"  # + kernel id: 204 while it serves its page, else 410
RETRY_AFTER_S = 60

# Sizing the default session limit. Measured for this page, 10 sessions open after a click each:
# a kernel's PSS is 54-56 MiB (RSS ~89 MiB; the rest is shared libraries), the server's 94 MiB.
# SESSION_MIB leaves ~15% headroom for the runtime's word cache growing with use.
SESSION_MIB = 64
RESERVED_MIB = 512  # the server itself (~100 MiB), the preheated pool and the OS

log = logging.getLogger("patentrnn.serving")


def memory_mib() -> int:
    """Memory this process may use: the cgroup limit (a container's), else MemAvailable."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) // 1024
    except OSError:
        pass
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):  # v2, v1
        try:
            limit = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # v1 writes a huge number for "no limit"
            cgroup = int(limit) // (1 << 20)
            available = min(available, cgroup) if available else cgroup
    return available or 4096


def default_max_sessions(memory: int | None = None) -> int:
    """``(memory − RESERVED_MIB) / SESSION_MIB``, at least 1."""
    memory = memory_mib() if memory is None else memory
    return max(1, (memory - RESERVED_MIB) // SESSION_MIB)


@dataclass(frozen=True)
class ServeConfig:
    """The serving command's settings; each has an option and an environment variable."""

    host: str = "127.0.0.1"
    port: int = 8866
    base_url: str = "/"
    max_sessions: int = 0  # 0: default_max_sessions() from this machine's memory
    # Preheated kernels waiting for the next visitor. Voilà refills its pool one kernel per
    # visitor, after voila.json's VoilaKernelManager.fill_delay (Voilà's default 1 s; ours 0):
    # with 2 waiting and no delay, a visitor a second met a ready kernel (page ready p95
    # 0.28 s, 40 sessions) where Voilà's defaults (1 kernel, 1 s) made each one wait for a
    # kernel to start (p95 1.9 s); benchmarks/capacity.py. Each costs a kernel's memory.
    pool_size: int = 2
    cull_idle_timeout: int = 120  # seconds a disconnected kernel may idle before it is shut down
    cull_interval: int = 30  # seconds between cull checks; a lost tab's kernel goes within the sum
    rate: float = RateLimit.rate  # generations a second per session, on average
    burst: int = RateLimit.burst  # generations a session may run back to back

    def __post_init__(self):
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, not {self.port}")
        if not self.base_url.startswith("/") or not self.base_url.endswith("/"):
            raise ValueError(f"base URL must start and end with '/', not {self.base_url!r}")
        if self.max_sessions < 0 or self.pool_size < 0:
            raise ValueError("max sessions and pool size must be 0 or more")
        if self.cull_idle_timeout <= 0 or self.cull_interval <= 0:
            raise ValueError("cull timeout and interval must be positive (seconds)")
        RateLimit(rate=self.rate, burst=self.burst)  # checks them

    @property
    def session_limit(self) -> int:
        return self.max_sessions or default_max_sessions()


OPTIONS = {  # option: (environment variable, help)
    "host": ("PATENTRNN_HOST", "address to listen on (0.0.0.0 for all)"),
    "port": ("PATENTRNN_PORT", "port to listen on"),
    "base_url": ("PATENTRNN_BASE_URL", "URL prefix, e.g. /patentrnn/ behind a proxy"),
    "max_sessions": (
        "PATENTRNN_MAX_SESSIONS",
        f"live visitor sessions before a 503 'busy' page; 0 (default) sizes it from memory: "
        f"(memory - {RESERVED_MIB} MiB) / {SESSION_MIB} MiB",
    ),
    "pool_size": ("PATENTRNN_POOL_SIZE", "preheated kernels kept ready for the next visitor"),
    "cull_idle_timeout": ("PATENTRNN_CULL_IDLE_TIMEOUT", "seconds a disconnected kernel may idle"),
    "cull_interval": ("PATENTRNN_CULL_INTERVAL", "seconds between checks for idle kernels"),
    "rate": (RATE_ENV, "Generate clicks a second each session may run (average)"),
    "burst": (BURST_ENV, "Generate clicks each session may run back to back"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The serving options, each defaulting to its environment variable, else ServeConfig's default."""
    defaults = {field.name: field for field in fields(ServeConfig)}
    for name, (env, text) in OPTIONS.items():
        field = defaults[name]
        kind = {"int": int, "float": float, "str": str}[field.type]
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=None,
            help=f"{text} (${env}; default {field.default})",
        )


def config_from(args: argparse.Namespace | None = None, environ=os.environ) -> ServeConfig:
    """Options given on the command line, else their environment variables, else the defaults."""
    values = {}
    for field in fields(ServeConfig):
        env, _ = OPTIONS[field.name]
        value = getattr(args, field.name, None) if args is not None else None
        if value is None and environ.get(env, "").strip():
            kind = {"int": int, "float": float, "str": str}[field.type]
            try:
                value = kind(environ[env].strip())
            except ValueError:
                raise ValueError(f"${env} must be {'a number' if kind is not str else 'text'}, "
                                 f"not {environ[env][:40]!r}") from None  # fmt: skip
        if value is not None:
            values[field.name] = value
    return ServeConfig(**values)


# --- sessions -------------------------------------------------------------------------


class Reservation:
    """One visitor's claim on a session, from the page request until its kernel is known."""

    kernel_id: str | None = None


class Sessions:
    """Visitor sessions of one server: the kernels handed to visitors (preheated or started for
    them), plus page requests still waiting for theirs. Pool kernels waiting for a visitor
    are not sessions."""

    def __init__(self, kernel_manager, limit: int):
        self.kernel_manager = kernel_manager
        self.limit = limit
        self.kernels: set[str] = set()
        self.waiting: set[Reservation] = set()

    def live(self) -> int:
        self.kernels &= set(self.kernel_manager.list_kernel_ids())
        return len(self.kernels) + sum(1 for reservation in self.waiting if reservation.kernel_id is None)

    def reserve(self) -> Reservation | None:
        """A reservation, or None when every session is taken."""
        if self.live() >= self.limit:
            return None
        reservation = Reservation()
        self.waiting.add(reservation)
        return reservation

    def assign(self, reservation: Reservation, kernel_id: str) -> None:
        """A request's kernel is known: it is a session from now until it ends."""
        reservation.kernel_id = kernel_id
        self.kernels.add(kernel_id)

    def release(self, reservation: Reservation) -> None:
        self.waiting.discard(reservation)

    def counts(self) -> dict:
        return {
            "kernels": len(self.kernel_manager.list_kernel_ids()),
            "sessions": self.live(),
            "max_sessions": self.limit,
            "pool": self.kernel_manager.get_pool_size(getattr(self.kernel_manager, "notebook_path", None)),
        }


# --- Voilà, extended -------------------------------------------------------------------
# Built on first use: `patentrnn` (the CLI, the kernels) must import without jupyter_server.


@functools.cache
def server_class():
    """Voilà's application with a session limit, session counts and a kernel check for the page."""
    import tornado.web
    from jupyter_core.utils import ensure_async
    from jupyter_server.base.handlers import APIHandler, FileFindHandler
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from jupyter_server.utils import url_path_join
    from traitlets import Integer
    from voila.app import Voila
    from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler
    from voila.tornado.handler import TornadoVoilaHandler

    class KernelManager(AsyncMappingKernelManager):
        """Remembers which kernels were restarted: a restarted kernel has lost its page's
        widgets, so that page is told to reload."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.restarted: set[str] = set()

        async def start_kernel(self, *args, **kwargs):
            kernel_id = await super().start_kernel(*args, **kwargs)
            self.add_restart_callback(kernel_id, lambda: self.restarted.add(kernel_id), "restart")
            return kernel_id

        def serves_page(self, kernel_id: str) -> bool:
            self.restarted &= set(self.list_kernel_ids())
            return kernel_id in self and kernel_id not in self.restarted

    class AssigningKernelManager:
        """The kernel manager as one page request sees it: the kernel it gets (from the pool, or
        started for it) is that request's session."""

        def __init__(self, manager, sessions: Sessions, reservation: Reservation):
            self._manager = manager
            self._sessions = sessions
            self._reservation = reservation

        def __getattr__(self, name):
            return getattr(self._manager, name)

        async def get_rendered_notebook(self, *args, **kwargs):
            result = await self._manager.get_rendered_notebook(*args, **kwargs)
            self._sessions.assign(self._reservation, result[2])  # (render task, rendered cells, kernel id)
            return result

        async def start_kernel(self, *args, **kwargs):
            kernel_id = await ensure_async(self._manager.start_kernel(*args, **kwargs))
            self._sessions.assign(self._reservation, kernel_id)
            return kernel_id

    class PageHandler(TornadoVoilaHandler):
        """Voilà's page behind the session limit; sets the ``_xsrf`` cookie that the unload
        beacon sends back, and a Content-Security-Policy whose nonce its own scripts carry."""

        nonce = delivery.new_nonce()  # replaced per request in prepare()

        @property
        def kernel_manager(self):
            return getattr(self, "_assigning", None) or self.settings["kernel_manager"]

        @property
        def content_security_policy(self) -> str:
            return delivery.content_security_policy(self.nonce)

        async def prepare(self):
            self.nonce = delivery.new_nonce()
            self.set_header("Content-Security-Policy", self.content_security_policy)
            return await super().prepare()

        def write(self, chunk):
            if isinstance(chunk, str):
                chunk = delivery.add_nonce(chunk, self.nonce)
            return super().write(chunk)

        @tornado.web.authenticated
        async def get(self, path=None):
            if path:  # not the page: Voilà redirects to the file
                return await super().get(path)
            sessions: Sessions = self.settings["patentrnn_sessions"]
            reservation = sessions.reserve()
            if reservation is None:
                self.log.warning("busy: %d of %d sessions taken, answered 503", sessions.live(), sessions.limit)
                self.set_status(503)
                self.set_header("Retry-After", str(RETRY_AFTER_S))
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.set_header("Cache-Control", "no-store")
                return self.finish(self.settings["patentrnn_busy_page"])
            self.xsrf_token  # noqa: B018 - sets the _xsrf cookie (voila-dashboards/voila#1458)
            self._assigning = AssigningKernelManager(self.settings["kernel_manager"], sessions, reservation)
            try:
                await super().get(path)
            finally:
                sessions.release(reservation)

    class VoilaStatic(delivery.CompressedStatic, MultiStaticFileHandler):
        pass

    class TemplateStatic(delivery.CompressedStatic, TemplateStaticFileHandler):
        pass

    class ExtensionStatic(delivery.CompressedStatic, FileFindHandler):
        pass

    class SessionsHandler(APIHandler):
        """Kernel and session counts of this server, as JSON."""

        @tornado.web.authenticated
        def get(self):
            self.set_header("Cache-Control", "no-store")
            self.finish(json.dumps(self.settings["patentrnn_sessions"].counts()))

    class KernelHandler(APIHandler):
        """204 while a kernel serves its page; 410 once it is gone or was restarted."""

        @tornado.web.authenticated
        def get(self, kernel_id):
            self.set_header("Cache-Control", "no-store")
            self.set_status(204 if self.kernel_manager.serves_page(kernel_id) else 410)
            self.finish()

    class VoilaServer(Voila):
        max_sessions = Integer(1, config=True, help="live visitor sessions before the busy page")

        def init_settings(self):
            self.voila_configuration.multi_kernel_manager_class = KernelManager
            self.voila_configuration.page_config_hook = self.page_config
            settings = super().init_settings()
            settings["compress_response"] = True  # the page and JSON, gzipped as they stream
            settings["websocket_compression_options"] = {}  # permessage-deflate for the kernel's messages
            settings["patentrnn_precompressed"] = delivery.Precompressed(static_cache_dir())
            settings["patentrnn_versioned_prefixes"] = (self.versioned_static_url + "/",)
            settings["patentrnn_sessions"] = Sessions(self.kernel_manager, self.max_sessions)
            busy = (TEMPLATES / "voila/templates" / TEMPLATE / "busy.html").read_text()
            settings["patentrnn_busy_page"] = busy.replace("RETRY_AFTER_S", str(RETRY_AFTER_S))  # its reload
            return settings

        @functools.cached_property
        def versioned_static_url(self) -> str:
            """Voilà's static files under a URL that changes with them, so they can be cached for good."""
            version = delivery.static_version(self.static_paths)
            return url_path_join(self.server_url, f"voila/static/v-{version}")

        def page_config(self, page_config: dict, **_) -> dict:
            """The page loads voila.js and its chunks from :attr:`versioned_static_url`."""
            return {**page_config, "fullStaticUrl": self.versioned_static_url}

        def init_handlers(self):
            replaced = {
                TornadoVoilaHandler: PageHandler,
                MultiStaticFileHandler: VoilaStatic,
                TemplateStaticFileHandler: TemplateStatic,
                FileFindHandler: ExtensionStatic,
            }
            handlers = [
                (pattern, replaced.get(handler, handler), *rest) for pattern, handler, *rest in super().init_handlers()
            ]
            missing = set(replaced.values()) - {handler for _, handler, *_ in handlers}
            assert not missing, f"Voilà's handlers have moved: {missing}"
            kernel_id = r"(?P<kernel_id>\w+-\w+-\w+-\w+-\w+)"
            ours = [
                (url_path_join(self.server_url, SESSIONS_PATH), SessionsHandler),
                (url_path_join(self.server_url, KERNEL_PATH + kernel_id), KernelHandler),
                (self.versioned_static_url + "/(.*)", VoilaStatic, {"paths": self.static_paths}),
            ]
            return ours + handlers  # before the page's catch-all pattern

    return VoilaServer


def static_cache_dir() -> Path:
    from .originality import cache_dir

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


# --- the command ------------------------------------------------------------------------


def fetch_corpora() -> Path | None:
    """Fetch (or find) every named corpus, hash-checked; return the directory holding them all."""
    from .corpus import CORPORA, locate

    directories = {locate(name)[1].parent for name in CORPORA}
    return directories.pop() if len(directories) == 1 else None


def build_originality_indexes() -> list[str]:
    """Open or build every shipped bundle's originality index before serving, so that no
    visitor's first click waits seconds on it; returns one line per bundle for the log."""
    from . import originality
    from .bundle import list_names, load_bundle

    lines = []
    for name in list_names():
        bundle = load_bundle(name)
        try:
            index = originality.load_index(
                bundle.card, bundle.vocabulary, bundle.split, build=originality.build_in_child
            )
        except originality.OriginalityUnavailable as error:
            lines.append(f"{name}: no originality check ({error})")
            continue
        lines.append(f"{name}: originality index {index.path}")
    return lines


def voila_argv(config: ServeConfig, root: Path = PROJECT_ROOT) -> list[str]:
    """Voilà's command line: the repository's voila.json, overridden by the serving options."""
    return [
        str(root / "notebooks" / "app.ipynb"),
        f"--Voila.config_file_paths={root}",
        f"--Voila.ip={config.host}",
        f"--Voila.port={config.port}",
        "--Voila.port_retries=0",
        f"--Voila.base_url={config.base_url}",
        "--Voila.open_browser=False",
        f"--VoilaServer.max_sessions={config.session_limit}",
        f"--VoilaConfiguration.template={TEMPLATE}",
        f"--VoilaConfiguration.default_pool_size={config.pool_size}",
        f"--MappingKernelManager.cull_idle_timeout={config.cull_idle_timeout}",
        f"--MappingKernelManager.cull_interval={config.cull_interval}",
        "--MappingKernelManager.cull_connected=False",
    ]


def kernel_environment(config: ServeConfig, data_dir: Path | None) -> dict[str, str]:
    """Environment for the server and, inherited, its kernels."""
    environment = {
        "JUPYTER_PATH": os.pathsep.join(filter(None, [str(TEMPLATES), os.environ.get("JUPYTER_PATH")])),
        RATE_ENV: str(config.rate),
        BURST_ENV: str(config.burst),
        # One BLAS thread a kernel: many kernels share the cores, and OpenBLAS's second
        # thread then waits for a busy core. Measured on 2 cores under load: scoring 282
        # words took 624 ms with two threads and 50 ms with one.
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
        # A preheated kernel asks its server for the page's URL at VOILA_APP_IP:port.
        "VOILA_APP_IP": "127.0.0.1" if config.host in ("", "0.0.0.0", "::", "localhost") else config.host,
    }
    if data_dir is not None:  # kernels read the fetched files without importing pooch
        environment["PATENTRNN_DATA"] = str(data_dir)
    return environment


def serve(config: ServeConfig, root: Path | None = None) -> int:
    """Fetch the corpora, then serve notebooks/app.ipynb until interrupted."""
    root = root or (PROJECT_ROOT if (PROJECT_ROOT / "notebooks" / "app.ipynb").is_file() else Path.cwd())
    if not (root / "notebooks" / "app.ipynb").is_file() or not (root / "voila.json").is_file():
        raise ValueError(f"{root} has no notebooks/app.ipynb and voila.json: run from the repository")
    data_dir = fetch_corpora()
    sized = f" (sized from {memory_mib()} MiB at {SESSION_MIB} MiB a session)" if not config.max_sessions else ""
    config = dataclasses.replace(config, max_sessions=config.session_limit)  # measured once
    os.environ.update(kernel_environment(config, data_dir))
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[patentrnn] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for line in build_originality_indexes():
        log.info(line)
    log.info(precompress_static())
    log.info(
        "serving on %s:%s%s, at most %d sessions%s, pool %d, disconnected kernels culled after %d s "
        "(checked every %d s), %.3g generations a second per session (burst %d); health check %s",
        config.host, config.port, config.base_url, config.session_limit, sized, config.pool_size,
        config.cull_idle_timeout, config.cull_interval, config.rate, config.burst,
        config.base_url.rstrip("/") + HEALTH_PATH,
    )  # fmt: skip
    stdout = {"handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}}}
    server_class().launch_instance(voila_argv(config, root), logging_config=stdout)
    return 0
