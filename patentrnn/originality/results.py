"""What an originality check reports: the longest copied span and the closest real patents."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from ..errors import InputError


def patent_url(number: str) -> str:
    """The patent's public page ("" for a document of your own, which has no patent number)."""
    return f"https://patents.google.com/patent/US{quote(number, safe='')}" if number else ""


class Named:
    """How a document is named: its patent number, or (your own documents) its place in the corpus."""

    @property
    def label(self) -> str:
        return f"US{self.patent_number}" if self.patent_number else f"document {self.document}"


@dataclass
class CopiedSpan(Named):
    """The longest run of the text's words found word for word in one training abstract."""

    words: list[str]
    length: int
    start: int  # position of its first word among the text's words (as tokenized)
    patent_number: str
    title: str
    date: str
    url: str
    document: int = 0  # its place in the corpus file, from 1 (a row, a line or a paragraph)


@dataclass
class NearPatent(Named):
    """A real abstract of the model's corpus close to the text (BM25)."""

    patent_number: str
    title: str
    date: str
    score: float
    part: str  # train, validation or test
    first_words: str
    url: str
    source: bool = False  # random start: the abstract the seed came from, not prior art
    document: int = 0  # its place in the corpus file, from 1


@dataclass
class Originality:
    """What ``Generator.originality`` found."""

    words: int  # words checked
    seed_words: int  # the first words, the user's, where a copy may start but not lie wholly
    longest_copy: CopiedSpan | None  # None: no word of the text is in a training abstract
    nearest: list[NearPatent]  # the NEAREST closest (none share a word: empty); random mode: the source first
    corpus: str
    timings: dict = field(default_factory=dict)  # milliseconds

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a notebook, the page's originality panel (``web.display``); plain text elsewhere."""
        from ..web.display import originality_bundle

        return originality_bundle(self)

    @property
    def copied_words(self) -> int:
        return self.longest_copy.length if self.longest_copy else 0

    @property
    def prior_art(self) -> list[NearPatent]:
        return [near for near in self.nearest if not near.source]

    @property
    def source(self) -> NearPatent | None:
        return next((near for near in self.nearest if near.source), None)


class OriginalityUnavailable(InputError):
    """The index cannot be built: the corpus is missing or is not the model's."""
