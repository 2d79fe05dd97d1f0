"""Word-level vocabulary: tokenize, encode, decode, detokenize, JSON round-trip.

Tokenizing follows the Keras 2 ``Tokenizer`` the reference used (Keras 3 no longer
ships it): case kept, every character in ``filters`` becomes a space, split on
spaces. ``. , ?`` are not filtered, and cleaning spaced them out, so they are
tokens of their own. Ids are ordered by frequency in the training texts, as the
Keras tokenizer did; id 0 pads and id 1 stands for any unknown word.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .corpus import PUNCTUATION, clean, strip_controls
from .errors import InputError

REFERENCE_FILTERS = '!"%;[\\]^_`{|}~\t\n'
PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
# A title model's structure tags (TrainConfig.titles): ``<title> title words <abstract> abstract words <end>``.
# They follow <pad> and <unk>; typed text never produces them (``encode_words`` reads them as <unk>).
TITLE, ABSTRACT, END = "<title>", "<abstract>", "<end>"
TITLE_ID, ABSTRACT_ID, END_ID = 2, 3, 4
MARKERS = (TITLE, ABSTRACT, END)
_ATTACHED_PUNCT = re.compile(rf"\s+([{re.escape(PUNCTUATION)}])")


def tokenize(text: str, filters: str = REFERENCE_FILTERS) -> list[str]:
    """Split cleaned text into words as Keras 2's ``text_to_word_sequence(lower=False)``.

    Examples:
        >>> tokenize('A "neural" network ; it learns .')
        ['A', 'neural', 'network', 'it', 'learns', '.']
    """
    table = str.maketrans({character: " " for character in filters})
    return [word for word in text.translate(table).split(" ") if word]


def read_words(text: str, filters: str = REFERENCE_FILTERS) -> list[str]:
    """Words of text someone typed, as a model reads them: control characters to spaces,
    then cleaned and tokenized as training text is (seeds, analysed and checked texts)."""
    return tokenize(clean(strip_controls(text)), filters)


def read_input(text, max_characters: int, what: str, filters: str = REFERENCE_FILTERS) -> list[str]:
    """The words of a text a visitor gave to be analysed or checked (``read_words``), or a ValueError
    in one line: not a string, over ``max_characters``, or empty. ``what`` names it: "analyse", "check"."""
    if not isinstance(text, str):
        raise InputError(f"the text to {what} must be a string")
    if len(text) > max_characters:
        raise InputError(f"The text is too long to {what}: {len(text):,} characters, at most {max_characters:,}.")
    words = read_words(text, filters)
    if not words:
        raise InputError(f"Please give a text to {what}: it is empty.")
    return words


def detokenize(words: Iterable[str]) -> str:
    """Join words, putting punctuation back against the word before it.

    Examples:
        >>> detokenize(['A', 'network', ',', 'trained', '.'])
        'A network, trained.'
    """
    return _ATTACHED_PUNCT.sub(r"\1", " ".join(words))


def word_text(word: str, first: bool = False) -> str:
    """What ``word`` adds to the text :func:`detokenize` writes: joined after the words before it
    (punctuation against the word before it), so that the pieces of a text add up to it.

        >>> "".join(word_text(word, i == 0) for i, word in enumerate(['A', 'network', ',', 'trained']))
        'A network, trained'
    """
    return word if first or word[:1] in PUNCTUATION else " " + word


@dataclass
class Vocabulary:
    """Maps words to ids and back. ``words[i]`` is the word of id ``i``."""

    words: list[str]
    filters: str = REFERENCE_FILTERS

    def __post_init__(self) -> None:
        if self.words[:2] != [PAD, UNK]:
            raise ValueError("a vocabulary starts with the padding and unknown-word entries")
        self.index = {word: position for position, word in enumerate(self.words)}

    @property
    def has_titles(self) -> bool:
        """Whether this is a title model's vocabulary (it holds the structure tags)."""
        return self.words[2:5] == list(MARKERS)

    @classmethod
    def build(
        cls, texts: Iterable[str], min_count: int = 1, filters: str = REFERENCE_FILTERS, titles: bool = False
    ) -> Vocabulary:
        """Every word seen at least ``min_count`` times, most frequent first
        (ties keep first appearance, as Keras's tokenizer did); ``titles`` adds the structure tags."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(tokenize(text, filters))
        special = [PAD, UNK, *MARKERS] if titles else [PAD, UNK]
        kept = [word for word, count in counts.most_common() if count >= min_count and word not in special]
        vocabulary = cls([*special, *kept], filters)
        vocabulary.counts = {word: counts[word] for word in kept}
        return vocabulary

    def __len__(self) -> int:
        return len(self.words)

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.filters)

    def read(self, text: str) -> list[str]:
        """``read_words`` with this vocabulary's filters."""
        return read_words(text, self.filters)

    def encode_words(self, words: Sequence[str]) -> list[int]:
        return [UNK_ID if word in MARKERS else self.index.get(word, UNK_ID) for word in words]

    def encode(self, text: str) -> list[int]:
        """Text to ids; unknown words become ``UNK_ID``."""
        return self.encode_words(self.tokenize(text))

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[int(i)] for i in ids]

    def detokenize(self, ids: Iterable[int]) -> str:
        return detokenize(self.decode(ids))

    def to_json(self) -> str:
        return json.dumps({"filters": self.filters, "words": self.words}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("words"), list):
            raise ValueError("vocabulary JSON must be an object with a 'words' list")
        return cls(list(data["words"]), data.get("filters", REFERENCE_FILTERS))
