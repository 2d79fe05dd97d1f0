"""The form as it will look, in plain HTML: painted with the page's first response, before any script
(the template's preview.html, and ``patentrnn serve``'s pages through ``page_config``). It is drawn from
``Query``'s defaults and the models the form will offer, so it names what the live form will show."""

from __future__ import annotations

from html import escape

from ..bundle import DEFAULT_MODEL
from .labels import NO_COPY_LABEL, SAMPLINGS, SEED_PLACEHOLDER, STARTS, model_label
from .query import DIVERSITY, WORDS, Query


def _row(label: str, body: str, kind: str = "") -> str:
    return f'  <div class="pv-row{kind}"><span class="pv-label">{escape(label)}</span>{body}</div>\n'


def _slider(label: str, value: float, bounds: tuple, readout: str) -> str:
    left = 100 * (value - bounds[0]) / (bounds[1] - bounds[0])
    handle = f'<span class="pv-slider"><span class="pv-handle" style="left: {left:.1f}%"></span></span>'
    return "  " + _row(label, f'{handle}<span class="pv-readout">{escape(readout)}</span>')


def _field(text: str, kind: str = "", placeholder: bool = False) -> str:
    classes = "pv-field" + kind + (" pv-placeholder" if placeholder else "")
    return f'<span class="{classes}">{escape(text)}</span>'


def render(models: list[dict]) -> str:
    """The preview's HTML for a form offering ``models`` (``bundle.list_bundles`` rows)."""
    query = Query()
    chosen = next((row for row in models if row["name"] == DEFAULT_MODEL), models[0] if models else None)
    model = model_label(chosen) if chosen else "no models found"
    toggles = "".join(
        f'<span class="pv-toggle{" pv-on" if value == query.start else ""}">{escape(label)}</span>'
        for label, value in STARTS
    )
    sampling = dict((value, label) for label, value in SAMPLINGS)[query.sampling]
    box = " pv-on" if query.max_copy is not None else ""
    return (
        '<div class="patentrnn-preview" aria-label="The form, loading">\n'
        + _row("Start from", f'<span class="pv-options">{toggles}</span>', " pv-start")
        + _row("Model", _field(model, " pv-select"))
        + _row("Seed", _field(query.seed or SEED_PLACEHOLDER, " pv-textarea", not query.seed), " pv-seed")
        + '  <div class="pv-settings">\n'
        + _slider("Diversity", query.diversity, DIVERSITY, f"{query.diversity:.2f}")
        + _slider("Words", query.words, WORDS, str(query.words))
        + "  " + _row("Sampling", _field(sampling, " pv-select"))
        + "  " + _row("rng seed", _field("random", placeholder=True))
        + f'    <div class="pv-row pv-check"><span class="pv-box{box}"></span>{escape(NO_COPY_LABEL)}</div>\n'
        + "  </div>\n"
        + '  <div class="pv-actions"><button type="button" class="patentrnn-preview-generate">Generate</button>'
        '<span class="patentrnn-loading" role="status">Loading the live form…</span></div>\n'
        '  <noscript><p class="patentrnn-noscript">The form needs JavaScript: please turn it on for this page.</p>'
        "</noscript>\n</div>\n"
    )


HEADER = "{#- Written by `python -m patentrnn.web.preview` (patentrnn/web/preview.py): do not edit. -#}\n"


if __name__ == "__main__":  # the template's copy, for servers without patentrnn serve's page_config (Binder)
    from ..bundle import list_bundles
    from ..settings import TEMPLATES

    (TEMPLATES / "voila" / "templates" / "patentrnn" / "preview.html").write_text(HEADER + render(list_bundles()))
