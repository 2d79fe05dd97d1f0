"""What an API worker process runs: generation, scoring and the originality check, each model loaded once.

The models' originality indexes are memory-mapped files: every worker reads the same pages.
"""

from __future__ import annotations

import dataclasses

from ..generation import Generator, load
from ..originality import index_for
from . import responses
from .requests import GenerateRequest


class Stopped(Exception):
    """The client went away: the job stops where it is."""


class Jobs:
    def __init__(self, directory=None):
        self.directory = directory
        self.generators: dict[str, Generator] = {}

    def generator(self, name: str) -> Generator:
        if name not in self.generators:
            self.generators[name] = load(name, self.directory)
        return self.generators[name]

    def ready(self, names: list[str]) -> dict:
        """Load every model and open its originality index before the first request."""
        for name in names:
            generator = self.generator(name)
            index_for(generator.bundle)
        return {"models": names}

    def run(self, kind: str, payload: dict, send=lambda events: None):
        return getattr(self, kind)(send=send, **payload)

    def generate(self, request: GenerateRequest, page: str, send) -> dict:
        """The answer's body. With ``request.stream``, ``send`` gets the stream's events as the words
        are written, and the returned body is the last event's."""
        generator = self.generator(request.model)
        index, sent = generator.vocabulary.index, [0]

        def on_words(words):
            shaped = responses.tokens(words, index, request.top_n, sent[0])
            send([responses.stream_event(sent[0] + offset, item) for offset, item in enumerate(shaped)])
            sent[0] = len(words)

        result = generator.generate(**request.arguments, originality=request.originality,
                                    on_words=on_words if request.stream else None)  # fmt: skip
        if not request.stream:
            return responses.generate_answer(result, index, request, page)
        full = request.details or request.originality
        return {"generated_text": responses.generated_text(result, request.return_full_text),
                "details": responses.stream_details(result, page, full)}  # fmt: skip

    def score(self, model: str, text: str, title: str | None, send) -> dict:
        return self.generator(model).score(text, title).to_dict()

    def originality(self, model: str, text: str, title: str | None, send) -> dict:
        return dataclasses.asdict(self.generator(model).originality(text))
