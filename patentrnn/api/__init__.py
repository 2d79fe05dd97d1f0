"""The HTTP API: generate, stream, score and check originality without a kernel, in the shape that
text-generation-inference (TGI) clients speak. ``patentrnn serve`` answers it under ``<base URL>v1/``:

==============================  ===========================================================================
``POST v1/generate``            TGI's ``/generate`` (``"stream": true`` in the body streams, as TGI's ``/``)
``POST v1/generate_stream``     TGI's server-sent events: one a word, the last with the text and details
``POST v1/score``               each word's probability, rank and alternatives; perplexity
``POST v1/originality``         the longest run copied from a training abstract; the nearest patents
``GET v1/models``               the models, with their cards' figures
``GET v1/info``                 limits, defaults, version, workers
``GET v1/health``               200 once the workers have loaded the models (it starts no kernel), else 503
``GET v1/metrics``              Prometheus
``GET v1/openapi.json``         OpenAPI 3.1, written from ``patentrnn.parameters``
==============================  ===========================================================================

    >>> from huggingface_hub import InferenceClient                          # doctest: +SKIP
    >>> client = InferenceClient("http://127.0.0.1:8866/v1/generate")          # doctest: +SKIP
    >>> client.text_generation("A neural network", max_new_tokens=20, seed=1)  # doctest: +SKIP

Generation runs in worker processes (``workers``), never on the server's event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..bundle import DEFAULT_MODEL
from ..ratelimit import PerClient
from .workers import Pool

PREFIX = "v1/"


@dataclass
class Api:
    """One server's API: its models, workers, per-client limits and metrics."""

    models: list[dict]  # bundle.list_bundles()'s rows
    pool: Pool
    limits: PerClient
    base_url: str = "/"
    metrics: object = field(init=False)

    def __post_init__(self):
        from .handlers import Metrics

        self.metrics = Metrics(self.pool)

    @property
    def names(self) -> list[str]:
        return [row["name"] for row in self.models]

    @property
    def default(self) -> str:
        """The model a request that names none gets: the page form's (``web.form.Form.set_models``)."""
        return DEFAULT_MODEL if DEFAULT_MODEL in self.names else self.names[0]

    def routes(self) -> list[tuple]:
        from .handlers import HANDLERS

        prefix = self.base_url + PREFIX
        return [(prefix + name.replace(".", r"\."), handler, {"api": self}) for name, handler in HANDLERS.items()]


def start(models: list[dict], workers: int, queue: int, rate: float, burst: int, base_url: str = "/", directory=None):
    """An ``Api`` whose workers start on the running event loop."""
    pool = Pool(workers, queue, [row["name"] for row in models], directory)
    return Api(models, pool, PerClient(rate, burst), base_url)
