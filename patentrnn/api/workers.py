"""A pool of worker processes for the API, off the server's event loop, with a bounded queue.

Hand-written on ``multiprocessing`` pipes rather than ``concurrent.futures.ProcessPoolExecutor``, which
can neither pass a running job's words back as they are written (the stream) nor stop a running job
(``cancel`` stops queued ones only): a client that disconnects stops its words here within 8 of them,
and a job past its deadline is stopped by replacing its worker.

Workers fork from a forkserver that has already imported the package, so they share numpy's pages.
Each sends ``ready`` once its models are loaded and their originality indexes are open.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import multiprocessing
import secrets
import time
import traceback
from dataclasses import dataclass, field

from .requests import ApiError, as_api_error

log = logging.getLogger("patentrnn.api")
DEADLINE_S = 10.0  # a request's time from its arrival to its last word
RETRY_AFTER_S = 1


def _work(connection, names: list[str], directory) -> None:
    """A worker's life: load the models, then run one job at a time until the pipe closes."""
    from .jobs import Jobs, Stopped

    jobs = Jobs(directory)
    try:
        connection.send((None, "ready", jobs.ready(names)))
    except Exception as error:  # (the server logs it and keeps the worker out)
        connection.send((None, "failed", f"{type(error).__name__}: {error}"))
        return
    while True:
        try:
            number, kind, payload = connection.recv()
        except (EOFError, OSError):
            return
        if kind == "stop":
            continue  # (for a job that had already finished)

        sent = [0]

        def send(events, number=number, sent=sent):
            if connection.poll() and connection.recv()[1] == "stop":
                raise Stopped
            connection.send((number, "events", events))
            sent[0] += len(events)

        try:
            connection.send((number, "done", jobs.run(kind, payload, send)))
        except Stopped:
            connection.send((number, "stopped", sent[0]))
        except Exception as error:
            answer = as_api_error(error)
            trace = traceback.format_exc() if answer.status >= 500 else None  # (for the server's log)
            connection.send((number, "error", (answer.status, answer.error_type, answer.message, trace)))


def _logged(status: int, error_type: str, message: str, trace: str | None) -> ApiError:
    """A worker's error as the answer: a failure of ours is logged, and the answer names its reference."""
    if trace:
        reference = secrets.token_hex(4)
        log.error("API request failed (reference %s):\n%s", reference, trace)
        message = f"{message} (reference {reference})"
    return ApiError(status, error_type, message)


@dataclass(eq=False)
class Worker:
    process: multiprocessing.process.BaseProcess
    connection: object
    ready: bool = False
    job: int | None = None  # the job it runs, until its last message
    inbox: asyncio.Queue | None = None  # that job's messages, while its caller listens


@dataclass(eq=False)
class Job:
    """A job a worker has taken: its messages, as they come."""

    pool: Pool
    worker: Worker
    number: int
    deadline: float
    inbox: asyncio.Queue  # (its own reference: the worker lets go of it with the last message)
    finished: bool = field(default=False)

    async def messages(self):
        """``(kind, data)`` until the last: ``events`` (a stream's), then ``done``; an ApiError otherwise."""
        while not self.finished:
            try:
                kind, data = await asyncio.wait_for(self.inbox.get(), self.deadline - time.monotonic())
            except (asyncio.TimeoutError, TimeoutError):
                self.finished = True
                self.pool.replace(self.worker, f"job {self.number} passed its deadline")
                raise ApiError(503, "timeout", f"The request took longer than {DEADLINE_S:g} s and was stopped.",
                               {"Retry-After": str(RETRY_AFTER_S)}) from None  # fmt: skip
            self.finished = kind != "events"
            if kind == "error":
                raise _logged(*data)
            if kind == "lost":
                raise ApiError(500, "generation", "The worker running this request stopped; ask again.")
            yield kind, data

    def stop(self) -> None:
        """The client went away: the worker stops at its next 8 words (and stays busy until then)."""
        if not self.finished and self.worker.job == self.number:
            self.finished = True
            self.worker.inbox = None
            self.pool.send(self.worker, (self.number, "stop", None))

    async def result(self):
        async for kind, data in self.messages():
            if kind == "done":
                return data


class Pool:
    """``size`` workers; at most ``queue`` requests wait for one, and the next gets 429 ``overloaded``."""

    def __init__(self, size: int, queue: int, names: list[str], directory=None):
        self.size, self.queue, self.names, self.directory = size, queue, names, directory
        self.workers: list[Worker] = []
        self.idle: collections.deque[Worker] = collections.deque()
        self.waiting: collections.deque[asyncio.Future] = collections.deque()
        self.numbers = itertools.count(1)
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["patentrnn.api.jobs"])
        self.failure: str | None = None
        self.stopped: collections.deque[int] = collections.deque(maxlen=100)  # words each stopped stream had

    def start(self) -> None:
        """Start the workers (call on the running event loop)."""
        self.loop = asyncio.get_running_loop()
        for _ in range(self.size):
            self._spawn()

    def _spawn(self) -> None:
        mine, theirs = self.context.Pipe()
        process = self.context.Process(target=_work, args=(theirs, self.names, self.directory), daemon=True)
        process.start()
        theirs.close()
        worker = Worker(process, mine)
        self.workers.append(worker)
        self.loop.add_reader(mine.fileno(), self._readable, worker)

    @property
    def ready(self) -> bool:
        return any(worker.ready for worker in self.workers)

    def counts(self) -> dict:
        busy = sum(worker.job is not None for worker in self.workers)
        return {"workers": len(self.workers), "ready": sum(w.ready for w in self.workers), "busy": busy,
                "waiting": len(self.waiting), "queue": self.queue}  # fmt: skip

    async def submit(self, kind: str, payload: dict, started: float | None = None) -> Job:
        """A worker takes the job, or ApiError 429 ``overloaded`` at once when the queue is full."""
        deadline = (started or time.monotonic()) + DEADLINE_S
        worker = self.idle.popleft() if self.idle else None
        if worker is None:
            if len(self.waiting) >= self.queue:
                raise ApiError(429, "overloaded", "The server is busy: ask again in a moment.",
                               {"Retry-After": str(RETRY_AFTER_S)})  # fmt: skip
            waiter = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            try:
                worker = await asyncio.wait_for(waiter, deadline - time.monotonic())
            except (asyncio.TimeoutError, TimeoutError):
                raise ApiError(503, "timeout", f"No worker was free within {DEADLINE_S:g} s.",
                               {"Retry-After": str(RETRY_AFTER_S)}) from None  # fmt: skip
            finally:
                if waiter in self.waiting:
                    self.waiting.remove(waiter)
        number = next(self.numbers)
        worker.job, worker.inbox = number, asyncio.Queue()
        self.send(worker, (number, kind, payload))
        return Job(self, worker, number, deadline, worker.inbox)

    def send(self, worker: Worker, message) -> None:
        try:
            worker.connection.send(message)
        except OSError:
            self.replace(worker, "its pipe closed")

    def _readable(self, worker: Worker) -> None:
        try:
            number, kind, data = worker.connection.recv()
        except (EOFError, OSError):
            self.replace(worker, "it exited")
            return
        if kind in ("ready", "failed"):
            worker.ready, self.failure = kind == "ready", data if kind == "failed" else None
            log.info("API worker %d %s", worker.process.pid, "ready" if worker.ready else f"failed: {data}")
            if worker.ready:
                self._release(worker)
            return
        if kind == "stopped":
            self.stopped.append(data)
            log.info("API job %d stopped by its client after %d words", number, data)
        if number != worker.job:
            return  # (a stopped job's late words)
        if worker.inbox is not None:
            worker.inbox.put_nowait((kind, data))
        if kind != "events":
            worker.job = worker.inbox = None
            self._release(worker)

    def _release(self, worker: Worker) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self.idle.append(worker)

    def replace(self, worker: Worker, why: str) -> None:
        """Stop a worker (past a deadline, or gone) and start another in its place."""
        log.warning("API worker %d replaced: %s", worker.process.pid, why)
        if worker.inbox is not None:
            worker.inbox.put_nowait(("lost", None))
        self._remove(worker)
        self._spawn()

    def _remove(self, worker: Worker) -> None:
        self.loop.remove_reader(worker.connection.fileno())
        worker.connection.close()
        worker.process.kill()
        worker.process.join(1)
        self.workers.remove(worker)
        if worker in self.idle:
            self.idle.remove(worker)

    def close(self) -> None:
        for worker in list(self.workers):
            self._remove(worker)
