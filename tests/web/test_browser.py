"""End to end: Voilà serves the app, headless Chromium drives it through Playwright.

Needs Chromium: Debian's /usr/bin/chromium or a path in $PATENTRNN_CHROMIUM. A
missing browser fails this test (it does not skip): CI installs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from voila_server import ROOT

pytestmark = pytest.mark.browser




def open_app(page, url):
    page.goto(url, timeout=60_000)
    page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)


def generated_text(page) -> str:
    page.locator(".patentrnn-output-widget .word").first.wait_for(timeout=30_000)
    return page.locator(".patentrnn-output-widget .generated").inner_text()


def test_seed_and_click_shows_generated_words(server, page, tmp_path):
    open_app(page, server)
    page.locator(".patentrnn-seed textarea").fill("A method of training a neural network")
    page.locator(".patentrnn-generate").click()
    text = generated_text(page)
    assert len(text.split()) >= 40
    output = page.locator(".patentrnn-output-widget .body").inner_text()
    assert output.startswith("A method of training a neural network")
    assert page.locator(".patentrnn-output-widget .generated").evaluate("e => getComputedStyle(e).color") == (
        "rgb(255, 0, 0)"
    )
    first_word = page.locator(".patentrnn-output-widget .word").first
    first_word.hover()  # a card with the model's top 5 (tests/test_browser_ui.py checks it in depth)
    card = page.locator('.patentrnn-output-widget [role="tooltip"]')
    card.wait_for(state="visible", timeout=5_000)
    assert card.locator("button").count() == 5
    screenshot = tmp_path / "app.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    # (the README's screenshots, at 390 x 844 and 1280 x 900, come from tests/test_browser_ui.py)


def test_random_mode_shows_three_blocks(server, page):
    open_app(page, server)
    page.get_by_role("button", name="Random real abstract").click()
    page.locator(".patentrnn-generate").click()
    page.locator(".patentrnn-output-widget .actual").wait_for(timeout=30_000)
    for title in ("Seed", "RNN generated", "Actual"):
        assert page.locator(".patentrnn-output-widget h4", has_text=title).count() == 1
    boxes = [page.locator(f".patentrnn-output-widget .{name}").bounding_box() for name in ("seed", "rnn", "actual")]
    assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"], "side by side on a wide screen"
    page.set_viewport_size({"width": 480, "height": 900})
    page.wait_for_timeout(300)
    boxes = [page.locator(f".patentrnn-output-widget .{name}").bounding_box() for name in ("seed", "rnn", "actual")]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"], "stacked on a narrow screen"


def test_permalink_reproduces_its_output_word_for_word(server, page):
    open_app(page, server)
    page.locator(".patentrnn-seed textarea").fill("A neural network for image recognition")
    page.locator(".patentrnn-generate").click()
    first = generated_text(page)
    href = page.locator(".patentrnn-permalink").get_attribute("href")
    assert href.startswith("?") and "rng_seed=" in href
    page.goto(server + href)
    assert generated_text(page) == first


def test_invalid_url_values_are_reported(server, page):
    page.goto(server + "?diversity=99&words=12&seed=A+network")
    generated_text(page)
    expect(page.locator(".patentrnn-status")).to_contain_text("Diversity must be between 0.5 and 5.")


def test_screenshot_path_is_in_the_readme():
    assert "notebooks/app.png" in (ROOT / "README.md").read_text()
    assert Path(ROOT / "notebooks" / "app.png").exists()
