"""HTML output: escaped, in the reference's colours and layout."""

from __future__ import annotations

import re

import pytest

import patentrnn
from patentrnn.rendering import render_html, render_text

HOSTILE = '<img src=x onerror=alert(1)> <script>alert("x")</script> " onmouseover=alert(2) x=\''


@pytest.fixture
def generator(tiny_env):
    return patentrnn.load("tiny")


def test_hostile_seed_is_escaped(generator):
    html = render_html(generator.generate("A neural network " + HOSTILE, words=5, rng_seed=1))
    assert "<img" not in html and "<script" not in html
    assert "&lt;img" in html and "&lt;script&gt;" in html
    # every tag in the output is one of ours
    assert set(re.findall(r"<(\w+)", html)) <= {"style", "div", "span", "h4", "br"}


def test_seed_mode_shows_the_seed_then_red_words_with_hover_details(generator):
    result = generator.generate("A neural network", words=6, rng_seed=2)
    html = render_html(result)
    assert html.index("A neural network") < html.index('class="generated"')
    assert ".generated { color: red; }" in html
    assert html.count('class="word" title="p = ') == 6
    assert "top alternatives" in html


def test_random_mode_shows_three_blocks(generator):
    html = render_html(generator.generate(words=10, rng_seed=4))
    for title in ("<h4>Seed</h4>", "<h4>RNN generated</h4>", "<h4>Actual</h4>"):
        assert title in html
    assert "flex-wrap: wrap" in html


def test_plain_text_download(generator):
    result = generator.generate(words=10, rng_seed=4)
    text = render_text(result)
    assert "Seed:" in text and "RNN generated:" in text and "Actual:" in text and "rng_seed 4" in text
