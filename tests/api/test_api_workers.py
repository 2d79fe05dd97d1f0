"""The API's worker pool: a stopped stream stops its worker, a full queue answers 429 at once, a job past
its deadline is stopped and its worker replaced. Real worker processes with the shipped default model."""

from __future__ import annotations

import asyncio
import time

import pytest

from patentrnn.api.requests import ApiError, GenerateRequest
from patentrnn.api.workers import DEADLINE_S, Pool
from patentrnn.bundle import DEFAULT_MODEL

pytestmark = pytest.mark.slow
LONG = 5000  # words: seconds of work


def job(words: int = LONG, stream: bool = False) -> dict:
    arguments = {"seed": "A neural network", "words": words, "diversity": 0.8, "top_k": None, "top_p": None,
                 "rng_seed": 1, "max_copy": None, "title": None}  # fmt: skip
    return {"request": GenerateRequest(DEFAULT_MODEL, arguments, stream=stream), "page": "http://test/"}


async def until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def run_with_pool(size: int, queue: int, scenario) -> None:
    async def main():
        pool = Pool(size, queue, [DEFAULT_MODEL])
        pool.start()
        try:
            await until(lambda: pool.counts()["ready"] == size)
            await scenario(pool)
        finally:
            pool.close()

    asyncio.run(main())


def test_a_stream_whose_client_goes_stops_its_worker_within_a_batch(data_dir):
    async def scenario(pool):
        stream = await pool.submit("generate", job(stream=True))
        kind, events = await anext(stream.messages())
        assert kind == "events" and len(events) == 8 and events[0]["index"] == 1
        stream.stop()
        await until(lambda: pool.counts()["busy"] == 0, timeout=5)
        assert pool.stopped and pool.stopped[-1] < LONG / 10, "it stopped well before its words were written"
        answer = await (await pool.submit("generate", job(words=12))).result()
        assert len(answer["generated_text"].split()) >= 10, "the worker serves the next request"

    run_with_pool(1, 0, scenario)


def test_a_full_queue_answers_429_overloaded_at_once(data_dir):
    async def scenario(pool):
        busy = await pool.submit("generate", job())
        started = time.monotonic()
        with pytest.raises(ApiError) as refused:
            await pool.submit("generate", job(words=12))
        assert time.monotonic() - started < 0.1
        assert (refused.value.status, refused.value.error_type) == (429, "overloaded")
        assert refused.value.headers["Retry-After"] == "1"
        assert "generated_text" in await busy.result()

    run_with_pool(1, 0, scenario)


def test_a_job_past_its_deadline_fails_cleanly_and_its_worker_is_replaced(data_dir):
    async def scenario(pool):
        first = pool.workers[0].process.pid
        late = await pool.submit("generate", job(), started=time.monotonic() - DEADLINE_S + 0.3)
        with pytest.raises(ApiError) as stopped:
            await late.result()
        assert (stopped.value.status, stopped.value.error_type) == (503, "timeout")
        assert "10 s" in stopped.value.message
        assert pool.workers[0].process.pid != first
        await until(lambda: pool.ready)
        assert "generated_text" in await (await pool.submit("generate", job(words=12))).result()

    run_with_pool(1, 1, scenario)


def test_a_library_error_in_a_worker_is_a_422_with_its_one_line(data_dir):
    async def scenario(pool):
        payload = job(words=12)
        payload["request"].arguments["title"] = "x" * 10  # the default model has titles: this one is fine
        payload["request"].arguments["seed"] = "\x00\x01"
        with pytest.raises(ApiError) as failed:
            await (await pool.submit("generate", payload)).result()
        assert failed.value.status == 422 and failed.value.error_type == "validation"
        assert "\n" not in failed.value.message and "Traceback" not in failed.value.message

    run_with_pool(1, 0, scenario)
