"""Start the app under Voilà on a free local port, and find a Chromium for Playwright.

Used by the end-to-end test and by benchmarks/app_speed.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]  # fmt: skip


def find_chromium() -> str | None:
    """$PATENTRNN_CHROMIUM, else Debian's /usr/bin/chromium, else chromium on PATH."""
    for candidate in (os.environ.get("PATENTRNN_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def voila_app(env: dict | None = None, log_path: Path | None = None, timeout: float = 90, notebook: Path | None = None):
    """Serve ``notebook`` (default notebooks/app.ipynb) with the repository's voila.json;
    yield its URL and the server process once the preheated kernel pool is filled."""
    port = free_port()
    if log_path is None:
        import tempfile

        log_path = Path(tempfile.mkstemp(prefix="voila-", suffix=".log")[1])
    voila = str(Path(sys.executable).with_name("voila"))
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                voila,
                str(notebook or ROOT / "notebooks" / "app.ipynb"),
                f"--port={port}",
                "--no-browser",
                "--Voila.ip=127.0.0.1",
                f"--Voila.config_file_paths={ROOT}",
            ],
            cwd=notebook.parent if notebook else ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while "is filled" not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Voilà did not start: {Path(log_path).read_text()[-3000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/", process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)


def kernel_pids(server_pid: int) -> list[int]:
    """Process ids of the ipykernel processes started by a Voilà server."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        parent = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        if parent == server_pid and "ipykernel" in cmdline:
            pids.append(int(entry.name))
    return pids


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024
