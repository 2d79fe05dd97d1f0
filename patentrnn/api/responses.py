"""Answers in TGI's shapes: a generation's words as tokens, its details, and the stream's events.

Each token's ``text`` is what the word adds to the text (a space, then the word; punctuation without
the space), so a client that joins the stream's tokens has ``generated_text``. ``logprob`` is the
word's natural log-probability under the model (temperature 1, whatever the sampling), ``rank`` its
place among the model's words (1: the likeliest).
"""

from __future__ import annotations

import dataclasses
import math

from ..result import GeneratedWord, Generation
from ..vocabulary import detokenize, word_text
from ..web.query import Query


def _logprob(probability: float) -> float:
    return math.log(probability) if probability > 0 else -1e9


def token(index: dict, word: str, probability: float, first: bool) -> dict:
    return {"id": index.get(word, 1), "text": word_text(word, first), "logprob": _logprob(probability),
            "special": False}  # fmt: skip


def tokens(generated: list[GeneratedWord], index: dict, top_n: int, start: int = 0) -> list[dict]:
    """The words from position ``start`` as TGI's tokens, each with its ``rank`` and, with ``top_n``,
    its ``top_tokens`` (the model's likeliest words there)."""
    shaped = []
    for position, item in enumerate(generated[start:], start):
        first = position == 0
        top = [token(index, word, p, first) for word, p in item.alternatives[:top_n]]
        shaped.append({**token(index, item.word, item.probability, first), "rank": item.rank, "top_tokens": top})
    return shaped


def permalink(result: Generation, page: str) -> str:
    """The page's URL that reproduces ``result`` word for word."""
    return f"{page}?{Query.from_result(result).to_query_string()}"


def _ending(result: Generation) -> dict:
    """What TGI's details and its stream's last event both say of a generation."""
    return {
        "finish_reason": "eos_token" if result.ended else "length",
        "generated_tokens": len(result.generated),
        "seed": result.settings.rng_seed,
    }


def _about(result: Generation, page: str) -> dict:
    """What this model adds to TGI's details: the seed it read, notes, originality, the permalink."""
    answer = {
        "model": result.model,
        "mode": result.mode,
        "seed_text": result.seed_text,
        "title": result.title_text,
        "notes": result.notes,
        "copy_guard": result.copy_guard,
        "permalink": permalink(result, page),
    }
    if result.mode == "random":
        answer["actual_text"] = result.actual_text
    if result.originality is not None:
        answer["originality"] = dataclasses.asdict(result.originality)
    return answer


def details(result: Generation, shaped: list[dict], top_n: int, page: str) -> dict:
    """TGI's ``details`` (the words as ``shaped`` tokens), and what this model adds."""
    plain = [{key: value for key, value in item.items() if key != "top_tokens"} for item in shaped]
    top = [item["top_tokens"] for item in shaped] if top_n else None
    return {**_ending(result), "prefill": [], "tokens": plain, "top_tokens": top, **_about(result, page)}


def stream_details(result: Generation, page: str, full: bool) -> dict:
    """The stream's last event's ``details``: TGI's, and with ``full`` (details or originality asked for)
    what this model adds; the words went out one event each."""
    more = {"prefill": [], **_about(result, page)} if full else {}
    return {**more, **_ending(result), "input_length": len(result.seed_words)}


def generated_text(result: Generation, full: bool) -> str:
    return detokenize([*result.seed_words, *result.generated_words]) if full else result.generated_text


def generate_answer(result: Generation, index: dict, request, page: str) -> dict:
    """``POST /v1/generate``'s body."""
    answer = {"generated_text": generated_text(result, request.return_full_text)}
    if request.details or request.originality:
        answer["details"] = details(result, tokens(result.generated, index, request.top_n), request.top_n, page)
    return answer


def stream_event(position: int, item: dict) -> dict:
    """One server-sent event: a word (the handler adds the text and the details to the last one)."""
    top = item.pop("top_tokens")
    return {"index": position + 1, "token": item, "top_tokens": top or None, "generated_text": None, "details": None}
