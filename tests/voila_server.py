"""Serve the app as production does (``patentrnn serve``) on a free local port; find a Chromium
for Playwright; talk to a page's kernel without a browser.

Used by the end-to-end and serving tests and by the benchmarks.

    python tests/voila_server.py --check-browser   # exit 0 when a Chromium is found (make test)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
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
            and (notebook or _answers(url.rstrip("/") + HEALTH_PATH))
            and "is running at" in log_path.read_text()
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start: {Path(log_path).read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, process
    finally:
        stop(process)


def _answers(url: str) -> bool:
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


# --- a page without a browser -------------------------------------------------------------


class PageClient:
    """Open the app's page over HTTP and speak its kernel's websocket protocol (Jupyter
    messages as JSON), as the page's JavaScript does: read the widgets' state, click buttons,
    watch updates. For floods and capacity runs where Chromium would be the bottleneck.

        with PageClient(url) as page:
            seconds = page.generate()
    """

    def __init__(self, url: str, timeout: float = 30):
        self.url = url
        self.timeout = timeout
        started = time.perf_counter()
        status, headers, body = get(url, timeout=timeout)
        self.status = status
        self.html = body.decode(errors="replace")
        match = re.search(r'"kernelId": "([0-9a-f-]+)"', self.html)
        if status != 200 or not match:
            raise ConnectionRefusedError(f"no page: HTTP {status}")
        self.kernel_id = match.group(1)
        cookies = [header.split(";", 1)[0] for header in headers.get_all("Set-Cookie") or []]
        self.cookie = "; ".join(cookies)
        self.xsrf = next((cookie.split("=", 1)[1] for cookie in cookies if cookie.startswith("_xsrf=")), "")
        from websockets.sync.client import connect

        socket_url = url.replace("http", "ws", 1).rstrip("/") + f"/api/kernels/{self.kernel_id}/channels"
        headers = {"Cookie": self.cookie}
        self.socket = connect(socket_url, open_timeout=timeout, max_size=None, additional_headers=headers)
        self.session = uuid.uuid4().hex
        self.states: dict[str, dict] = {}  # model id -> {"model_name", "state"}
        self.updates: list[tuple[float, str, dict]] = []  # (time, model id, changed state)
        self._load_states()
        self.ready_s = time.perf_counter() - started

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self, unload: bool = True) -> None:
        """Close the websocket; with ``unload``, first post the page's unload beacon (shuts its kernel down)."""
        if unload:
            self.unload()
        self.socket.close()

    def unload(self) -> int:
        """What the page's ``beforeunload`` sends: a POST of the ``_xsrf`` token to Voilà's shutdown URL."""
        boundary = uuid.uuid4().hex
        body = f'--{boundary}\r\nContent-Disposition: form-data; name="_xsrf"\r\n\r\n{self.xsrf}\r\n--{boundary}--\r\n'
        request = urllib.request.Request(
            self.url.rstrip("/") + f"/voila/api/shutdown/{self.kernel_id}",
            data=body.encode(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": self.cookie},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def send(self, msg_type: str, content: dict, channel: str = "shell", metadata: dict | None = None) -> str:
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "session": self.session, "username": "",
                  "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "version": "5.3"}  # fmt: skip
        self.socket.send(
            json.dumps(
                {
                    "header": header,
                    "parent_header": {},
                    "metadata": metadata or {},
                    "content": content,
                    "channel": channel,
                    "buffers": [],
                }
            )  # fmt: skip
        )
        return msg_id

    def receive(self, timeout: float) -> dict | None:
        """The next message (widget updates recorded on the way), or None after ``timeout`` s."""
        try:
            message = json.loads(self.socket.recv(timeout=timeout))
        except TimeoutError:
            return None
        if message.get("msg_type") == "comm_msg":
            data = message["content"].get("data", {})
            comm_id = message["content"].get("comm_id")
            if data.get("method") == "update" and comm_id in self.states:
                self.states[comm_id]["state"].update(data.get("state", {}))
                self.updates.append((time.perf_counter(), comm_id, data.get("state", {})))
        return message

    def _load_states(self) -> None:
        control = uuid.uuid4().hex
        self.send("comm_open", {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}},
                  metadata={"version": CONTROL_PROTOCOL})  # fmt: skip
        self.send("comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = self.receive(timeout=max(0.01, deadline - time.monotonic()))
            if message and message.get("msg_type") == "comm_msg" and message["content"].get("comm_id") == control:
                data = message["content"]["data"]
                if data.get("method") == "update_states":
                    self.states = {key: dict(value) for key, value in data["states"].items()}
                    return
        raise TimeoutError("the kernel sent no widget states")

    def widget(self, css_class: str) -> str:
        """The model id of the widget carrying ``css_class``."""
        found = [key for key, value in self.states.items() if css_class in value["state"].get("_dom_classes", [])]
        assert len(found) == 1, f"{len(found)} widgets with class {css_class!r}"
        return found[0]

    def click(self, css_class: str) -> None:
        """A Button's click, as the browser sends it."""
        click = {"method": "custom", "content": {"event": "click"}}
        self.send("comm_msg", {"comm_id": self.widget(css_class), "data": click})

    def wait_for_update(self, css_class: str, key: str = "value", value=ANY, timeout: float = 30) -> float:
        """Wait for the next change of ``key`` (to ``value``, if given) on that widget; return when it
        arrived (perf_counter). The Generate button is disabled while a generation runs, so
        ``wait_for_update("patentrnn-generate", "disabled", False)`` waits for the next one to finish."""
        model = self.widget(css_class)
        deadline = time.monotonic() + timeout
        seen = len(self.updates)
        while time.monotonic() < deadline:
            self.receive(timeout=max(0.01, deadline - time.monotonic()))
            for arrived, comm_id, state in self.updates[seen:]:
                if comm_id == model and key in state and (value is ANY or state[key] == value):
                    return arrived
            seen = len(self.updates)
        raise TimeoutError(f"no update of {css_class}.{key} in {timeout:g} s")

    def drain(self, quiet: float = 2.0, timeout: float = 60) -> None:
        """Read messages until none has come for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.receive(timeout=quiet) is not None:
            pass

    def count_updates(self, css_class: str, key: str = "value", value=ANY) -> int:
        """Updates of ``key`` (to ``value``, if given) received so far on that widget."""
        model = self.widget(css_class)
        return sum(
            1
            for _, comm_id, state in self.updates
            if comm_id == model and key in state and (value is ANY or state[key] == value)
        )

    def generations(self) -> int:
        """Generations the kernel ran for this page: each disables the Generate button while it
        works (a click dropped by the rate limit does not)."""
        return self.count_updates("patentrnn-generate", "disabled", True)

    def generate(self, timeout: float = 30) -> float:
        """Click Generate and wait for the generation to finish; return the seconds it took."""
        started = time.perf_counter()
        self.click("patentrnn-generate")
        return self.wait_for_update("patentrnn-generate", "disabled", False, timeout=timeout) - started

    def text(self) -> str:
        """Every HTML widget's text, joined (for notes such as the rate limit's)."""
        return "\n".join(str(value["state"].get("value", "")) for value in self.states.values())


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
