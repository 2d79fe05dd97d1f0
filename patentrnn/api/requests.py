"""A request's JSON body, checked: what a worker runs, or an ``ApiError`` that says what to change.

Generation follows text-generation-inference (TGI): ``{"inputs": seed, "parameters": {...}, "stream": bool}``.
The settings' names, ranges, defaults and messages are ``patentrnn.parameters``', shared with the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import InputError
from ..parameters import PARAMETERS
from ..result import MAX_SEED_CHARACTERS, MAX_TITLE_CHARACTERS

MAX_BODY = 16 * 1024  # bytes
IGNORED = ("do_sample",)  # the model always samples, at `temperature`
FLAGS = ("details", "originality", "return_full_text")


@dataclass(frozen=True)
class ApiError(Exception):
    """An answer other than 200: TGI's error body, ``{"error": message, "error_type": kind}``."""

    status: int
    error_type: str
    message: str
    headers: dict = field(default_factory=dict)

    def body(self) -> dict:
        return {"error": self.message, "error_type": self.error_type}


def validation(message: str) -> ApiError:
    return ApiError(422, "validation", message)


@dataclass(frozen=True)
class GenerateRequest:
    """``Generator.generate``'s arguments, and how to answer."""

    model: str
    arguments: dict
    top_n: int = 0
    details: bool = False
    originality: bool = False
    return_full_text: bool = False
    stream: bool = False


def read_json(body: bytes, content_type: str | None) -> dict:
    """The body as a JSON object: 413 when too large, 415 when not JSON, 400 when unreadable."""
    if len(body) > MAX_BODY:
        raise ApiError(413, "payload_too_large", f"The body must be at most {MAX_BODY} bytes.")
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "unsupported_media_type", "The body must be JSON (Content-Type: application/json).")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return data


def _text(data: dict, name: str, limit: int, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise validation(f"{name} must be a string.")
    if len(value) > limit:
        raise validation(f"{name} must be at most {limit} characters.")
    return value


def _model(data: dict, models: list[str], default: str) -> str:
    name = _text(data, "model", 200) or default
    if name not in models:
        raise ApiError(404, "not_found", f"Unknown model {name[:60]!r}: GET /v1/models lists them.")
    return name


def _parameters(body: dict) -> dict:
    parameters = body.get("parameters")
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise validation("parameters must be an object.")
    ours = {parameter.api for parameter in PARAMETERS.values()} | {"model", "title", *FLAGS, *IGNORED}
    unused = [name for name, value in parameters.items() if name not in ours and value not in (None, False)]
    unused = [name for name in unused if not (name == "best_of" and parameters[name] == 1)]
    # Any other parameter set (TGI's stop, repetition_penalty, ...) is one this model does not use: 400 with
    # the message huggingface_hub's InferenceClient reads, which drops them, warns its user and asks again.
    if unused:
        listed = ", ".join(repr(name[:40]) for name in unused[:10])
        raise ApiError(400, "validation", f"The following `model_kwargs` are not used by the model: [{listed}]")
    for name in FLAGS:
        if not isinstance(parameters.get(name, False), bool):
            raise validation(f"{name} must be true or false.")
    return parameters


def _setting(parameters: dict, name: str, absent=None):
    """A setting's value from its API field, checked; ``absent`` when it is not given."""
    parameter = PARAMETERS[name]
    if parameter.api not in parameters:
        return absent
    value = parameters[parameter.api]
    if value is None and name in ("words", "max_copy", "rng_seed", "top_k", "top_p"):
        return None
    if isinstance(value, float) and parameter.kind is int and value.is_integer():
        value = int(value)  # (JSON has one number type: 40.0 is 40)
    return parameter.check(value, parameter.api)


def generate_request(body: dict, models: list[str], default: str, stream: bool = False) -> GenerateRequest:
    """A generate (or generate_stream) body: the seed in ``inputs`` (empty: a random real test abstract's
    first words, as on the page), the settings in ``parameters``."""
    seed = _text(body, "inputs", MAX_SEED_CHARACTERS, required=True)
    parameters = _parameters(body)
    title = _text(parameters, "title", MAX_TITLE_CHARACTERS)
    if title is not None and not title.strip():
        raise validation("title must not be empty.")
    arguments = {
        "seed": seed if seed.strip() else None,
        "words": _setting(parameters, "words"),
        "diversity": _setting(parameters, "diversity", PARAMETERS["diversity"].default),
        "top_k": _setting(parameters, "top_k"),
        "top_p": _setting(parameters, "top_p"),
        "rng_seed": _setting(parameters, "rng_seed"),
        "max_copy": _setting(parameters, "max_copy", PARAMETERS["max_copy"].default),
        "title": title,
    }
    if arguments["top_k"] and arguments["top_p"]:
        raise validation("Give top_k or top_p, not both.")
    stream = stream or body.get("stream") is True
    flags = {name: parameters.get(name, False) for name in FLAGS}
    top_n = _setting(parameters, "top_n", 0) or 0
    return GenerateRequest(_model(parameters, models, default), arguments, top_n, stream=stream, **flags)


def text_request(body: dict, models: list[str], default: str) -> tuple[str, dict]:
    """A score or originality body, ``{"inputs": text, "parameters": {"model", "title"}}``: the model
    and the arguments."""
    text = _text(body, "inputs", MAX_SEED_CHARACTERS, required=True)
    if not text.strip():
        raise validation("inputs must not be empty.")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise validation("parameters must be an object.")
    title = _text(parameters, "title", MAX_TITLE_CHARACTERS)
    return _model(parameters, models, default), {"text": text, "title": title}


def as_api_error(error: Exception) -> ApiError:
    """A worker's error as an answer: the library's one-line InputError is the caller's to fix (422)."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, InputError):
        return validation(str(error))
    return ApiError(500, "generation", "The model failed on this request; the server's log has the details.")
