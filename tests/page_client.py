"""A page without a browser: talk to a page's kernel over its websocket as the page's JavaScript does
(the serving tests' floods and limits, where Chromium would be the bottleneck)."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid

from voila_server import ANY, CONTROL_PROTOCOL, get


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


