"""widget.js's builders in Chromium, on a blank page (``page.set_content``): no server, no kernel. The
views are the ones the kernel sends (``views.View.wire``), made from real generations.

Needs Chromium (a missing one fails the test: CI installs it)."""

from __future__ import annotations

import json

import pytest
from voila_server import ROOT

from patentrnn.corpus import PUNCTUATION
from patentrnn.scoring import BUCKET_NAMES
from patentrnn.web.views import analysis_view, view_of

pytestmark = pytest.mark.browser
BUILDERS = ["wordsOf", "summaryOf", "cardOf", "bodyOf", "placeCard", "toolbarOf"]
HOSTILE = "<img src=x onerror=window.hacked=1> A neural network"


@pytest.fixture(scope="module")
def blank(browser):
    """A page holding widget.js's exported builders as ``window.builders``."""
    page = browser.new_page(viewport={"width": 800, "height": 600})
    page.set_content("<!doctype html><html><body><div id=out></div></body></html>")
    source = (ROOT / "patentrnn" / "web" / "widget.js").read_text()
    page.add_script_tag(content=source + f"\nwindow.builders = {{ {', '.join(BUILDERS)} }};", type="module")
    page.wait_for_function("() => window.builders !== undefined")
    yield page
    page.close()


def draw(page, view) -> None:
    page.evaluate(
        """([view, punctuation]) => {
             const out = document.getElementById("out");
             out.replaceChildren(...window.builders.bodyOf(view, new Set(punctuation)));
           }""",
        [json.loads(json.dumps(view)), list(PUNCTUATION)],
    )


def test_a_generation_draws_every_word_with_its_rank_and_escapes_the_seed(blank, default_generator):
    result = default_generator.generate(HOSTILE, words=20, rng_seed=3, originality=False)
    draw(blank, view_of(default_generator, result).wire())
    words = blank.locator("#out .generated .word")
    assert words.count() == 20
    assert words.all_inner_texts() == result.generated_words
    ranks = blank.eval_on_selector_all("#out .generated .word", "e => e.map(w => Number(w.dataset.rank))")
    assert ranks == [item.rank for item in result.generated]
    assert blank.locator("#out img").count() == 0 and blank.evaluate("() => window.hacked") is None
    assert "<img" in blank.locator("#out .given").inner_text(), "the seed is shown as text"


def test_random_mode_is_three_blocks_side_by_side(blank, default_generator):
    result = default_generator.generate(words=12, rng_seed=5, originality=False)
    draw(blank, view_of(default_generator, result).wire())
    assert blank.locator("#out .blocks .block").count() >= 2
    titles = blank.locator("#out .block h4").all_inner_texts()
    assert titles[-1] and len(blank.locator("#out .block").last.locator(".word").all()) == 12


def test_a_card_offers_the_top_five_and_reports_the_click(blank, default_generator):
    result = default_generator.generate("A neural network", words=5, rng_seed=1, originality=False)
    item = next(word for word in view_of(default_generator, result).wire()["blocks"][-1]["words"] if word["net"])
    chosen = blank.evaluate(
        """item => {
             let clicked = null;
             const parts = window.builders.cardOf(item, (name) => { clicked = name; });
             document.getElementById("out").replaceChildren(...parts);
             const buttons = [...document.querySelectorAll("#out button.alternative")];
             buttons[1].click();
             return { clicked, names: buttons.map(b => b.querySelector(".alternative-word").textContent),
                      facts: document.querySelector("#out .card-facts").textContent };
           }""",
        item,
    )
    assert chosen["names"] == [name for name, _ in item["alt"]] and len(chosen["names"]) == 5
    assert chosen["clicked"] == chosen["names"][1]
    assert f"rank {item['r']}" in chosen["facts"]


def test_an_analysis_draws_the_perplexity_and_the_shares(blank, default_generator):
    view = analysis_view(default_generator.score("A neural network is trained on images of handwritten digits.")).wire()
    count = blank.evaluate(
        """([view, buckets]) => {
             const parts = window.builders.summaryOf(view, buckets);
             document.getElementById("out").replaceChildren(...parts);
             return document.querySelectorAll("#out table.shares td").length;
           }""",
        [view, list(BUCKET_NAMES)],
    )
    assert count == len(BUCKET_NAMES)
    assert blank.locator("#out .perplexity").inner_text().startswith("Perplexity under this model: ")
