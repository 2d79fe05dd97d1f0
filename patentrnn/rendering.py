"""Generation results as HTML and plain text.

Every character that came from a user, a URL or the corpus goes through
``html.escape`` (the reference marked its seed ``|safe``, so a script typed into
the seed ran in the page). The look follows the reference: the seed, then the
network's words in red; a random start shows Seed / RNN generated / Actual, side
by side on a wide screen and stacked on a narrow one. Hovering a generated word
shows its probability and the model's top alternatives.
"""

from __future__ import annotations

from html import escape

from . import originality
from .generation import Generation
from .vocabulary import detokenize

STYLE = """<style>
.patentrnn-output { font-family: Georgia, 'Times New Roman', serif; font-size: 1.05em; line-height: 1.6; }
.patentrnn-output .generated { color: red; }
.patentrnn-output .word { cursor: help; }
.patentrnn-output .word:hover { background: #ffecec; }
.patentrnn-output .blocks { display: flex; flex-wrap: wrap; gap: 1em; }
.patentrnn-output .block { flex: 1 1 18em; min-width: 0; border: 1px solid #ddd; border-radius: 4px;
  padding: 0.5em 1em; }
.patentrnn-output .block h4 { margin: 0.2em 0 0.4em; font-family: sans-serif; }
.patentrnn-output .notes { color: #555; font-family: sans-serif; font-size: 0.85em; }
.patentrnn-output [data-copied] { background: #ffe58a; border-radius: 2px; }
</style>"""


def _tooltip(item) -> str:
    alternatives = ", ".join(f"{word} {probability:.1%}" for word, probability in item.alternatives)
    return f"p = {item.probability:.2%}; top alternatives: {alternatives}"


def _copied(result: Generation) -> range:
    """Positions, among seed plus generated words, of the longest span copied from a training abstract."""
    copy = result.originality.longest_copy if result.originality else None
    return range(copy.start, copy.start + copy.length) if copy else range(0)


def _copied_attribute(position: int, copied: range) -> str:
    # data-copied holds the word's position in the checked text; a browser test reads it
    return f' data-copied="{position}"' if position in copied else ""


def generated_spans(result: Generation, copied: range = range(0)) -> str:
    """The generated words, each a span whose title shows its probability and alternatives;
    punctuation sits against the word before it, as in ``detokenize``. Words at positions
    in ``copied`` (counted from the seed's first word) carry ``data-copied``."""
    parts, offset = [], len(result.seed_words)
    for position, item in enumerate(result.generated, offset):
        mark = _copied_attribute(position, copied)
        span = f'<span class="word" title="{escape(_tooltip(item))}"{mark}>{escape(item.word)}</span>'
        parts.append(span if item.word in ".,;?" or not parts else " " + span)
    return "".join(parts)


def _seed_html(result: Generation, copied: range) -> str:
    """The seed, escaped; its words in ``copied`` wrapped in ``<span data-copied>``."""
    if not any(position in copied for position in range(len(result.seed_words))):
        return escape(result.seed_text)
    parts = []
    for position, word in enumerate(result.seed_words):
        text = escape(word)
        if position in copied:
            text = f"<span{_copied_attribute(position, copied)}>{text}</span>"
        parts.append(text if word in ".,;?" or not parts else " " + text)
    return "".join(parts)


def _notes(result: Generation) -> str:
    notes = list(result.notes)
    if result.unknown_words:
        shown = ", ".join(result.unknown_words[:20]) + (" …" if len(result.unknown_words) > 20 else "")
        notes.append(f"Words the model does not know (read as unknown): {shown}")
    if not notes:
        return ""
    return '<div class="notes">' + "<br>".join(escape(note) for note in notes) + "</div>"


def render_html(result: Generation) -> str:
    """An HTML fragment (with its own style) showing the result."""
    copied = _copied(result)
    seed = _seed_html(result, copied)
    generated = generated_spans(result, copied)
    if result.mode == "random":
        body = (
            '<div class="blocks">'
            f'<div class="block seed"><h4>Seed</h4>{seed}</div>'
            f'<div class="block rnn"><h4>RNN generated</h4><span class="generated">{generated}</span></div>'
            f'<div class="block actual"><h4>Actual</h4>{escape(result.actual_text or "")}</div>'
            "</div>"
        )
    else:
        body = f'<div class="text"><span class="seed">{seed}</span> <span class="generated">{generated}</span></div>'
    return f'{STYLE}<div class="patentrnn-output">{body}{_notes(result)}</div>'


def render_text(result: Generation) -> str:
    """Plain text for a .txt download."""
    settings = result.settings
    header = (
        f"patentrnn, model {result.model}: {settings['words']} words, diversity {settings['diversity']}, "
        f"rng_seed {settings['rng_seed']}"
    )
    if result.mode == "random":
        return (
            f"{header}\n\nSeed:\n{result.seed_text}\n\nRNN generated:\n{result.generated_text}\n\n"
            f"Actual:\n{result.actual_text}\n"
        )
    return f"{header}\n\n{detokenize(result.seed_words + result.generated_words)}\n"


ORIGINALITY_STYLE = """<style>
.patentrnn-originality { font-family: sans-serif; font-size: 0.9em; margin-top: 0.6em; }
.patentrnn-originality h4 { margin: 0.6em 0 0.3em; }
.patentrnn-originality ol { margin: 0; padding-left: 1.6em; }
.patentrnn-originality li { margin-bottom: 0.4em; }
.patentrnn-originality .meta, .patentrnn-originality .excerpt { color: #555; }
.patentrnn-originality .excerpt { font-family: Georgia, 'Times New Roman', serif; }
.patentrnn-originality mark { background: #ffe58a; }
</style>"""


def _patent_link(number: str, url: str) -> str:
    return f'<a class="number" href="{escape(url)}" target="_blank" rel="noopener noreferrer">US{escape(number)}</a>'


def render_originality_html(result: Generation) -> str:
    """The panel under the output: the longest span copied from a training abstract and the
    closest real patents (in random mode, the abstract the seed came from is named apart).
    Empty when the check could not run: the result's notes then say, in one line, that it
    needs the corpus."""
    check = result.originality
    if check is None:
        return ""
    copy = check.longest_copy
    if copy is None:
        copied = '<p class="copied">Longest copied span: none (no word of this text is in a training abstract).</p>'
    else:
        unit = "word" if copy.length == 1 else "words"
        copied = (
            f'<p class="copied">Longest copied span: <b class="length">{copy.length} {unit}</b> from '
            f'{_patent_link(copy.patent_number, copy.url)} <span class="title">{escape(copy.title)}</span>: '
            f"<mark>{escape(detokenize(copy.words))}</mark></p>"
        )
    source = ""
    if check.source is not None:
        near = check.source
        source = (
            f'<p class="source">The seed comes from {_patent_link(near.patent_number, near.url)} '
            f'<span class="title">{escape(near.title)}</span> <span class="meta">({escape(near.date)}, '
            f"{escape(near.part)} split)</span>.</p>"
        )
    entries = "".join(
        f'<li class="near" data-patent="{escape(near.patent_number)}">{_patent_link(near.patent_number, near.url)} '
        f'<span class="title">{escape(near.title)}</span> <span class="meta">{escape(near.date)}, '
        f"{escape(near.part)} split, BM25 {near.score:.1f}</span>"
        f'<div class="excerpt">{escape(near.first_words)} …</div></li>'
        for near in check.prior_art
    )
    return (
        f'{ORIGINALITY_STYLE}<div class="patentrnn-originality">{copied}{source}'
        f'<h4>Closest real patents</h4><ol class="nearest">{entries}</ol></div>'
    )


def render_originality_text(check: originality.Originality) -> str:
    """The originality check as plain text (the command line's)."""
    copy = check.longest_copy
    if copy is None:
        lines = ["Longest copied span: none (no word of this text is in a training abstract)."]
    else:
        last = copy.start + copy.length - 1
        lines = [
            f"Longest copied span: {copy.length} word{'s' * (copy.length != 1)} from US{copy.patent_number} "
            f"({copy.title}), words {copy.start + 1}-{last + 1}:",
            f"  {detokenize(copy.words)}",
        ]
    if check.source is not None:
        near = check.source
        lines.append(f"The seed comes from US{near.patent_number} ({near.title}, {near.date}, {near.part} split).")
    lines.append("Closest real patents:")
    for near in check.prior_art:
        lines.append(f"  US{near.patent_number}  {near.date}  {near.part:<10}  BM25 {near.score:6.1f}  {near.title}")
        lines.append(f"      {near.first_words} …")
    return "\n".join(lines)
