"""A token bucket: how often one session may run the Generate button.

The button is disabled in the browser while it works, but anyone holding the page can
send clicks straight over the kernel's websocket. The kernel checks each click here:

    >>> limit = RateLimit(rate=2.0, burst=5)
    >>> [limit.allow() for _ in range(6)]
    [True, True, True, True, True, False]

A dropped click costs nothing: it is never queued.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import InputError
from .settings import BURST_ENV, RATE_ENV


@dataclass
class RateLimit:
    """At most ``burst`` events back to back, refilled at ``rate`` events a second."""

    rate: float = 2.0  # a visitor reads the output between clicks; 2 a second is already fast
    burst: int = 5  # a few quick clicks (changing the seed between them) all run
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def __post_init__(self):
        if not (isinstance(self.rate, (int, float)) and math.isfinite(self.rate) and self.rate > 0):
            raise InputError(f"rate must be a positive number of events a second, not {self.rate!r}")
        if not isinstance(self.burst, int) or isinstance(self.burst, bool) or self.burst < 1:
            raise InputError(f"burst must be a whole number of events, 1 or more, not {self.burst!r}")
        self._tokens = float(self.burst)
        self._stamp = self.clock()

    def allow(self) -> bool:
        """Take one token if there is one."""
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    @classmethod
    def from_env(cls, environ=os.environ) -> RateLimit:
        """``$PATENTRNN_RATE`` and ``$PATENTRNN_BURST`` (set by ``patentrnn serve``), else the defaults."""
        values = {}
        for name, env, kind in (("rate", RATE_ENV, float), ("burst", BURST_ENV, int)):
            text = environ.get(env, "").strip()
            if text:
                try:
                    values[name] = kind(text)
                except ValueError:
                    raise InputError(f"${env} must be a number, not {text[:40]!r}") from None
        return cls(**values)

    def describe(self) -> str:
        return f"at most {self.burst} in a row, then {self.rate:g} a second"


class PerClient:
    """A ``RateLimit`` for each client (the HTTP API's, by address). Past ``size`` clients the one
    seen least recently is forgotten: it comes back with a full bucket."""

    def __init__(self, rate: float, burst: int, size: int = 10_000, clock: Callable[[], float] = time.monotonic):
        RateLimit(rate, burst)  # checks them
        self.rate, self.burst, self.size, self.clock = rate, burst, size, clock
        self.buckets: OrderedDict[str, RateLimit] = OrderedDict()

    def allow(self, client: str) -> bool:
        bucket = self.buckets.pop(client, None) or RateLimit(self.rate, self.burst, self.clock)
        self.buckets[client] = bucket  # (the most recently seen, last)
        if len(self.buckets) > self.size:
            self.buckets.popitem(last=False)
        return bucket.allow()

    @property
    def retry_after(self) -> int:
        """Whole seconds until a drained bucket holds a token again."""
        return max(1, math.ceil(1 / self.rate))
