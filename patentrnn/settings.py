"""Every path and environment variable the package reads, in one place.

Nothing in the package writes ``os.environ`` to pass a parameter: functions take a directory
(``load(name, directory)``, ``App(models_dir)``). Two writes remain, each an environment for what the
process starts: ``patentrnn serve`` puts its kernels' environment (``serve.kernel_environment``: rate
limit, data directory, one BLAS thread) into its own, which Voilà's kernels, its child processes,
inherit; ``quiet_tensorflow`` sets TensorFlow's log level before TensorFlow is imported.

==========================  =====================================================================
``PATENTRNN_DATA``          a directory holding the corpus CSVs (else they are fetched, pooch)
``PATENTRNN_DATA_URL``      a mirror of the corpora's public origin (sha256 still checked)
``PATENTRNN_MODELS``        the model bundles' directory (default: the repository's ``models/``)
``PATENTRNN_CACHE``         the originality indexes' and compressed static files' cache directory
``PATENTRNN_RATE``          the page's rate limit: clicks a second (``ratelimit``)
``PATENTRNN_BURST``         ... and the burst it allows
==========================  =====================================================================

``patentrnn serve`` reads its own options' variables (``serve.config.ServeConfig``), and the page reads
Voilà's (``web.kernel``).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the repository (or the installed package's parent)
PACKAGE_ROOT = Path(__file__).resolve().parent
TEMPLATES = PACKAGE_ROOT / "jupyter"  # a Jupyter data directory: voila/templates/patentrnn

DATA_ENV = "PATENTRNN_DATA"
DATA_URL_ENV = "PATENTRNN_DATA_URL"
MODELS_ENV = "PATENTRNN_MODELS"
CACHE_ENV = "PATENTRNN_CACHE"
RATE_ENV = "PATENTRNN_RATE"
BURST_ENV = "PATENTRNN_BURST"


def setting(name: str, default: str | None = None, environ=os.environ) -> str | None:
    """An environment variable's value, stripped; ``default`` when it is unset or blank."""
    value = environ.get(name, "").strip()
    return value or default


def models_dir(override: str | os.PathLike | None = None) -> Path:
    """``override``, else ``$PATENTRNN_MODELS``, else the repository's ``models/``."""
    return Path(override or setting(MODELS_ENV) or PROJECT_ROOT / "models")


def data_dir(override: str | os.PathLike | None = None) -> Path | None:
    """``override``, else ``$PATENTRNN_DATA``; None: fetch the corpora."""
    chosen = override or setting(DATA_ENV)
    return Path(chosen).expanduser() if chosen else None


def cache_dir() -> Path:
    """``$PATENTRNN_CACHE``, else the user cache directory for patentrnn (where pooch puts a fetched corpus).

    platformdirs is what ``pooch.os_cache`` calls; importing pooch itself would cost a
    serving kernel 4.9 MiB of PSS."""
    if setting(CACHE_ENV):
        return Path(setting(CACHE_ENV)).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("patentrnn"))


def quiet_tensorflow() -> None:
    """TensorFlow reads its log level from the environment only: set it before it is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
