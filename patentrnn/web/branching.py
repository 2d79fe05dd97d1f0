"""Branching, shared by the page (``app.App``) and a result shown in a notebook (``display``): a card's
alternative was clicked, so the text up to it is kept, the word put there, and the model writes on
with the same settings and a new rng seed."""

from __future__ import annotations

import dataclasses
import logging

from ..errors import InputError
from ..result import MAX_SEED_WORDS, Settings
from .views import View, Word, view_of

log = logging.getLogger(__name__)


def choice(view: View, block, index, word) -> tuple[list[Word], Word]:
    """The words kept before the clicked card (its block's context first) and the word the card is
    for; an InputError when the click matches nothing shown (the page can send anything)."""
    try:
        if type(block) is not int or type(index) is not int or block < 0 or index < 0:
            raise TypeError
        item = view.blocks[block].words[index]
        if word not in [name for name, _ in item.alternatives]:
            raise ValueError
    except (TypeError, IndexError, ValueError):
        log.warning("branch request that matches nothing on the page: %r", (block, index, str(word)[:80]))
        raise InputError("That choice is no longer on the page.") from None
    prefix = view.blocks[block].context + view.blocks[block].words[:index]
    if len(prefix) + 1 > MAX_SEED_WORDS:
        raise InputError(f"The text is too long to branch: pick a word among its first {MAX_SEED_WORDS}.")
    return prefix, item


def settings_of(result) -> Settings:
    """A generation's settings, to write on with (random mode: with the real title it read)."""
    settings = result.settings
    if result.title_words and settings.title is None:
        settings = dataclasses.replace(settings, title=result.title_text)
    return settings


def branched(generator, prefix: list[Word], word: str, settings: Settings):
    """``(the new view, the new generation)``: ``word`` after ``prefix``, and what the model writes on."""
    result, scored = generator.branch([kept.word for kept in prefix], word, settings)
    chosen = dataclasses.replace(Word.scored(scored, net=True), chosen=True)
    return view_of(generator, result, prefix, chosen), result
