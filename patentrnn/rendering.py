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
</style>"""


def _tooltip(item) -> str:
    alternatives = ", ".join(f"{word} {probability:.1%}" for word, probability in item.alternatives)
    return f"p = {item.probability:.2%}; top alternatives: {alternatives}"


def generated_spans(result: Generation) -> str:
    """The generated words, each a span whose title shows its probability and alternatives;
    punctuation sits against the word before it, as in ``detokenize``."""
    parts = []
    for item in result.generated:
        span = f'<span class="word" title="{escape(_tooltip(item))}">{escape(item.word)}</span>'
        parts.append(span if item.word in ".,;?" or not parts else " " + span)
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
    seed = escape(result.seed_text)
    generated = generated_spans(result)
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
