"""A shaped link for page benchmarks: a TCP proxy that delays and rate-limits every byte, websockets
included, with every connection of a visit sharing one link per direction, as on a phone (Chromium's
own network emulation shapes requests one by one, and not websockets). Profiles, as Lighthouse's:

* mobile: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, CPU 4x slower (CDP);
* desktop: 40 ms, 10 Mbit/s both ways;
* loopback: no shaping.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    rtt_ms: float
    down_kbps: float  # kilobits a second
    up_kbps: float
    cpu: float = 1


PROFILES = {
    "mobile": Profile(150, 1600, 750, 4),
    "desktop": Profile(40, 10_000, 10_000, 1),
    "loopback": None,
}


# --- the shaped link ---------------------------------------------------------------------------


class Link:
    """One direction of a link: bytes queue for its bandwidth, then take half the round trip."""

    def __init__(self, loop, kbps: float, delay_s: float):
        self.loop, self.rate, self.delay = loop, kbps * 1000 / 8, delay_s
        self.free_at = 0.0
        self.bytes = 0

    def send(self, data: bytes, deliver) -> None:
        now = self.loop.time()
        done = max(now, self.free_at) + len(data) / self.rate
        self.free_at = done
        self.bytes += len(data)
        self.loop.call_at(done + self.delay, deliver, data)


class ShapedProxy:
    """A TCP proxy on 127.0.0.1 in front of ``target`` (host, port), shaped by ``profile``
    (None: loopback, counted only). Runs its own event loop in a thread."""

    def __init__(self, target: tuple[str, int], profile: Profile | None):
        self.target, self.profile = target, profile
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        profile = self.profile or Profile(0, 10**9, 10**9)
        self.down = Link(self.loop, profile.down_kbps, profile.rtt_ms / 2000)
        self.up = Link(self.loop, profile.up_kbps, profile.rtt_ms / 2000)
        server = self.loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _connection(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, server_writer, self.up), self._pipe(server_reader, client_writer, self.down)
        )

    async def _pipe(self, reader, writer, link: Link):
        def deliver(data):
            if not writer.is_closing():
                writer.write(data)

        try:
            while data := await reader.read(16384):
                link.send(data, deliver)
        except (ConnectionError, OSError):
            pass
        self.loop.call_at(max(self.loop.time(), link.free_at) + link.delay, writer.close)

    def counted(self) -> int:
        return self.down.bytes + self.up.bytes

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
