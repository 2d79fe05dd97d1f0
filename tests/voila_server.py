"""Serve the app as production does (``patentrnn serve``) on a free local port; find a Chromium
for Playwright; talk to a page's kernel without a browser.

Used by the end-to-end and serving tests and by the benchmarks.

    python tests/voila_server.py --check-browser   # exit 0 when a Chromium is found (make test)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from patentrnn.serve import HEALTH_PATH, SESSIONS_PATH

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]  # fmt: skip
ANY = object()
CONTROL_PROTOCOL = "1.0.0"  # ipywidgets' widget control comm, as its JavaScript sends it
NO_BROWSER = (
    "no Chromium: install Debian's (apt-get install -y chromium), set PATENTRNN_CHROMIUM to one, "
    "or run .venv/bin/python -m playwright install --with-deps chromium"
)


def playwright_chromium() -> str | None:
    """The Chromium that ``python -m playwright install chromium`` downloaded, if any."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # no playwright, or its driver cannot start
        return None
    return path if path and os.path.isfile(path) else None


NO_CHROMIUM = "Chromium not found: apt-get install -y chromium, or set PATENTRNN_CHROMIUM"


def find_chromium() -> str | None:
    """$PATENTRNN_CHROMIUM, else Debian's /usr/bin/chromium, else chromium on PATH, else Playwright's own."""
    for candidate in (os.environ.get("PATENTRNN_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return playwright_chromium()


def benchmark_env() -> dict:
    """A benchmark's server environment: the corpora, and no rate limit (its clicks come faster than a visitor's)."""
    return {"PATENTRNN_DATA": os.environ.get("PATENTRNN_DATA", ""), "PATENTRNN_RATE": "1000", "PATENTRNN_BURST": "1000"}


def post_json(url: str, body, content_type: str = "application/json", headers: dict | None = None):
    """Status, headers and body of a POST (``body``: bytes, or a value sent as JSON), errors included."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": content_type, **(headers or {})})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_api_ready(url: str, timeout: float = 90) -> None:
    """Until the server's HTTP API answers its health check (its workers have loaded the models)."""
    deadline = time.monotonic() + timeout
    while get(url + "v1/health")[0] != 200:
        assert time.monotonic() < deadline, "the API's workers did not get ready"
        time.sleep(0.2)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 5):
    """Status, headers (an email.message.Message) and body of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def sessions(url: str) -> dict:
    """The server's own counts: ``kernels`` (all, pool included), ``sessions``, ``max_sessions``, ``pool``."""
    status, _, body = get(url.rstrip("/") + SESSIONS_PATH)
    assert status == 200, f"{SESSIONS_PATH} answered {status}"
    return json.loads(body)


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    """Poll ``condition()`` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def _serve_command(port: int, args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "patentrnn.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args]


def _voila_command(port: int, notebook: Path) -> list[str]:
    """Plain Voilà with the repository's voila.json: a baseline for the benchmarks."""
    voila = str(Path(sys.executable).with_name("voila"))
    return [voila, str(notebook), f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1",
            f"--Voila.config_file_paths={ROOT}"]  # fmt: skip


@contextlib.contextmanager
def voila_app(
    env: dict | None = None,
    log_path: Path | None = None,
    timeout: float = 90,
    notebook: Path | None = None,
    args: tuple[str, ...] = (),
    root: Path = ROOT,
):
    """Serve the app with ``patentrnn serve ARGS`` from the checkout at ``root`` (or, given
    ``notebook``, that notebook with plain Voilà, voila.json and ARGS); yield its URL and the
    server process once its preheated pool is filled."""
    port = free_port()
    if log_path is None:
        import tempfile

        log_path = Path(tempfile.mkstemp(prefix="voila-", suffix=".log")[1])
    environment = {**os.environ, **(env or {})}
    command = _voila_command(port, notebook) + list(args) if notebook else _serve_command(port, tuple(args))
    pool = 0 if "--pool-size" in args and args[list(args).index("--pool-size") + 1] == "0" else 1
    if environment.get("PATENTRNN_POOL_SIZE", "").strip() == "0" and "--pool-size" not in args:
        pool = 0
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=notebook.parent if notebook else root,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not (
            (not pool or "is filled" in log_path.read_text())
            and (notebook or answers(url.rstrip("/") + HEALTH_PATH))
            and "is running at" in log_path.read_text()
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start: {Path(log_path).read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, process
    finally:
        stop(process)


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 now."""
    try:
        return get(url, timeout=1)[0] == 200
    except OSError:
        return False


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (its kernels too), SIGKILL after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 15)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(5)


def kernel_pids(server_pid: int) -> list[int]:
    """Process ids of the ipykernel processes started by a Voilà server (for memory figures)."""
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


def pss_mib(pid: int) -> float:
    """Proportional set size: shared pages count once across the processes sharing them."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return int(next(line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:"))) / 1024


def check_browser() -> str:
    """The Chromium the browser tests will use, once it has started headless; else an error."""
    chromium = find_chromium()
    if not chromium:
        raise FileNotFoundError(NO_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS).close()
    return chromium


if __name__ == "__main__":
    if sys.argv[1:] != ["--check-browser"]:
        sys.exit(__doc__)
    try:
        print(f"Chromium: {check_browser()}")
    except Exception as error:  # not found, or it does not start (missing system libraries)
        print(f"Chromium: {str(error).splitlines()[0][:300]}")
        sys.exit(1)
