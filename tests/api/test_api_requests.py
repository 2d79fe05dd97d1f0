"""The HTTP API's request checks, answer shapes and OpenAPI document, without a server."""

from __future__ import annotations

import json

import pytest

from patentrnn.api import openapi
from patentrnn.api.requests import MAX_BODY, ApiError, as_api_error, generate_request, read_json, text_request
from patentrnn.api.responses import stream_event, tokens
from patentrnn.errors import InputError
from patentrnn.parameters import PARAMETERS
from patentrnn.ratelimit import PerClient
from patentrnn.result import GeneratedWord
from patentrnn.vocabulary import detokenize, word_text
from patentrnn.web.query import Query

MODELS = ["neural-network-title", "baseball-lstm"]


def parse(parameters: dict | None = None, inputs="A neural network", **body):
    return generate_request({"inputs": inputs, "parameters": parameters or {}, **body}, MODELS, MODELS[0])


def error_of(call, *args, **kwargs) -> ApiError:
    with pytest.raises((ApiError, InputError)) as caught:
        call(*args, **kwargs)
    return as_api_error(caught.value)


def test_tgi_names_map_to_generate_arguments_with_the_pages_defaults():
    request = parse({"max_new_tokens": 30, "temperature": 1.2, "top_k": 40.0, "seed": 7, "details": True})
    assert request.arguments == {"seed": "A neural network", "words": 30, "diversity": 1.2, "top_k": 40,
                                 "top_p": None, "rng_seed": 7, "max_copy": 7, "title": None}  # fmt: skip
    assert request.details and not request.stream and request.model == MODELS[0]
    plain = parse(inputs="   ")
    assert plain.arguments["seed"] is None, "an empty seed is a random real abstract, as on the page"
    assert plain.arguments["words"] is None and plain.arguments["diversity"] == Query().diversity
    assert parse({"max_copy": None}).arguments["max_copy"] is None
    assert parse(stream=True).stream and generate_request({"inputs": "x"}, MODELS, MODELS[0], stream=True).stream


@pytest.mark.parametrize("name", ["words", "diversity", "top_k", "top_p", "rng_seed", "max_copy", "top_n"])
def test_a_value_out_of_range_is_422_naming_the_api_field_with_the_pages_range(name):
    parameter = PARAMETERS[name]
    for value in (parameter.bounds[1] + 1, parameter.bounds[0] - 1, "9", True, float("nan")):
        error = error_of(parse, {parameter.api: value})
        assert (error.status, error.error_type) == (422, "validation"), value
        assert error.message == parameter.message(parameter.api)
        assert parameter.message(parameter.api).replace(parameter.api, parameter.label) == parameter.message()


def test_the_page_and_the_api_check_with_the_same_definition():
    query, problems = Query.parse("diversity=9&words=5", models=MODELS)
    assert problems == [PARAMETERS["words"].message(), PARAMETERS["diversity"].message()]
    assert error_of(parse, {"temperature": 9}).message == "temperature must be between 0.5 and 5."


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error_type"),
    [
        (b"x" * (MAX_BODY + 1), "application/json", 413, "payload_too_large"),
        (b'{"inputs": "x"}', "text/plain", 415, "unsupported_media_type"),
        (b'{"inputs": "x"}', None, 415, "unsupported_media_type"),
        (b'{"inputs": ', "application/json", 400, "bad_request"),
        (b"\xff\xfe", "application/json", 400, "bad_request"),
        (b"[1, 2]", "application/json; charset=utf-8", 400, "bad_request"),
    ],
)
def test_bodies_that_are_not_a_json_object_get_their_status(body, content_type, status, error_type):
    error = error_of(read_json, body, content_type)
    assert (error.status, error.error_type) == (status, error_type)


def test_bad_fields_are_named():
    assert error_of(parse, inputs=None).message == "inputs must be a string."
    assert error_of(parse, inputs=["a"]).message == "inputs must be a string."
    assert error_of(parse, {"model": "nope"}).status == 404
    assert error_of(parse, {"title": "  "}).message == "title must not be empty."
    assert error_of(parse, {"top_k": 5, "top_p": 0.5}).message == "Give top_k or top_p, not both."
    assert error_of(parse, {"details": "yes"}).message == "details must be true or false."
    assert error_of(generate_request, {"inputs": "x", "parameters": [1]}, MODELS, MODELS[0]).status == 422
    assert error_of(text_request, {"inputs": " "}, MODELS, MODELS[0]).message == "inputs must not be empty."


def test_tgi_parameters_this_model_does_not_use_get_the_message_inference_client_retries_on():
    assert parse({"stop": None, "watermark": False, "do_sample": True, "best_of": 1}).arguments["words"] is None
    error = error_of(parse, {"stop": ["."], "repetition_penalty": 1.2})
    assert (error.status, error.message) == (400, "The following `model_kwargs` are not used by the model: "
                                                  "['stop', 'repetition_penalty']")  # fmt: skip


def test_token_texts_add_up_to_the_text_and_events_number_from_one():
    words = ["a", "network", ",", "trained", "(", "deep", ")", "."]
    assert "".join(word_text(word, i == 0) for i, word in enumerate(words)) == detokenize(words)
    generated = [GeneratedWord(word, 0.5, [(word, 0.5), ("x", 0.25)], 1) for word in words]
    shaped = tokens(generated, {"network": 9}, top_n=1, start=2)
    assert [item["text"] for item in shaped] == [word_text(word) for word in words[2:]]
    assert shaped[1]["text"] == " trained" and shaped[0]["id"] == 1, "an unknown word is <unk>'s id"
    assert tokens(generated, {"network": 9}, 0)[1]["id"] == 9
    assert shaped[0]["top_tokens"] == [{"id": 1, "text": ",", "logprob": pytest.approx(-0.6931, abs=1e-4),
                                        "special": False}]  # fmt: skip
    event = stream_event(2, dict(shaped[0]))
    assert event["index"] == 3 and event["generated_text"] is None and event["token"]["rank"] == 1


def test_the_openapi_document_is_valid_and_states_every_parameters_range():
    from openapi_spec_validator import validate

    document = openapi.document("0.1.0", "/prefix/")
    validate(document)
    settings = document["components"]["schemas"]["GenerateRequest"]["properties"]["parameters"]["properties"]
    for parameter in PARAMETERS.values():
        assert settings[parameter.api]["minimum"] == parameter.bounds[0], parameter.name
        assert settings[parameter.api]["maximum"] == parameter.bounds[1], parameter.name
        assert settings[parameter.api]["default"] == parameter.default, parameter.name
    assert document["servers"] == [{"url": "/prefix"}]
    assert {"/v1/generate", "/v1/generate_stream", "/v1/score", "/v1/originality", "/v1/health"} <= set(
        document["paths"]
    )
    json.dumps(document)


def test_each_client_has_its_own_bucket_and_the_least_recent_is_forgotten():
    now = [0.0]
    limits = PerClient(rate=1.0, burst=2, size=2, clock=lambda: now[0])
    assert [limits.allow("a") for _ in range(3)] == [True, True, False]
    assert limits.allow("b") and limits.allow("c"), "other addresses have buckets of their own"
    assert limits.allow("a"), "a, least recently seen, was forgotten past size 2: a full bucket again"
    now[0] += 1.0
    assert limits.retry_after == 1
    with pytest.raises(InputError):
        PerClient(rate=0, burst=1)


def test_behind_a_proxy_on_a_private_network_the_forwarded_address_is_the_client():
    from types import SimpleNamespace

    from tornado.httputil import HTTPHeaders

    from patentrnn.api.handlers import client_address

    def request(peer, *forwarded):
        headers = HTTPHeaders()
        for value in forwarded:
            headers.add("X-Forwarded-For", value)
        return SimpleNamespace(remote_ip=peer, headers=headers)

    assert client_address(request("127.0.0.1", "1.2.3.4, 5.6.7.8")) == "5.6.7.8", "the address the proxy added"
    assert client_address(request("10.0.0.2", "1.1.1.1", "2.2.2.2")) == "2.2.2.2"
    assert client_address(request("8.8.8.8", "1.2.3.4")) == "8.8.8.8", "a direct client cannot pick its bucket"
    assert client_address(request("10.0.0.2", "not an address")) == "10.0.0.2"
    assert client_address(request("10.0.0.2")) == "10.0.0.2"
