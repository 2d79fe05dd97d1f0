"""End to end: after Generate, the page shows the closest real patents and highlights the
longest copied span, the same span the Python API reports for the same settings.

Needs Chromium (Debian's /usr/bin/chromium or $PATENTRNN_CHROMIUM) and $PATENTRNN_DATA;
a missing browser fails the test.
"""

from __future__ import annotations

import pytest

import patentrnn
from patentrnn.web.query import NO_COPY

pytestmark = pytest.mark.browser
SEED = "A method of training a neural network"
RNG_SEED = 7




def test_panel_after_generate_matches_the_api(server, page, data_dir):
    page.goto(server, timeout=60_000)
    page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)
    assert page.locator(".patentrnn-originality-widget .near").count() == 0
    page.locator(".patentrnn-seed textarea").fill(SEED)
    page.get_by_placeholder("random").fill(str(RNG_SEED))
    page.locator(".patentrnn-generate").click()

    entries = page.locator(".patentrnn-originality-widget li.near")
    entries.first.wait_for(timeout=60_000)
    assert entries.count() == 3

    # the same generation through the API: the default model, the form's default words and diversity
    expected = patentrnn.load().generate(  # as the page generates: its copy guard is on by default
        seed=SEED, words=50, diversity=0.8, rng_seed=RNG_SEED, max_copy=NO_COPY
    ).originality
    copy = expected.longest_copy
    highlighted = page.locator(".patentrnn-output-widget [data-copied]")
    assert highlighted.all_inner_texts() == copy.words
    positions = [int(element.get_attribute("data-copied")) for element in highlighted.element_handles()]
    assert positions == list(range(copy.start, copy.start + copy.length))
    assert highlighted.first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 229, 138)"

    panel = page.locator(".patentrnn-originality-widget .patentrnn-originality")
    unit = "word" if copy.length == 1 else "words"
    assert f"Longest copied span: {copy.length} {unit} from US{copy.patent_number}" in panel.inner_text()
    for entry, near in zip(entries.all(), expected.nearest):
        link = entry.locator("a.number")
        assert link.inner_text() == f"US{near.patent_number}"
        assert link.get_attribute("href") == f"https://patents.google.com/patent/US{near.patent_number}"
        assert near.title in entry.inner_text() and near.date in entry.inner_text()
