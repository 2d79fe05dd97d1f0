"""Serve the app to many visitors: ``patentrnn serve``.

One process, one Voilà server, one kernel per visitor:

    patentrnn serve --host 0.0.0.0 --port 8866 --max-sessions 100

Every option has an environment variable (``PATENTRNN_HOST``, ``PATENTRNN_PORT``, ...; see
``serve.config.OPTIONS``). Before serving, the corpora are fetched and hash-checked, so no visitor's
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

import dataclasses
import logging
import os
import sys
from pathlib import Path

from ..errors import InputError
from ..settings import BURST_ENV, DATA_ENV, PROJECT_ROOT, RATE_ENV
from . import frontend
from .config import (
    OPTIONS,
    RESERVED_MIB,
    SESSION_MIB,
    ServeConfig,
    add_arguments,
    config_from,
    default_max_sessions,
    memory_mib,
)
from .paths import HEALTH_PATH, KERNEL_PATH, SESSIONS_PATH, TEMPLATE, TEMPLATES, precompress_static

__all__ = [
    "OPTIONS",
    "PROJECT_ROOT",
    "RESERVED_MIB",
    "SESSION_MIB",
    "default_max_sessions",
    "voila_argv",
    "HEALTH_PATH",
    "KERNEL_PATH",
    "SESSIONS_PATH",
    "ServeConfig",
    "add_arguments",
    "build_originality_indexes",
    "config_from",
    "fetch_corpora",
    "precompress_static",
    "serve",
]
log = logging.getLogger("patentrnn.serve")


def fetch_corpora() -> Path | None:
    """Fetch (or find) every named corpus, hash-checked; return the directory holding them all."""
    from ..corpus import CORPORA, locate

    directories = {locate(name)[1].parent for name in CORPORA}
    return directories.pop() if len(directories) == 1 else None


def build_originality_indexes() -> list[str]:
    """Open or build every shipped bundle's originality index before serving, so that no
    visitor's first click waits seconds on it; returns one line per bundle for the log."""
    from .. import originality
    from ..bundle import list_names, load_bundle

    lines = []
    for name in list_names():
        bundle = load_bundle(name)
        try:
            index = originality.index_for(bundle)
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
        f"--VoilaServer.api_workers={config.worker_count}",
        f"--VoilaServer.api_queue={config.api_queue}",
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
        environment[DATA_ENV] = str(data_dir)
    return environment


def serve(config: ServeConfig, root: Path | None = None) -> int:
    """Fetch the corpora, then serve notebooks/app.ipynb until interrupted."""
    root = root or (PROJECT_ROOT if (PROJECT_ROOT / "notebooks" / "app.ipynb").is_file() else Path.cwd())
    if not (root / "notebooks" / "app.ipynb").is_file() or not (root / "voila.json").is_file():
        raise InputError(f"{root} has no notebooks/app.ipynb and voila.json: run from the repository")
    if unbuilt := frontend.problem():
        raise InputError(unbuilt)
    data_dir = fetch_corpora()
    sized = f" (sized from {memory_mib()} MiB at {SESSION_MIB} MiB a session)" if not config.max_sessions else ""
    config = dataclasses.replace(config, max_sessions=config.session_limit)  # measured once
    os.environ.update(kernel_environment(config, data_dir))  # (what Voilà's kernels, our children, inherit)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[patentrnn] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for line in build_originality_indexes():
        log.info(line)
    log.info(precompress_static())
    log.info(
        "serving on %s:%s%s, at most %d sessions%s, pool %d, disconnected kernels culled after %d s "
        "(checked every %d s), %.3g generations a second per session (burst %d); health check %s; "
        "HTTP API at %sv1/ (%d workers, queue %d)",
        config.host,
        config.port,
        config.base_url,
        config.session_limit,
        sized,
        config.pool_size,
        config.cull_idle_timeout,
        config.cull_interval,
        config.rate,
        config.burst,
        config.base_url.rstrip("/") + HEALTH_PATH,
        config.base_url,
        config.worker_count,
        config.api_queue,
    )
    stdout = {"handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}}}
    from .server import VoilaServer  # (jupyter_server and Voilà: only when serving)

    VoilaServer.launch_instance(voila_argv(config, root), logging_config=stdout)
    return 0
