"""A visitor without a browser: speaks the app page's protocol to a Voilà server.

What the page's JavaScript does, and only that: GET the page (the server renders the
notebook on a kernel of its own and sets its cookies), open the kernel's websocket
(``/api/kernels/<id>/channels``, Jupyter's JSON messages), ask the widget manager for every
widget's state (the ``jupyter.widget.control`` comm), click Generate (a ``comm_msg`` with a
``click`` event), read the output widget's updates, and on leaving either send the unload
beacon (``POST /voila/api/shutdown/<id>`` with the ``_xsrf`` token) or just drop the socket.

Used by benchmarks/capacity.py, where a hundred Chromium pages would compete for this
machine's two cores with the server they measure. Not tests/voila_server.py's PageClient: that
one is synchronous (a thread per visitor) and sends no cookies, while a visitor behind HAProxy
must send its replica's cookie with the websocket and the beacon must send ``_xsrf``. Built on
tornado, which Voilà runs on: a hundred visitors in one event loop.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')
WORD = '<span class="word"'
CONTROL_PROTOCOL = "1.0.0"  # ipywidgets 8's jupyter.widget.control comm


def written_words(state: dict) -> int | None:
    """How many words the network wrote, in an update of the output widget: its ``view`` (the
    page's anywidget) or, for an HTML output, its ``value``; None for other changes."""
    if isinstance(state.get("view"), dict):
        blocks = state["view"].get("blocks", [])
        return sum(1 for block in blocks for word in block.get("words", []) if word.get("net"))
    if isinstance(state.get("value"), str):
        return state["value"].count(WORD)
    return None


AsyncHTTPClient.configure(None, max_clients=1000)


class Busy(Exception):
    """The server answered the page with 503 (its session limit)."""

    def __init__(self, seconds: float, retry_after: str | None):
        super().__init__(f"busy ({seconds * 1000:.0f} ms, Retry-After {retry_after})")
        self.seconds = seconds
        self.retry_after = retry_after


class Visitor:
    """One page view: ``await open()``, ``await click()``, ``await close(unload=...)``."""

    def __init__(self, url: str):
        self.url = url
        self.cookies: dict[str, str] = {}
        self.kernel_id: str | None = None
        self.socket = None
        self.session = uuid.uuid4().hex
        self.states: dict[str, dict] = {}
        self.button = self.output = None
        self._updates: asyncio.Queue = asyncio.Queue()
        self._replies: dict[str, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        self.page_ready_s: float | None = None
        self.replica: str | None = None  # the HAProxy cookie's value, when there is one

    # --- HTTP -------------------------------------------------------------------------------

    def _cookie_header(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep_cookies(self, response) -> None:
        for header in response.headers.get_list("Set-Cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value

    async def open(self, timeout: float = 60) -> float:
        """Load the page and its widgets; return seconds to the widgets' states (page ready)."""
        started = time.perf_counter()
        client = AsyncHTTPClient()
        try:
            response = await client.fetch(
                HTTPRequest(self.url, headers=self._cookie_header(), request_timeout=timeout, follow_redirects=True)
            )
        except HTTPClientError as error:
            if error.code == 503 and error.response is not None:
                raise Busy(time.perf_counter() - started, error.response.headers.get("Retry-After")) from None
            raise
        self._keep_cookies(response)
        self.replica = self.cookies.get("SRV")
        match = KERNEL_ID.search(response.body.decode())
        if not match:
            raise RuntimeError("no kernel id in the page")
        self.kernel_id = match.group(1)
        parts = urlsplit(self.url)
        base = f"ws://{parts.netloc}{parts.path.rsplit('/', 1)[0]}/"
        channels = urljoin(base, f"api/kernels/{self.kernel_id}/channels?" + urlencode({"session_id": self.session}))
        self.socket = await websocket_connect(
            HTTPRequest(channels, headers=self._cookie_header(), request_timeout=timeout),
            max_message_size=64 << 20,
        )
        self._reader = asyncio.ensure_future(self._read())
        await self._request("kernel_info_request", {}, "kernel_info_reply", timeout)
        control = uuid.uuid4().hex
        waiter = asyncio.get_running_loop().create_future()
        self._replies[f"control:{control}"] = waiter
        self._send(
            "comm_open",
            {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}},
            {"version": CONTROL_PROTOCOL},
        )
        self._send("comm_msg", {"comm_id": control, "data": {"method": "request_states"}})
        self.states = await asyncio.wait_for(waiter, timeout)
        for model_id, model in self.states.items():
            classes = model.get("state", {}).get("_dom_classes", [])
            if "patentrnn-generate" in classes:
                self.button = model_id
            if "patentrnn-output-widget" in classes:
                self.output = model_id
        if not (self.button and self.output):
            raise RuntimeError("the page has no Generate button or output widget")
        self.page_ready_s = time.perf_counter() - started
        return self.page_ready_s

    # --- the kernel websocket ---------------------------------------------------------------

    def _send(self, msg_type: str, content: dict, metadata: dict | None = None) -> str:
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "username": "", "session": self.session,
                  "date": "", "version": "5.3"}  # fmt: skip
        message = {"header": header, "parent_header": {}, "metadata": metadata or {}, "content": content,
                   "buffers": [], "channel": "shell"}  # fmt: skip
        self.socket.write_message(json.dumps(message))
        return msg_id

    async def _request(self, msg_type: str, content: dict, reply_type: str, timeout: float) -> dict:
        msg_id = self._send(msg_type, content)
        waiter = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = waiter
        return await asyncio.wait_for(waiter, timeout)

    async def _read(self) -> None:
        while True:
            raw = await self.socket.read_message()
            if raw is None:
                await self._updates.put(None)
                return
            if isinstance(raw, bytes):  # a message with binary buffers: this page sends none we read
                continue
            message = json.loads(raw)
            parent = message.get("parent_header", {}).get("msg_id")
            kind = message["header"]["msg_type"]
            if parent in self._replies and kind.endswith("_reply"):
                self._replies.pop(parent).set_result(message["content"])
            elif kind == "comm_msg":
                data = message["content"].get("data", {})
                if data.get("method") == "update_states":
                    for key in [k for k in self._replies if k.startswith("control:")]:
                        self._replies.pop(key).set_result(data.get("states", {}))
                elif data.get("method") == "update":
                    await self._updates.put((message["content"]["comm_id"], data.get("state", {})))

    async def click(self, words: int = 100, timeout: float = 30) -> float:
        """Click Generate; return seconds until the output widget holds ``words`` new words."""
        while not self._updates.empty():
            self._updates.get_nowait()
        started = time.perf_counter()
        self._send("comm_msg", {"comm_id": self.button, "data": {"method": "custom", "content": {"event": "click"}}})
        deadline = started + timeout
        while True:
            update = await asyncio.wait_for(self._updates.get(), max(0.01, deadline - time.perf_counter()))
            if update is None:
                raise ConnectionError("the kernel websocket closed")
            model_id, state = update
            if model_id == self.output and written_words(state) == words:
                return time.perf_counter() - started

    async def close(self, unload: bool) -> int | None:
        """Leave the page: with ``unload``, the beacon as the page sends it (returns its HTTP status)."""
        status = None
        if unload and self.kernel_id:
            token = self.cookies.get("_xsrf", "")
            shutdown = urljoin(self.url, f"voila/api/shutdown/{self.kernel_id}")
            try:
                response = await AsyncHTTPClient().fetch(
                    HTTPRequest(
                        shutdown,
                        method="POST",
                        body=urlencode({"_xsrf": token}),
                        headers={**self._cookie_header(), "Content-Type": "application/x-www-form-urlencoded"},
                        request_timeout=10,
                    )  # fmt: skip
                )
                status = response.code
            except HTTPClientError as error:
                status = error.code
        if self.socket is not None:
            self.socket.close()
        if self._reader is not None:
            self._reader.cancel()
        return status


# --- page views, as benchmarks/capacity.py makes them --------------------------------------------

QUERY = "?words=100&seed=A+neural+network"
WORDS = 100


@dataclass
class Views:
    """What a run of page views saw."""

    ready: list[float] = field(default_factory=list)
    clicks: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    open: int = 0
    unclean: list[float] = field(default_factory=list)  # when each tab vanished without unloading
    replicas: dict[str, int] = field(default_factory=dict)


async def view(url: str, unload: bool, views: Views) -> None:
    """One page view: load, click once, leave."""
    visitor = Visitor(url + QUERY)
    views.open += 1
    try:
        views.ready.append(await visitor.open())
        views.clicks.append(await visitor.click(WORDS))
        views.replicas[visitor.replica] = views.replicas.get(visitor.replica, 0) + 1
        status = await visitor.close(unload)
        if unload and status != 204:
            views.failures.append(f"unload beacon answered {status}")
    except Exception as error:  # counted and shown, never hidden
        views.failures.append(f"{type(error).__name__}: {str(error)[:200]}")
        await visitor.close(False)
        unload = False
    finally:
        views.open -= 1
        if not unload:
            views.unclean.append(time.monotonic())


async def paced_clicks(visitors: list[Visitor], clicks: int, gap: float = 0.25) -> list[float]:
    """``clicks`` clicks, one at a time, on visitors taken in random order: each visitor clicks
    well under the server-side rate limit (2 a second)."""
    times = []
    order = [visitors[i % len(visitors)] for i in range(clicks)]
    random.Random(0).shuffle(order)
    for visitor in order:
        times.append(await visitor.click(WORDS))
        await asyncio.sleep(gap)
    return times
