"""The API's Tornado handlers, under ``<base URL>v1/`` on ``patentrnn serve``'s port.

Cookie-less and public, like the page: no XSRF check (nothing rides on a cookie) and CORS open to
every origin. Each POST spends a token of its client address's bucket (the page's rate settings).
"""

from __future__ import annotations

import ipaddress
import json
import time

import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from tornado.iostream import StreamClosedError

from .. import __version__
from ..errors import InputError
from ..parameters import PARAMETERS
from ..result import MAX_RNG_SEED
from . import openapi
from .requests import MAX_BODY, ApiError, as_api_error, generate_request, read_json, text_request
from .workers import DEADLINE_S, RETRY_AFTER_S


class Metrics:
    """Prometheus metrics of one server (a registry of its own)."""

    def __init__(self, pool):
        self.registry = CollectorRegistry()
        self.requests = Counter("patentrnn_api_requests", "API requests answered", ["endpoint", "status"],
                                registry=self.registry)  # fmt: skip
        buckets = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
        self.seconds = Histogram("patentrnn_api_request_seconds", "Time to the last byte", ["endpoint"],
                                 registry=self.registry, buckets=buckets)  # fmt: skip
        self.words = Counter("patentrnn_api_generated_words", "Words written", registry=self.registry)
        for name, text in (("busy", "Workers running a job"), ("waiting", "Requests waiting for a worker"),
                           ("ready", "Workers with their models loaded")):  # fmt: skip
            Gauge(f"patentrnn_api_workers_{name}", text, registry=self.registry).set_function(
                lambda name=name: pool.counts()[name]
            )


def client_address(request) -> str:
    """The client's address: a proxy's peer (loopback or a private network: deploy/haproxy.cfg in front)
    is replaced by the address that proxy appended to X-Forwarded-For, the last one. A client that
    connects directly cannot choose its bucket this way."""
    peer = request.remote_ip or ""
    forwarded = ",".join(request.headers.get_list("X-Forwarded-For")).split(",")[-1].strip()
    try:
        behind_proxy = ipaddress.ip_address(peer).is_private  # (loopback is private too)
        ipaddress.ip_address(forwarded)
    except ValueError:
        return peer
    return forwarded if behind_proxy else peer


class Base(tornado.web.RequestHandler):
    endpoint = ""

    def initialize(self, api):
        self.api = api
        self.started = time.monotonic()

    def check_xsrf_cookie(self):
        pass  # (no cookies: a cross-site request carries no authority here)

    def set_default_headers(self):
        self.set_header("Access-Control-Allow-Origin", "*")
        self.set_header("Access-Control-Expose-Headers", "Retry-After, x-total-time")
        self.set_header("Cache-Control", "no-store")

    def options(self, *_):
        self.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.set_header("Access-Control-Allow-Headers", "Content-Type")
        self.set_status(204)

    def answer(self, body: dict, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def fail(self, error: ApiError) -> None:
        for name, value in error.headers.items():
            self.set_header(name, value)
        self.answer(error.body(), error.status)

    def write_error(self, status_code, **kwargs):  # Tornado's own errors (405, 500) in the same shape
        kind = "method_not_allowed" if status_code == 405 else "bad_request" if status_code < 500 else "internal"
        self.answer({"error": self._reason, "error_type": kind}, status_code)

    def on_finish(self):
        if self.endpoint:
            self.api.metrics.requests.labels(self.endpoint, str(self.get_status())).inc()
            self.api.metrics.seconds.labels(self.endpoint).observe(time.monotonic() - self.started)

    def body_json(self) -> dict:
        """The body, after the client's token bucket; an ApiError otherwise."""
        if not self.api.limits.allow(client_address(self.request)):
            raise ApiError(429, "rate_limited", f"Too many requests from this address: at most "
                           f"{self.api.limits.burst} in a row, then {self.api.limits.rate:g} a second.",
                           {"Retry-After": str(self.api.limits.retry_after)})  # fmt: skip
        if not self.api.pool.ready:
            raise ApiError(503, "not_ready", "The models are still loading.", {"Retry-After": str(RETRY_AFTER_S)})
        return read_json(self.request.body, self.request.headers.get("Content-Type"))

    def page_url(self) -> str:
        return f"{self.request.protocol}://{self.request.host}{self.api.base_url}"


class GenerateHandler(Base):
    endpoint, stream = "generate", False

    async def post(self):
        try:
            request = generate_request(self.body_json(), self.api.names, self.api.default, self.stream)
            job = await self.api.pool.submit("generate", {"request": request, "page": self.page_url()}, self.started)
            if request.stream:
                return await self._stream(job)
            result = await job.result()
        except (ApiError, InputError) as error:
            return self.fail(as_api_error(error))
        details = result.get("details")
        self.api.metrics.words.inc(details["generated_tokens"] if details else 0)
        self.set_header("x-total-time", str(round((time.monotonic() - self.started) * 1000)))
        self.answer(result)

    async def _stream(self, job):
        """Server-sent events, TGI's: one a word, the last with the text and details. The first words
        are in hand before the 200 goes out, so that an error is still an answer of its own."""
        self.job, pending, sent = job, None, False
        try:
            async for kind, data in job.messages():
                events = data if kind == "events" else []
                for event in events:
                    if pending is not None:
                        await self._event(pending, sent)
                        sent = True
                    pending = event
                if kind == "done":
                    pending = pending or {
                        "index": 1,
                        "token": {"id": 4, "text": "", "logprob": 0.0, "special": True},
                        "top_tokens": None,
                    }  # fmt: skip (ended before a word)
                    await self._event({**pending, **data}, sent)
                    self.api.metrics.words.inc(data["details"]["generated_tokens"])
        except ApiError as error:
            if not sent:
                return self.fail(error)
            self.write(f"data:{json.dumps(error.body())}\n\n")  # (TGI's error event, after the 200)
        except StreamClosedError:
            job.stop()
            return
        self.finish()

    async def _event(self, event: dict, sent: bool) -> None:
        if not sent:
            self.set_header("Content-Type", "text/event-stream")
            self.set_header("X-Accel-Buffering", "no")
        self.write(f"data:{json.dumps(event)}\n\n")
        await self.flush()

    def on_connection_close(self):
        job = getattr(self, "job", None)
        if job is not None:
            job.stop()


class StreamHandler(GenerateHandler):
    endpoint, stream = "generate_stream", True


class TextHandler(Base):
    async def post(self):
        try:
            model, arguments = text_request(self.body_json(), self.api.names, self.api.default)
            job = await self.api.pool.submit(self.endpoint, {"model": model, **arguments}, self.started)
            self.answer(await job.result())
        except (ApiError, InputError) as error:
            self.fail(as_api_error(error))


class ScoreHandler(TextHandler):
    endpoint = "score"


class OriginalityHandler(TextHandler):
    endpoint = "originality"


class ModelsHandler(Base):
    endpoint = "models"

    def get(self):
        self.answer({"default": self.api.default, "models": self.api.models})


class InfoHandler(Base):
    endpoint = "info"

    def get(self):
        limits = {parameter.api: {"minimum": parameter.bounds[0], "maximum": parameter.bounds[1],
                                  "default": parameter.default} for parameter in PARAMETERS.values()}  # fmt: skip
        self.answer({
            "version": __version__, "default_model": self.api.default, "models": self.api.names,
            "parameters": limits, "max_body_bytes": MAX_BODY, "deadline_s": DEADLINE_S, "max_seed": MAX_RNG_SEED,
            "rate_limit": {"rate": self.api.limits.rate, "burst": self.api.limits.burst},
            "workers": self.api.pool.counts(),
        })  # fmt: skip


class HealthHandler(Base):
    endpoint = "health"

    def get(self):
        counts = self.api.pool.counts()
        if not self.api.pool.ready:
            self.set_header("Retry-After", str(RETRY_AFTER_S))
            failure = {"failure": self.api.pool.failure} if self.api.pool.failure else {}
            return self.answer({"status": "loading", **counts, **failure}, 503)
        self.answer({"status": "ready", **counts})


class MetricsHandler(Base):
    endpoint = "metrics"

    def get(self):
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(self.api.metrics.registry))


class OpenApiHandler(Base):
    endpoint = "openapi"

    def get(self):
        self.answer(openapi.document(__version__, self.api.base_url))


HANDLERS = {
    "generate": GenerateHandler,
    "generate_stream": StreamHandler,
    "score": ScoreHandler,
    "originality": OriginalityHandler,
    "models": ModelsHandler,
    "info": InfoHandler,
    "health": HealthHandler,
    "metrics": MetricsHandler,
    "openapi.json": OpenApiHandler,
}
