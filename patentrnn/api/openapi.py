"""The API's OpenAPI 3.1 document, written from ``patentrnn.parameters``: no setting is described twice."""

from __future__ import annotations

from ..parameters import PARAMETERS
from ..result import MAX_SEED_CHARACTERS, MAX_TITLE_CHARACTERS
from .requests import FLAGS, MAX_BODY

FLAG_TEXT = {
    "details": "Answer with `details`: each word's log-probability and rank, the finish reason, the seed.",
    "originality": "Check the words against the training abstracts (longest copied run, nearest patents); "
    "implies `details`.",
    "return_full_text": "`generated_text` begins with the seed.",
}
ERRORS = {
    "400": "Unreadable JSON, or a TGI parameter this model does not use",
    "404": "Unknown model",
    "413": f"Body over {MAX_BODY} bytes",
    "415": "Not application/json",
    "422": "A value out of range or of the wrong type; the message names the field",
    "429": "`overloaded` (the queue is full) or `rate_limited` (this address's bucket is empty); see Retry-After",
    "503": "`timeout` (past the deadline) or `not_ready`",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _text(description: str, limit: int) -> dict:
    return {"type": "string", "maxLength": limit, "description": description}


def _schemas() -> dict:
    settings = {parameter.api: parameter.schema() for parameter in PARAMETERS.values()}
    settings["model"] = {"type": "string", "description": "A model's name (GET /v1/models); default: the server's."}
    settings["title"] = _text("A title model writes the abstract of this title; `inputs` then begins it.",
                              MAX_TITLE_CHARACTERS)  # fmt: skip
    settings |= {name: {"type": "boolean", "default": False, "description": FLAG_TEXT[name]} for name in FLAGS}
    settings["do_sample"] = {"type": "boolean", "description": "Ignored: the model always samples."}
    seed = _text("The seed: the text to continue. Empty: a random real test abstract's first words.",
                 MAX_SEED_CHARACTERS)  # fmt: skip
    token = {"type": "object", "properties": {"id": {"type": "integer"}, "text": {"type": "string"},
             "logprob": {"type": "number"}, "special": {"type": "boolean"}, "rank": {"type": "integer"}}}  # fmt: skip
    return {
        "GenerateRequest": {"type": "object", "required": ["inputs"], "properties": {
            "inputs": seed, "stream": {"type": "boolean", "default": False},
            "parameters": {"type": "object", "properties": settings}}},
        "TextRequest": {"type": "object", "required": ["inputs"], "properties": {
            "inputs": _text("The text.", MAX_SEED_CHARACTERS),
            "parameters": {"type": "object", "properties": {key: settings[key] for key in ("model", "title")}}}},
        "Token": token,
        "GenerateResponse": {"type": "object", "required": ["generated_text"], "properties": {
            "generated_text": {"type": "string"}, "details": {"type": "object", "properties": {
                "finish_reason": {"enum": ["length", "eos_token"]}, "generated_tokens": {"type": "integer"},
                "seed": {"type": "integer"}, "tokens": {"type": "array", "items": _ref("Token")},
                "top_tokens": {"type": ["array", "null"]}, "permalink": {"type": "string"},
                "originality": {"type": "object"}}}}},
        "Error": {"type": "object", "required": ["error", "error_type"],
                  "properties": {"error": {"type": "string"}, "error_type": {"type": "string"}}},
    }  # fmt: skip


def _operation(summary: str, request: str | None, response: dict, media: str = "application/json") -> dict:
    operation = {"summary": summary, "responses": {"200": {"description": "OK", "content": {media: response}}}}
    if request:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(request)}}}
        errors = {"content": {"application/json": {"schema": _ref("Error")}}}
        operation["responses"] |= {status: {"description": text, **errors} for status, text in ERRORS.items()}
    return operation


def document(version: str, base_url: str = "/") -> dict:
    """The OpenAPI document; its paths are under ``base_url``."""
    json_object = {"schema": {"type": "object"}}
    paths = {
        "generate": {"post": _operation("Write words after a seed (TGI's /generate; `stream: true` streams)",
                                        "GenerateRequest", {"schema": _ref("GenerateResponse")})},
        "generate_stream": {"post": _operation("The same, one server-sent event a word (TGI's format)",
                                               "GenerateRequest", {"schema": {"type": "string"}},
                                               "text/event-stream")},
        "score": {"post": _operation("Each word's probability, rank and alternatives; perplexity", "TextRequest",
                                     json_object)},
        "originality": {"post": _operation("The longest run copied from a training abstract; the nearest patents",
                                           "TextRequest", json_object)},
        "models": {"get": _operation("The models, with their cards' figures", None, json_object)},
        "info": {"get": _operation("Limits, defaults and the version", None, json_object)},
        "health": {"get": _operation("200 once the workers have loaded the models; 503 before", None, json_object)},
        "metrics": {"get": _operation("Prometheus metrics", None, {"schema": {"type": "string"}}, "text/plain")},
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "patentrnn", "version": version,
                 "description": "Write, score and check patent abstracts with a word-level RNN."},
        "servers": [{"url": base_url.rstrip("/") or "/"}],
        "paths": {f"/v1/{name}": operations for name, operations in paths.items()},
        "components": {"schemas": _schemas()},
    }  # fmt: skip
