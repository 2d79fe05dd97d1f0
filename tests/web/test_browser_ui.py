"""End to end, as a visitor on a phone and on a wide screen: layout, word cards, branching and
undo, colour by rank, "Analyse text", and hostile input. Headless Chromium through Playwright.

Needs Chromium (Debian's /usr/bin/chromium or $PATENTRNN_CHROMIUM) and $PATENTRNN_DATA; a
missing browser fails these tests. ``PATENTRNN_UPDATE_SCREENSHOT=1`` copies the screenshots
taken at both sizes to notebooks/ for the README.
"""

from __future__ import annotations

import os
import re
import shutil
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from voila_server import ROOT

import patentrnn
from patentrnn.bundle import DEFAULT_MODEL, load_bundle
from patentrnn.corpus import load_corpus, split_abstracts

pytestmark = pytest.mark.browser
PHONE, WIDE = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
SIZES = pytest.mark.parametrize("size", [PHONE, WIDE], ids=["390x844", "1280x900"])
SEED = "A method of training a neural network"
HOSTILE = ["<img src=x onerror=alert(1)>", '"><script>alert(2)</script>', "<svg/onload=alert(3)>"]
SCREENSHOTS = {390: "app-phone.png", 1280: "app.png"}
VIEW = ".patentrnn-output-widget"


@pytest.fixture
def open_page(browser, server):
    contexts = []

    def open_page(size=WIDE, query=""):
        context = browser.new_context(viewport=size, has_touch=size is PHONE)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(server + query, timeout=60_000)
        page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            page.close(run_before_unload=True)  # lets the server shut the page's kernel down
        context.close()


def generate(page, seed=SEED, rng_seed="11"):
    page.locator(".patentrnn-seed textarea").fill(seed)
    page.get_by_placeholder("random").fill(rng_seed)
    page.locator(".patentrnn-generate").click()
    page.locator(f"{VIEW} .generated .word").first.wait_for(timeout=30_000)
    page.mouse.move(0, 0)  # (the emulated pointer rests on no word: scrolling under it would open a card)


def net_words(page) -> list[str]:
    return page.locator(f"{VIEW} .generated .word").all_inner_texts()


SHOWN_TEXT = """() => {
    const body = document.querySelector('.patentrnn-view .body');
    if (!body) return '';
    const copy = body.cloneNode(true);
    copy.querySelectorAll('.card').forEach((card) => card.remove());  // an open card sits in the text
    return copy.querySelector('.word') ? copy.textContent.replace(/\\s+/g, ' ').trim() : '';
}"""


def shown_text(page) -> str:
    """The output's words as text, without an open card."""
    return page.evaluate(SHOWN_TEXT)


def wait_for_change(page, before: str):
    page.wait_for_function(f"before => {{ const now = ({SHOWN_TEXT})(); return now && now !== before; }}", arg=before,
                           timeout=30_000)  # fmt: skip


def card_of(page, word):
    word.scroll_into_view_if_needed()
    page.wait_for_timeout(150)  # a scroll closes an open card: let it settle first
    word.hover()
    card = page.locator(f'{VIEW} [role="tooltip"]')
    card.wait_for(state="visible", timeout=5_000)
    return card


# --- layout -------------------------------------------------------------------------------

CONTROLS = [
    ".patentrnn-start button >> nth=0",
    ".patentrnn-start button >> nth=1",
    ".patentrnn-start button >> nth=2",
    ".patentrnn-control select >> nth=0",
    ".patentrnn-seed textarea",
    ".patentrnn-control .noUi-handle >> nth=0",
    ".patentrnn-control .noUi-handle >> nth=1",
    ".patentrnn-control select >> nth=1",
    ".patentrnn-control input[placeholder=random]",
    ".patentrnn-generate",
    f"{VIEW} .colour-box",
    f"{VIEW} .undo",
    ".patentrnn-permalink",
    ".patentrnn-download",
]


@SIZES
def test_every_control_is_visible_and_clickable_without_horizontal_scrolling(open_page, size, tmp_path):
    page = open_page(size)
    generate(page)
    for selector in CONTROLS:
        control = page.locator(selector)
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, f"{selector} is not visible"
        assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5, f"{selector} runs off the screen"
        hit = control.evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
            " return hit === e || e.contains(hit); }"
        )
        assert hit, f"{selector}: another element takes the pointer at its centre"
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, innerWidth,"
        " Math.max(...[...document.querySelectorAll('body *')].map(e =>"
        " ['auto', 'scroll'].includes(getComputedStyle(e).overflowX) && !e.matches('textarea, select, input')"
        " ? e.scrollWidth - e.clientWidth : 0))]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    assert widths[2] <= 1, f"a panel scrolls sideways by {widths[2]} px"
    # the phone's "Random real abstract": the control the old page hid
    page.get_by_role("button", name="Random real abstract").click()
    expect(page.locator(".patentrnn-seed textarea")).to_be_disabled()
    # the README's screenshots: the output with a word's card open
    page.get_by_role("button", name="My seed text").click()
    page.evaluate("() => document.querySelector('h1, .patentrnn-app').scrollIntoView()")  # the page's top
    words = page.locator(f"{VIEW} .generated .word")
    card_of(page, words.nth(min(6, words.count() - 1)))
    path = tmp_path / SCREENSHOTS[size["width"]]
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get("PATENTRNN_UPDATE_SCREENSHOT") == "1":
        shutil.copy(path, ROOT / "notebooks" / path.name)


def test_the_readme_shows_both_screenshots():
    readme = (ROOT / "README.md").read_text()
    for name in SCREENSHOTS.values():
        assert f"notebooks/{name}" in readme and (ROOT / "notebooks" / name).is_file()


# --- cards, branching, undo -------------------------------------------------------------------


@SIZES
def test_a_word_opens_a_card_with_five_alternatives(open_page, size):
    page = open_page(size)
    generate(page)
    words = page.locator(f"{VIEW} .generated .word")
    assert words.count() == 50
    first = words.first
    assert first.get_attribute("tabindex") == "0" and int(first.get_attribute("data-rank")) >= 1
    assert first.get_attribute("title") is None, "a card, not a native tooltip"
    card = card_of(page, first) if size is WIDE else None
    if size is PHONE:  # a tap opens it
        first.tap()
        card = page.locator(f'{VIEW} [role="tooltip"]')
        card.wait_for(state="visible", timeout=5_000)
    assert card.locator("button.alternative").count() == 5
    assert card.locator(".bar").count() == 5
    assert re.search(r"probability [\d.]+% · rank [\d,]+", card.inner_text())
    assert card.locator(".card-rank").inner_text() == f"rank {int(first.get_attribute('data-rank')):,}"
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], "the card stays on the screen"
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], "the card stays on the screen"


@SIZES
def test_clicking_an_alternative_branches_and_undo_restores(open_page, size, server):
    page = open_page(size)
    generate(page)
    before_words, before_text = net_words(page), shown_text(page)
    position = 5
    card = card_of(page, page.locator(f"{VIEW} .generated .word").nth(position))
    options = card.locator("button.alternative")
    names = options.locator(".alternative-word").all_inner_texts()
    word = next(name for name in names if name != before_words[position])
    options.nth(names.index(word)).click()
    wait_for_change(page, before_text)
    after = net_words(page)
    assert after[:position] == before_words[:position], "the prefix is kept"
    assert after[position] == word, "the word at that position is replaced"
    assert page.locator(f"{VIEW} .word.chosen").inner_text() == word
    assert len(after) == position + 1 + 50, "generation goes on with the same number of words"
    status = page.locator(".patentrnn-status")
    # (the status is a widget of its own: it may arrive after the words)
    expect(status).to_contain_text(re.compile(r"new rng seed \d+"), timeout=10_000)
    rng_seed = re.search(r"new rng seed (\d+)", status.inner_text()).group(1)
    assert rng_seed != "11"
    branched = shown_text(page)
    permalink = page.locator(".patentrnn-permalink")
    expect(permalink).to_have_attribute("href", re.compile(f"rng_seed={rng_seed}"))
    href = permalink.get_attribute("href")

    page.locator(f"{VIEW} .undo").click()
    wait_for_change(page, branched)
    assert net_words(page) == before_words and shown_text(page) == before_text

    other = open_page(size, href)  # the branched text's permalink reproduces it word for word
    other.locator(f"{VIEW} .word").first.wait_for(timeout=30_000)
    assert shown_text(other) == branched


def test_keyboard_tab_to_a_word_and_enter_on_an_alternative(open_page):
    page = open_page(WIDE)
    generate(page)
    before = shown_text(page)
    page.locator(f"{VIEW} .colour-box").focus()  # the last control before the text (Undo is disabled)
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert "word" in focused.split(), f"Tab did not reach a word: {focused}"
    card = page.locator(f'{VIEW} [role="tooltip"]')
    card.wait_for(state="visible", timeout=5_000)
    first_word = page.evaluate("() => document.activeElement.textContent")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('alternative')")
    page.keyboard.press("Tab")
    chosen = page.evaluate("() => document.activeElement.querySelector('.alternative-word').textContent")
    page.keyboard.press("Enter")
    wait_for_change(page, before)
    words = net_words(page)
    assert words[0] == chosen and page.locator(f"{VIEW} .word.chosen").inner_text() == chosen
    assert chosen != first_word or len(words) == 51
    assert page.evaluate("() => document.activeElement.classList.contains('chosen')"), "the keyboard stays on the text"


# --- colour by rank and "Analyse text" --------------------------------------------------------

BUCKET_COLOURS = {"b0": "rgb(185, 239, 176)", "b1": "rgb(251, 231, 144)",
                  "b2": "rgb(248, 185, 176)", "b3": "rgb(216, 192, 242)"}  # fmt: skip


def test_colour_by_rank_colours_generated_and_actual_with_a_legend_and_shares(open_page):
    page = open_page(WIDE)
    page.get_by_role("button", name="Random real abstract").click()
    page.get_by_placeholder("random").fill("11")  # an abstract long enough (a random one was 7 words once)
    page.locator(".patentrnn-generate").click()
    page.locator(f"{VIEW} .actual .word").first.wait_for(timeout=30_000)
    legend = page.locator(f"{VIEW} .legend")
    assert not legend.is_visible()
    page.locator(f"{VIEW} .colour-box").check()
    assert legend.is_visible() and legend.locator(".chip").all_inner_texts() == [
        "top 10", "top 100", "top 1,000", "beyond"
    ]  # fmt: skip
    for block in ("rnn", "actual"):
        words = page.locator(f"{VIEW} .{block} .word")
        assert words.count() >= 40
        for index in range(0, words.count(), 7):
            word = words.nth(index)
            rank = int(word.get_attribute("data-rank"))
            expected = "b0" if rank <= 10 else "b1" if rank <= 100 else "b2" if rank <= 1000 else "b3"
            assert word.evaluate("e => getComputedStyle(e).backgroundColor") == BUCKET_COLOURS[expected]
    shares = page.locator(f"{VIEW} table.shares")
    assert shares.is_visible()
    for label in ("actual", "generated"):
        cells = shares.locator(f"tr.share-{label} td").all_inner_texts()
        assert len(cells) == 4 and 97 <= sum(int(cell.rstrip("%")) for cell in cells) <= 103, cells


def test_analyse_text_shows_the_perplexity_that_score_gives(open_page, data_dir):
    bundle = load_bundle(DEFAULT_MODEL)
    abstract = split_abstracts(load_corpus(bundle.card["corpus"]["name"]).abstracts, bundle.split).test[3]
    expected = patentrnn.load(DEFAULT_MODEL).score(abstract)
    page = open_page(WIDE)
    page.get_by_role("button", name="Analyse text").click()
    expect(page.locator(".patentrnn-generate")).to_have_text("Analyse")
    page.locator(".patentrnn-seed textarea").fill(abstract)
    page.locator(".patentrnn-generate").click()
    perplexity = page.locator(f"{VIEW} .perplexity")
    perplexity.wait_for(timeout=30_000)
    assert perplexity.inner_text() == f"Perplexity under this model: {expected.perplexity:.1f}"
    words = page.locator(f"{VIEW} .word")
    assert words.count() == len(expected.words) - 1
    ranks = [int(rank) for rank in words.evaluate_all("ws => ws.map(w => w.dataset.rank)")]
    assert ranks == [word.rank for word in expected.words[1:]]
    assert (
        page.locator(f"{VIEW} .word.b0").first.evaluate("e => getComputedStyle(e).backgroundColor")
        == (BUCKET_COLOURS["b0"])
    )
    cells = page.locator(f"{VIEW} table.shares tr.share-text td").all_inner_texts()
    assert len(cells) == 4
    for cell, share in zip(cells, expected.shares):  # (JavaScript rounds a half up, Python to even)
        assert abs(int(cell.rstrip("%")) - 100 * share) <= 0.5 + 1e-9, (cells, expected.shares)
    card = card_of(page, words.nth(2))
    assert card.locator("button.alternative").count() == 5


def test_a_failed_action_clears_the_old_output_in_one_short_line(open_page):
    page = open_page(WIDE)
    generate(page)
    page.locator(".patentrnn-seed textarea").fill("   ")
    page.locator(".patentrnn-generate").click()
    status = page.locator(".patentrnn-status .patentrnn-error")
    status.wait_for(timeout=30_000)
    assert status.inner_text() == "Please enter a seed: it is empty."
    assert page.locator(f"{VIEW} .word").count() == 0 and page.locator(".patentrnn-permalink").count() == 0


# --- hostile input ------------------------------------------------------------------------


def test_hostile_seed_analysed_text_and_url_stay_text(open_page):
    page = open_page(WIDE)
    for number, payload in enumerate(HOSTILE):
        before = shown_text(page)
        generate(page, seed=payload + " A neural network", rng_seed=str(number))
        wait_for_change(page, before)
        assert ["<img", "<script>", "<svg"][number] in shown_text(page)
    page.get_by_role("button", name="Analyse text").click()
    payload = " ".join(HOSTILE) + " a neural network is trained"
    page.locator(".patentrnn-seed textarea").fill(payload)
    page.locator(".patentrnn-generate").click()
    page.locator(f"{VIEW} .perplexity").wait_for(timeout=30_000)
    card = card_of(page, page.locator(f"{VIEW} .word").first)
    assert card.locator(".card-word").inner_text() == page.locator(f"{VIEW} .word").first.inner_text()
    for query in ("?seed=" + quote(HOSTILE[0] + " A network") + "&words=12", "?analyse=" + quote(payload)):
        other = open_page(WIDE, query)
        other.locator(f"{VIEW} .word").first.wait_for(timeout=30_000)
        assert "<img" in shown_text(other)
        other.wait_for_timeout(300)
        assert other.locator(".patentrnn-app").first.evaluate("e => e.querySelectorAll('img, svg, script').length") == 0
        assert other.dialogs == []
    assert page.locator(".patentrnn-app").first.evaluate("e => e.querySelectorAll('img, svg, script').length") == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []
