"""Where generation starts: a seed text, a title (title models), or a random real test abstract."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from . import corpus as corpus_module
from .errors import InputError
from .result import MAX_SEED_CHARACTERS, MAX_SEED_WORDS, MAX_TITLE_CHARACTERS, RANDOM_WINDOW
from .vocabulary import ABSTRACT_ID, TITLE_ID


@dataclass
class Start:
    """What the network reads before it writes, and what the result reports of it."""

    mode: str
    seed_words: list[str]
    context: list[int]  # title models: <title> title <abstract>, or <abstract>; [] otherwise
    unknown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    actual: list[str] | None = None
    title_words: list[str] | None = None


class Starts:
    """A bundle's starts: seeds and titles read as the model reads them, and its test abstracts."""

    def __init__(self, bundle):
        self.bundle, self.name, self.vocabulary = bundle, bundle.name, bundle.vocabulary
        self.titles = self.vocabulary.has_titles
        self._test_documents: list[tuple[list[str], list[str]]] | None = None

    def seed(self, seed: str) -> tuple[list[str], list[str], list[str]]:
        """Seed text to ``(words the network reads, unknown words, notes)``."""
        if not isinstance(seed, str):
            raise InputError("seed must be text")
        notes = []
        if len(seed) > MAX_SEED_CHARACTERS:
            seed = seed[-MAX_SEED_CHARACTERS:]
            notes.append(f"The seed was long: only its last {MAX_SEED_CHARACTERS:,} characters were read.")
        words = self.vocabulary.read(seed)
        if not words:
            raise InputError("Please enter a seed: it is empty.")
        if len(words) > MAX_SEED_WORDS:
            notes.append(f"The seed has {len(words):,} words: the network reads only the last {MAX_SEED_WORDS}.")
            words = words[-MAX_SEED_WORDS:]
        unknown = [word for word in words if word not in self.vocabulary.index]
        if len(unknown) == len(words):
            raise InputError("The model knows none of the seed's words: try a sentence about the model's subject.")
        return words, list(dict.fromkeys(unknown)), notes

    def title(self, title: str) -> tuple[list[str], list[int]]:
        """Title text to ``(its words, the ids the network reads first: <title> title <abstract>)``;
        ValueError for a model trained without titles, or an empty or over-long title."""
        if not self.titles:
            raise InputError(
                f"Model {self.name!r} was not trained with titles: choose a title model "
                "(trained with titles=True, `patentrnn train --titles`) or leave the title out."
            )
        if not isinstance(title, str):
            raise InputError("title must be text")
        if len(title) > MAX_TITLE_CHARACTERS:
            raise InputError(f"The title is too long: at most {MAX_TITLE_CHARACTERS} characters.")
        words = self.vocabulary.read(title)
        if not words:
            raise InputError("Please enter a title: it is empty.")
        return words, self.context(words)

    def context(self, title_words: list[str] | None) -> list[int]:
        """The ids a title model reads before an abstract: ``<title> title <abstract>``, or ``<abstract>``
        without a title; nothing for a model without titles."""
        if not self.titles:
            return []
        if not title_words:
            return [ABSTRACT_ID]
        return [TITLE_ID, *self.vocabulary.encode_words(title_words), ABSTRACT_ID]

    def test_documents(self) -> list[tuple[list[str], list[str]]]:
        """``(title words, abstract words)`` of each test-split abstract of the model's corpus
        (loaded once; titles [] where the corpus has none, or the model reads none)."""
        if self._test_documents is None:
            card = self.bundle.card
            name = card.get("corpus", {}).get("name")
            if not name:
                raise InputError(f"model {self.name!r} does not name its corpus")
            try:
                tokenize = self.vocabulary.tokenize
                # streamed: a serving kernel keeps only the test part in memory
                self._test_documents = [
                    (
                        tokenize(corpus_module.clean(record.patent_title)) if self.titles else [],
                        tokenize(record.abstract),
                    )
                    for _, record in corpus_module.records_of(card["corpus"], self.bundle.split, "test")
                ]
            except corpus_module.CorpusError as error:
                raise corpus_module.CorpusError(f"Random start needs the {name!r} corpus: {error}") from error
        return self._test_documents

    def start(self, seed: str | None, title: str | None, words: int, rng: random.Random) -> Start:
        """The mode, the words the network reads and what is reported of them."""
        context = self.context(None)
        if title is not None:
            title_words, context = self.title(title)
            unknown = [word for word in title_words if word not in self.vocabulary.index]
            start = Start("title", [], context, list(dict.fromkeys(unknown)), title_words=title_words)
            if seed is not None and (not isinstance(seed, str) or seed.strip()):
                start.seed_words, seed_unknown, start.notes = self.seed(seed)
                start.unknown = list(dict.fromkeys(start.unknown + seed_unknown))
            return start
        if seed is not None:
            seed_words, unknown, notes = self.seed(seed)
            return Start("seed", seed_words, context, unknown, notes)
        title_words, seed_words, actual = self.random_window(words, rng)
        context = self.context(title_words)
        return Start("random", seed_words, context, actual=actual, title_words=title_words if self.titles else None)

    def random_window(self, words: int, rng: random.Random) -> tuple[list[str], list[str], list[str]]:
        """``(title words, seed words, the real continuation)`` from a random test abstract. A title
        model reads the title, then the abstract's first ``RANDOM_WINDOW`` words (half a shorter one)."""
        if self.titles:
            documents = [d for d in self.test_documents() if len(d[1]) >= 2]
            if not documents:
                raise InputError("the model's corpus has no test abstract")
            title, abstract = documents[rng.randrange(len(documents))]
            end = min(RANDOM_WINDOW, len(abstract) // 2)
            return title, abstract[:end], abstract[end : end + words] if words else abstract[end:]
        documents = [d for d in self.test_documents() if len(d[1]) > RANDOM_WINDOW]
        if not documents:
            raise InputError(f"no test abstract of the model's corpus is longer than {RANDOM_WINDOW} words")
        long_enough = [d for d in documents if len(d[1]) >= RANDOM_WINDOW + words] or documents
        title, abstract = long_enough[rng.randrange(len(long_enough))]
        start = rng.randrange(max(len(abstract) - RANDOM_WINDOW - words, 0) + 1)
        return title, abstract[start : start + RANDOM_WINDOW], abstract[start + RANDOM_WINDOW :][:words]
