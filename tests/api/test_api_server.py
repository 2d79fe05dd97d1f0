"""The HTTP API on ``patentrnn serve``, driven as TGI's clients drive it: huggingface_hub's InferenceClient
gets the words ``patentrnn.load().generate`` writes with the same settings."""

from __future__ import annotations

import json
import math
from urllib.parse import urlsplit

import pytest
from huggingface_hub import InferenceClient
from voila_server import get, post_json, voila_app, wait_api_ready

import patentrnn
from patentrnn.serve import SESSIONS_PATH
from patentrnn.web.query import Query

pytestmark = pytest.mark.slow
SEED = "A neural network for recognising handwritten digits"


@pytest.fixture(scope="module")
def api(data_dir, tmp_path_factory):
    """The server's URL; no preheated kernels and no rate limit to speak of."""
    env = {"PATENTRNN_DATA": str(data_dir), "PATENTRNN_RATE": "1000", "PATENTRNN_BURST": "1000"}
    log = tmp_path_factory.mktemp("api") / "serve.log"
    with voila_app(env, log_path=log, args=("--pool-size", "0", "--api-workers", "2")) as (url, _):
        wait_api_ready(url)
        yield url


@pytest.mark.parametrize(
    ("settings", "library"),
    [
        ({"max_new_tokens": 40, "seed": 11}, {"words": 40, "rng_seed": 11}),
        ({"max_new_tokens": 25, "seed": 3, "temperature": 1.3, "top_k": 20}, {"words": 25, "rng_seed": 3,
                                                                                "diversity": 1.3, "top_k": 20}),
    ],
)  # fmt: skip
def test_inference_client_plain_details_and_stream_get_the_librarys_words(api, settings, library):
    client = InferenceClient(api + "v1/generate")
    expected = patentrnn.load().generate(SEED, **library, max_copy=7, originality=False)
    assert client.text_generation(SEED, **settings) == expected.generated_text

    detailed = client.text_generation(SEED, **settings, details=True)
    assert detailed.generated_text == expected.generated_text
    assert detailed.details.seed == library["rng_seed"] and detailed.details.finish_reason == "length"
    assert [token.rank for token in detailed.details.tokens] == [word.rank for word in expected.generated]
    assert detailed.details.tokens[1].logprob == pytest.approx(math.log(expected.generated[1].probability))

    assert "".join(client.text_generation(SEED, **settings, stream=True)) == expected.generated_text
    events = list(client.text_generation(SEED, **settings, stream=True, details=True))
    assert len(events) == len(expected.generated) and [event.index for event in events][:2] == [1, 2]
    assert events[-1].generated_text == expected.generated_text
    assert events[-1].details.generated_tokens == len(expected.generated)


def test_a_title_model_writes_until_it_ends_and_the_permalink_reproduces_it(api):
    title = "Neural network for detecting fraud in payments"
    body = {"inputs": "", "parameters": {"seed": 5, "title": title, "details": True}}
    status, _, body = post_json(api + "v1/generate", body)
    answer = json.loads(body)
    details = answer["details"]
    assert status == 200 and details["title"] == title and details["mode"] == "title"
    expected = patentrnn.load().generate(None, title=title, rng_seed=5, max_copy=7, originality=False)
    assert answer["generated_text"] == expected.generated_text
    assert details["finish_reason"] == ("eos_token" if expected.ended else "length")
    link = urlsplit(details["permalink"])
    assert f"{link.scheme}://{link.netloc}/" == api
    query, problems = Query.parse(link.query, models=[details["model"]])
    assert not problems
    again = patentrnn.load(query.model).generate(**query.generate_arguments(), originality=False)
    assert again.generated_text == answer["generated_text"], "the page's permalink writes the same words"


def test_top_tokens_originality_score_and_checking_before_the_stream(api):
    status, _, body = post_json(api + "v1/generate", {"inputs": SEED, "parameters": {
        "max_new_tokens": 10, "seed": 1, "top_n_tokens": 3, "originality": True}})  # fmt: skip
    answer = json.loads(body)
    assert status == 200 and all(len(top) == 3 for top in answer["details"]["top_tokens"])
    originality = answer["details"]["originality"]
    assert originality["words"] == 10 + len(SEED.split()) and originality["nearest"][0]["patent_number"]

    status, _, body = post_json(api + "v1/score", {"inputs": "A neural network is trained on images."})
    score = json.loads(body)
    assert status == 200 and score["perplexity"] > 1 and score["words"][1]["rank"] >= 1

    status, _, body = post_json(api + "v1/originality", {"inputs": "A method of training a neural network."})
    checked = json.loads(body)
    assert status == 200 and checked["longest_copy"]["length"] >= 4 and len(checked["nearest"]) >= 1

    status, headers, body = post_json(api + "v1/generate_stream", {"inputs": SEED, "parameters": {"temperature": 9}})
    assert status == 422 and headers["Content-Type"] == "application/json", "a bad request is not a stream"
    assert json.loads(body) == {"error": "temperature must be between 0.5 and 5.", "error_type": "validation"}


def test_errors_in_tgis_shape(api):
    cases = [
        (b"x" * 20_000, "application/json", 413),
        (b'{"inputs": "x"}', "text/plain", 415),
        (b"{", "application/json", 400),
        (json.dumps({"inputs": "x", "parameters": {"model": "nope"}}).encode(), "application/json", 404),
        (json.dumps({"inputs": "x", "parameters": {"max_new_tokens": 1000}}).encode(), "application/json", 422),
    ]
    for body, content_type, expected in cases:
        status, headers, answer = post_json(api + "v1/generate", body, content_type)
        assert status == expected, answer
        assert set(json.loads(answer)) == {"error", "error_type"}
        assert headers["Access-Control-Allow-Origin"] == "*"


def test_health_models_info_metrics_and_openapi_start_no_kernel(api):
    status, _, body = get(api + "v1/health")
    assert status == 200 and json.loads(body)["status"] == "ready"
    models = json.loads(get(api + "v1/models")[2])
    assert models["default"] == patentrnn.load().name
    assert all("test" in row for row in models["models"])
    info = json.loads(get(api + "v1/info")[2])
    assert info["parameters"]["temperature"]["maximum"] == 5.0 and info["deadline_s"] == 10
    metrics = get(api + "v1/metrics")[2].decode()
    assert 'patentrnn_api_requests_total{endpoint="health",status="200"}' in metrics
    assert json.loads(get(api + "v1/openapi.json")[2])["openapi"] == "3.1.0"
    assert json.loads(get(api.rstrip("/") + SESSIONS_PATH)[2])["kernels"] == 0, "no kernel was started"


def test_each_address_gets_429_rate_limited_past_its_bucket(data_dir, tmp_path):
    env = {"PATENTRNN_DATA": str(data_dir), "PATENTRNN_RATE": "0.5", "PATENTRNN_BURST": "2"}
    with voila_app(env, log_path=tmp_path / "serve.log", args=("--pool-size", "0", "--api-workers", "1")) as (url, _):
        wait_api_ready(url)
        body = {"inputs": SEED, "parameters": {"max_new_tokens": 10}}
        answers = [post_json(url + "v1/generate", body) for _ in range(3)]
        assert [status for status, _, _ in answers] == [200, 200, 429]
        status, headers, text = answers[2]
        assert json.loads(text)["error_type"] == "rate_limited" and headers["Retry-After"] == "2"
