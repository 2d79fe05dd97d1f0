"""Results show themselves in a notebook: in a real JupyterLab (a Jupyter Server this test starts) and
Chromium, a cell whose value is ``generator.generate(...)`` shows the page's output view: words with
their ranks, a card on hover, and a click on an alternative branches in place. Plain-text forms and
the score and originality displays are checked without a browser.

Needs Chromium and JupyterLab (the test extra): a missing one fails the test."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import nbformat
import pytest
from playwright.sync_api import expect
from voila_server import ROOT, answers, free_port, stop

import patentrnn

CELL = 'import patentrnn\nresult = patentrnn.load().generate("A neural network", words=20, rng_seed=1)\nresult'
OUTPUT = ".jp-OutputArea-output .patentrnn-output-widget"


@contextlib.contextmanager
def jupyterlab(directory, data_dir, timeout: float = 120):
    """JupyterLab serving ``directory`` on a free port, without a token; yields its URL."""
    port = free_port()
    log = directory / "lab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--IdentityProvider.token=",
               "--allow-root", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={directory}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
    env = {**os.environ, "PATENTRNN_DATA": str(data_dir), "JUPYTER_CONFIG_DIR": str(directory / "config")}
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                   start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while not answers(url + "api/status"):
            started = process.poll() is None and time.monotonic() < deadline
            assert started, f"JupyterLab did not start:\n{log.read_text()[-2000:]}"
            time.sleep(0.3)
        yield url
    finally:
        stop(process)


def run_first_cell(page, editor, tries: int = 6) -> None:
    """Shift+Enter in the first cell until its prompt shows it ran: a press that comes while JupyterLab
    is still attaching the kernel to the notebook's session is dropped, without a word."""
    prompt = page.locator(".jp-Cell").first.locator(".jp-InputPrompt")
    for _ in range(tries):
        editor.click()
        page.keyboard.press("Shift+Enter")
        try:
            expect(prompt).not_to_have_text("[ ]:", timeout=10_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the cell never ran: {prompt.inner_text()!r}")


@pytest.mark.browser
@pytest.mark.slow
def test_a_generation_in_jupyterlab_shows_cards_and_branches_in_place(browser, data_dir, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "display.ipynb")
    expected = patentrnn.load().generate("A neural network", words=20, rng_seed=1, originality=False)
    with jupyterlab(tmp_path, data_dir) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(url + "lab/tree/display.ipynb", timeout=120_000)
            editor = page.locator(".jp-Cell .cm-content").first
            editor.wait_for(timeout=120_000)
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)
            run_first_cell(page, editor)
            words = page.locator(f"{OUTPUT} .generated .word")
            words.first.wait_for(timeout=120_000)
            assert words.all_inner_texts() == expected.generated_words, "the library's words, with cards"
            ranks = page.eval_on_selector_all(f"{OUTPUT} .generated .word", "e => e.map(w => Number(w.dataset.rank))")
            assert ranks == [item.rank for item in expected.generated]

            words.nth(3).hover()
            card = page.locator(f'{OUTPUT} [role="tooltip"]')
            card.wait_for(state="visible", timeout=10_000)
            options = card.locator("button.alternative")
            names = options.locator(".alternative-word").all_inner_texts()
            other = next(name for name in names if name != expected.generated_words[3])
            before = page.locator(OUTPUT).inner_text()
            options.nth(names.index(other)).click()
            page.wait_for_function(
                "([selector, before]) => document.querySelector(selector).innerText !== before",
                arg=[OUTPUT, before], timeout=60_000,
            )  # fmt: skip
            assert page.locator(f"{OUTPUT} .word.chosen").inner_text() == other, "it branched in place"
            assert page.locator(".jp-OutputArea-output .patentrnn-originality").count() == 1
        finally:
            page.close()


def test_plain_text_forms_and_the_other_displays(default_generator):
    result = default_generator.generate("A neural network", words=12, rng_seed=2)
    data, _ = result._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert result.generated_text in data["text/plain"], "a console shows the words"
    assert "_generator" not in json.dumps(result.to_dict()), "the generator never enters the result's data"
    score = default_generator.score("A neural network is trained on images.")
    data, _ = score._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data and "perplexity" in data["text/plain"]
    table = result.originality._repr_mimebundle_()
    assert "Closest real patents" in table["text/html"] and "Longest copied span" in table["text/plain"]
