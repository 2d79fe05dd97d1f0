"""``patentrnn serve``'s settings: each an option and an environment variable, and the session limit
sized from this machine's memory."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import InputError
from ..ratelimit import RateLimit
from ..settings import BURST_ENV, RATE_ENV

# Sizing the default session limit. Measured for this page, 10 sessions open after a click each:
# a kernel's PSS is 54-56 MiB (RSS ~89 MiB; the rest is shared libraries), the server's 94 MiB.
# SESSION_MIB leaves ~15% headroom for the runtime's word cache growing with use.
SESSION_MIB = 64
RESERVED_MIB = 512  # the server itself (~100 MiB), the preheated pool, the API's workers (129 MiB for 2) and the OS


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
    api_workers: int = 0  # the HTTP API's worker processes; 0: one a core
    api_queue: int = 16  # API requests that may wait for a worker; the next gets 429 at once

    def __post_init__(self):
        if not 0 < self.port < 65536:
            raise InputError(f"port must be between 1 and 65535, not {self.port}")
        if not self.base_url.startswith("/") or not self.base_url.endswith("/"):
            raise InputError(f"base URL must start and end with '/', not {self.base_url!r}")
        if self.max_sessions < 0 or self.pool_size < 0:
            raise InputError("max sessions and pool size must be 0 or more")
        if self.cull_idle_timeout <= 0 or self.cull_interval <= 0:
            raise InputError("cull timeout and interval must be positive (seconds)")
        RateLimit(rate=self.rate, burst=self.burst)  # checks them
        if self.api_workers < 0 or self.api_queue < 0:
            raise InputError("API workers and queue must be 0 or more")

    @property
    def worker_count(self) -> int:
        return self.api_workers or os.cpu_count() or 1

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
    "rate": (RATE_ENV, "Generate clicks a second each session may run, and API requests each address (average)"),
    "burst": (BURST_ENV, "Generate clicks each session may run back to back (and API requests each address)"),
    "api_workers": ("PATENTRNN_API_WORKERS", "HTTP API worker processes; 0: one a core"),
    "api_queue": ("PATENTRNN_API_QUEUE", "HTTP API requests that may wait for a worker before 429 'overloaded'"),
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
                raise InputError(f"${env} must be {'a number' if kind is not str else 'text'}, "
                                 f"not {environ[env][:40]!r}") from None  # fmt: skip
        if value is not None:
            values[field.name] = value
    return ServeConfig(**values)
