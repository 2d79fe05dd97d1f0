"""The app page's own front end in Chromium: the preview gives way without a shift, a script that does not
load or a widget it lacks is said in one line, Escape closes a word's card for good, and every other
notebook keeps Voilà's lab front end."""

from __future__ import annotations

import urllib.request
from urllib.parse import quote

import nbformat
import pytest
from playwright.sync_api import expect
from voila_server import voila_app

PHONE, WIDE = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
SHIFTS = """window.__shift = 0; new PerformanceObserver(list => list.getEntries().forEach(e => {
    if (!e.hadRecentInput) window.__shift += e.value; })).observe({type: 'layout-shift', buffered: true});"""

FOREIGN = """
import ipywidgets as widgets
import traitlets
from patentrnn.web.app import PageState

class Foreign(widgets.DOMWidget):
    _model_name = traitlets.Unicode("ForeignModel").tag(sync=True)
    _model_module = traitlets.Unicode("foreign-widgets").tag(sync=True)
    _model_module_version = traitlets.Unicode("1.0.0").tag(sync=True)
    _view_name = traitlets.Unicode("ForeignView").tag(sync=True)
    _view_module = traitlets.Unicode("foreign-widgets").tag(sync=True)
    _view_module_version = traitlets.Unicode("1.0.0").tag(sync=True)

widgets.VBox([widgets.Button(description="Before"), Foreign()])
"""


def opened(browser, url: str, size: dict = WIDE):
    """A new visitor's page on ``url`` at ``size`` (a phone's: with touch); (context, page)."""
    context = browser.new_context(viewport=size, has_touch=size is PHONE)
    page = context.new_page()
    page.goto(url, timeout=60_000)
    return context, page


def notebook(directory, source: str, app_page: bool, state: bool = True):
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source)]
    if state:
        book.cells.append(nbformat.v4.new_code_cell("PageState(widgets.Widget.get_manager_state())"))
    if app_page:
        book.metadata["patentrnn"] = {"preview": True}
    path = directory / "page.ipynb"
    nbformat.write(book, path)
    return path


@pytest.mark.browser
@pytest.mark.parametrize("size", [PHONE, WIDE], ids=["390x844", "1280x900"])
def test_the_live_form_takes_the_previews_place_without_a_layout_shift(server, browser, size):
    context = browser.new_context(viewport=size)
    page = context.new_page()
    page.add_init_script(SHIFTS)
    page.goto(server, timeout=60_000)
    page.locator(".patentrnn-generate").wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__shift") <= 0.1
    assert not page.locator(".patentrnn-preview").is_visible()
    context.close()


@pytest.mark.browser
def test_a_script_that_does_not_load_is_said_on_the_page(server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.route("**/static/frontend/app-*.js*", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(server, timeout=60_000)
    line = page.locator(".patentrnn-loading")
    page.wait_for_function("() => document.querySelector('.patentrnn-loading').textContent.includes('did not load')")
    assert "reload" in line.inner_text().lower() and line.is_visible()
    context.close()


@pytest.mark.browser
def test_escape_closes_a_words_card_and_it_stays_closed(server, browser):
    context, page = opened(browser, server + "?words=12&seed=A+neural+network&rng_seed=3", WIDE)
    word = page.locator(".patentrnn-output-widget .generated .word").first
    word.wait_for(timeout=30_000)
    word.focus()
    card = page.locator('.patentrnn-output-widget [role="tooltip"]')
    card.wait_for(state="visible", timeout=5_000)
    page.keyboard.press("Escape")
    page.wait_for_timeout(600)  # past the card's 250 ms hide delay and any refocus
    assert card.is_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('word')"), "the focus stays on the word"
    page.keyboard.press("Tab")  # on to the next word: its card opens as before
    card.wait_for(state="visible", timeout=5_000)
    context.close()


@pytest.mark.browser
def test_a_widget_the_bundle_lacks_is_one_visible_line_and_the_rest_shows(data_dir, browser, tmp_path):
    path = notebook(tmp_path, FOREIGN, app_page=True)
    with voila_app({"PATENTRNN_DATA": str(data_dir)}, tmp_path / "voila.log", notebook=path) as (url, _):
        context = browser.new_context()
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url, timeout=60_000)
        problem = page.locator("#rendered_cells .patentrnn-problem")
        problem.first.wait_for(state="visible", timeout=60_000)
        text = page.locator("#rendered_cells").inner_text()
        assert "foreign-widgets" in problem.inner_text() and "Before" in text and "Error" not in text
        assert page.locator("#rendered_cells").is_visible()
        context.close()


def test_any_other_notebook_keeps_voilas_lab_front_end(data_dir, tmp_path):
    path = notebook(tmp_path, "import ipywidgets as widgets\nwidgets.Button(description='Hi')", False, False)
    with voila_app({"PATENTRNN_DATA": str(data_dir)}, tmp_path / "voila.log", notebook=path) as (url, _):
        with urllib.request.urlopen(url, timeout=60) as response:
            html = response.read().decode()
    assert "voila.js" in html and "data-patentrnn-bundle" not in html and 'class="patentrnn-preview"' not in html


@pytest.mark.browser
@pytest.mark.parametrize("size", [PHONE, WIDE], ids=["390x844", "1280x900"])
def test_the_no_copy_label_is_read_in_full(server, browser, size):
    context, page = opened(browser, server, size)
    label = page.locator(".patentrnn-no-copy .widget-label-basic span")
    label.wait_for(state="visible", timeout=60_000)
    assert "training text" in label.inner_text()
    assert page.evaluate("el => el.scrollWidth <= el.clientWidth + 1", label.element_handle())
    context.close()


@pytest.mark.browser
def test_on_a_phone_the_new_output_is_brought_into_view(server, browser):
    context, page = opened(browser, server, PHONE)
    page.locator(".patentrnn-generate").click(timeout=60_000)
    page.locator(".patentrnn-output-widget .generated .word").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the smooth scroll
    top = page.evaluate("document.querySelector('.patentrnn-output-widget').getBoundingClientRect().top")
    assert 0 <= top < PHONE["height"] - 80, top
    context.close()


@pytest.mark.browser
def test_from_a_title_an_abstract_begins_with_the_seed_and_ends_by_itself(server, browser):
    context, page = opened(browser, server, PHONE)
    page.get_by_role("button", name="From a title").click(timeout=60_000)
    # (the kernel answers the click: wait for it) the default seed gives way, the abstract is written until it ends
    expect(page.locator(".patentrnn-seed textarea")).to_have_value("", timeout=10_000)
    expect(page.locator(".patentrnn-until-end input")).to_be_checked(timeout=10_000)
    page.locator(".patentrnn-title input").fill("Neural network for detecting fraud in card payments")
    page.locator(".patentrnn-seed textarea").fill("A fraud detector comprises")
    page.get_by_placeholder("random").fill("3")
    page.locator(".patentrnn-generate").click()
    view = page.locator(".patentrnn-output-widget")
    view.locator(".title-line").wait_for(timeout=60_000)
    assert "Neural network for detecting fraud" in view.locator(".title-line").inner_text()
    expect(page.locator(".patentrnn-status")).to_contain_text("ended the abstract itself", timeout=30_000)
    assert "A fraud detector comprises" in view.inner_text() and 10 <= view.locator(".generated .word").count() < 300
    link = page.locator(".patentrnn-permalink").get_attribute("href")
    assert "title=Neural+network+for+detecting" in link and "seed=A+fraud+detector+comprises" in link
    context.close()


@pytest.mark.browser
def test_a_script_in_a_title_stays_text(server, browser):
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = quote('"><script>alert(2)</script> neural network')
    page.goto(f"{server}?model=neural-network-title&title={hostile}&words=20&rng_seed=1", timeout=60_000)
    title = page.locator(".patentrnn-output-widget .title-line")
    title.wait_for(timeout=60_000)
    assert "<script>" in title.inner_text()
    page.wait_for_timeout(300)
    assert page.locator(".patentrnn-app").first.evaluate("e => e.querySelectorAll('img, svg, script').length") == 0
    assert dialogs == []
    context.close()
