"""Generation results as plain text (a .txt download, the command line) and the originality panel's
HTML. The generated text itself is drawn by one renderer, the page's output view (``web.views`` and
``web/widget.js``, which puts every word in with ``textContent``).

Every character of the panel that came from a user, a URL or the corpus goes through
``html.escape`` (the reference marked its seed ``|safe``, so a script typed into the seed ran in the page).
"""

from __future__ import annotations

import math
from html import escape

from . import originality
from .generation import Generation
from .vocabulary import detokenize


def render_text(result: Generation) -> str:
    """Plain text for a .txt download."""
    settings = result.settings
    words = "until it ended" if settings.words is None else f"{settings.words} words"
    header = (
        f"patentrnn, model {result.model}: {words}, diversity {settings.diversity}, rng_seed {settings.rng_seed}"
    )
    if result.title_words:
        header += f"\n\nTitle: {result.title_text}"
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


# where a real patent sits, in a visitor's words (the page; the command line keeps the split's name)
PART_WORDS = {"train": "in the training text", "validation": "held out for validation", "test": "held out for testing"}


def _where(near) -> str:
    return PART_WORDS.get(near.part, near.part)


def _excerpt(first_words: str) -> str:
    return first_words.lstrip("\"'“ ")  # a CSV abstract may open with its quote


def _patent_link(document) -> str:
    """A patent's number linked to its page; a document of your own by its place in the corpus, unlinked."""
    if not document.url:
        return f'<span class="number">{escape(document.label)}</span>'
    link = f'<a class="number" href="{escape(document.url)}" target="_blank" rel="noopener noreferrer">'
    return f"{link}{escape(document.label)}</a>"


def render_originality_html(check: originality.Originality | None) -> str:
    """The panel under the output: the longest span copied from a training abstract and the
    closest real patents (in random mode, the abstract the seed came from is named apart).
    Empty when the check could not run (None): the result's notes then say, in one line, that it
    needs the corpus."""
    if check is None:
        return ""
    copy = check.longest_copy
    if copy is None:
        copied = '<p class="copied">Longest copied span: none (no word of this text is in a training abstract).</p>'
    else:
        unit = "word" if copy.length == 1 else "words"
        copied = (
            f'<p class="copied">Longest copied span: <b class="length">{copy.length} {unit}</b> from '
            f'{_patent_link(copy)} <span class="title">{escape(copy.title)}</span>: '
            f"<mark>{escape(detokenize(copy.words))}</mark></p>"
        )
    source = ""
    if check.source is not None:
        near = check.source
        source = (
            f'<p class="source">The seed comes from {_patent_link(near)} '
            f'<span class="title">{escape(near.title)}</span> <span class="meta">({escape(near.date)}, '
            f"{escape(_where(near))})</span>.</p>"
        )
    entries = "".join(
        f'<li class="near" data-patent="{escape(near.patent_number)}">{_patent_link(near)} '
        f'<span class="title">{escape(near.title)}</span> <span class="meta">{escape(near.date)}, '
        f"{escape(_where(near))}, similarity {near.score:.1f}</span>"
        f'<div class="excerpt">{escape(_excerpt(near.first_words))} …</div></li>'
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
            f"Longest copied span: {copy.length} word{'s' * (copy.length != 1)} from {copy.label}"
            + (f" ({copy.title})" if copy.title else "") + f", words {copy.start + 1}-{last + 1}:",
            f"  {detokenize(copy.words)}",
        ]
    if check.source is not None:
        near = check.source
        lines.append(f"The seed comes from {near.label} ({near.title}, {near.date}, {near.part} split).")
    lines.append("Closest real patents:")
    for near in check.prior_art:
        lines.append(f"  {near.label:<11}  {near.date:<10}  {near.part:<10}  BM25 {near.score:6.1f}  {near.title}")
        lines.append(f"      {_excerpt(near.first_words)} …")
    return "\n".join(lines)


def render_models(rows: list[dict]) -> str:
    """``patentrnn models``: a table of the bundles (``bundle.list_bundles``) and their test figures."""
    from .evaluation import MEMORISATION_SPAN, SHARE_KEY

    lines = [
        f"{'model':<28} {'corpus':<16} {'vocab':>7} {'log loss':>9} {'perplexity':>11} {'top-1':>7} {'top-5':>7}"
        f" {'+ cache':>8}"
        f" {f'copies {MEMORISATION_SPAN}+':>9} {'median copy':>11}"
    ]
    for row in rows:
        test, copies = row["test"], row.get("memorisation") or {}
        lines.append(
            f"{row['name'] + (' *' if row['default'] else ''):<28} {row['corpus'] or '?':<16} "
            f"{row['vocabulary'] or 0:>7} {_figure(test.get('log_loss'), '.4f', 9)} "
            f"{_figure(test.get('perplexity'), '.2f', 11)} {_figure(test.get('top1_accuracy'), '.2%', 7)} "
            f"{_figure(test.get('top5_accuracy'), '.2%', 7)} "
            f"{_figure((row.get('cache') or {}).get('test_log_loss_cache'), '.4f', 8)} "
            f"{_figure(copies.get(SHARE_KEY), '.1%', 9)} {_figure(copies.get('median_longest'), 'g', 11)}"
        )
    lines.append("* default model; metrics on each model's test split (a title model's: given each title)")
    lines.append("+ cache: log loss with the model's continuous cache, which scoring uses (`patentrnn cache`)")
    lines.append(
        f"copies {MEMORISATION_SPAN}+: share of generated texts holding a run of {MEMORISATION_SPAN}+ generated words"
        " of a training abstract (`patentrnn memorisation`; settings in each card)"
    )
    if any(not row["test"] for row in rows):
        lines.append("– not measured: a model trained on your own text has no test figures until "
                     "`patentrnn evaluate` (and `memorisation --write`, `cache --write`) gives them")  # fmt: skip
    lines += [line for row in rows for line in _title_lines(row)]
    return "\n".join(lines)


def _figure(value, spec: str, width: int) -> str:
    """A table cell: the figure, or "–" where there is none (never nan)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'–':>{width}}"
    return f"{value:>{width}{spec}}"


def _title_lines(row: dict) -> list[str]:
    """A title model's figures (``patentrnn title-figures --write``), under the table."""
    figures = row.get("title_figures") or {}
    if not figures:
        return []
    made, compared = figures["generation"], figures["compared_with"]
    ranks = made["own_abstract_bm25_rank"]
    lines = []
    for kind, words in (("network", "the network alone"), ("with_cache", "with the cache")):
        loss, free = (figures["test_log_loss"][part].get(kind) for part in ("all", "sibling_free"))
        if loss:
            topic = f" (and its topic {loss['given_title_and_topic']:.4f})" if "given_title_and_topic" in loss else ""
            lines.append(
                f"{row['name']}, {words}: test log loss given the title {loss['given_title']:.4f}{topic}, "
                f"without it {loss['without_title']:.4f}, {compared} {loss[compared]:.4f} (same "
                f"{figures['test_log_loss']['all']['abstracts']} abstracts); titles never seen in training "
                f"({figures['test_log_loss']['sibling_free']['abstracts']}): {free['given_title']:.4f} / "
                f"{free['without_title']:.4f} / {free[compared]:.4f}"
            )
    return [
        *lines,
        f"{row['name']}: written until it ends, median {made['lengths']['median']:g} words (real "
        f"{made['lengths']['real_median']:g}), {made['lengths']['ended_share']:.0%} ended by themselves; own abstract "
        f"in BM25's top 10: {ranks[row['name']]['top10_share']:.1%}{_without_topic(row['name'], ranks)} ({compared} "
        f"seeded with the title: {ranks[compared]['top10_share']:.1%})",
    ]


def _without_topic(name: str, ranks: dict) -> str:
    alone = ranks.get(f"{name} without its topic")
    return f", {alone['top10_share']:.1%} without its topic" if alone else ""


def render_score(score) -> str:
    """``patentrnn score``: each word's probability, rank and the model's top 5, then the totals."""
    from .scoring import BUCKET_NAMES

    lines = [f"{'word':<24} {'probability':>11} {'rank':>7}  the model's top 5"]
    for word in score.words:
        if word.rank is None:
            lines.append(f"{word.word[:24]:<24} {'(read)':>11}")
            continue
        top = ", ".join(f"{name} {p:.1%}" for name, p in word.alternatives)
        lines.append(f"{word.word[:24]:<24} {word.probability:>11.2%} {word.rank:>7,}  {top}")
    shares = " · ".join(f"{name} {share:.0%}" for name, share in zip(BUCKET_NAMES, score.shares))
    lines.append(
        f"\n{len(score.targets)} words scored by {score.model}: log loss {score.log_loss:.4f} nats a word, "
        f"perplexity {score.perplexity:.2f}; {shares}"
    )
    return "\n".join(lines)


def render_memorisation(name: str, row: dict, written: bool = False) -> str:
    """``patentrnn memorisation``: one line of a model's figures (``evaluation.memorisation``)."""
    from .evaluation import MEMORISATION_SPAN, SHARE_KEY

    line = (
        f"{name}: {row[SHARE_KEY]:.1%} of {row['n']} generations copy >= {MEMORISATION_SPAN} words; "
        f"longest copy median {row['median_longest']:g}, p90 {row['p90_longest']:g}, max {row['max_longest']}; "
        f"perplexity of the generated words {row['generated_perplexity']:g}, {row['generate_ms_median']:g} ms"
    )
    if row.get("max_copy") is not None:
        line += (
            f"; max_copy {row['max_copy']}: {row['steered_share']:.2%} of draws steered, removing "
            f"{row['mass_removed_mean']:.1%} of the probability each"
        )
    return line + (" (written to its card.json)" if written else "")


def render_evaluation(report: dict) -> str:
    """``patentrnn evaluate``'s report as one line of text."""
    line = (
        f"{report['model']} on {report['corpus']} ({report['abstracts']} abstracts, {report['targets']} targets, "
        f"{report['unk_target_share']:.1%} unknown): log loss {report['log_loss']:.4f}, perplexity "
        f"{report['perplexity']:.2f}, top-1 {report['top1_accuracy']:.2%}, top-5 {report['top5_accuracy']:.2%}"
    )
    reading = report.get("cache")
    if reading:
        network, cached = reading["log_loss_network"], reading["log_loss_cache"]
        line += f"; after each first word, {network:.4f}, with the cache {cached:.4f}"
        if "log_loss_topic" in reading:
            line += f", and the title's topic {reading['log_loss_topic']:.4f}"
    return line
