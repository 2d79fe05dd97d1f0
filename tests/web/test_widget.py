"""The output view as Python drives it: cards' data, branching, undo, "Analyse text", and
messages from the page that match nothing (a page can send anything)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

import patentrnn
from patentrnn.web import App, seed_text
from patentrnn.web.views import Block, View, Word
from patentrnn.web.widget import OutputView

WIDGET_JS = Path(patentrnn.__file__).with_name("web") / "widget.js"


@pytest.fixture(autouse=True)
def twenty_words(app):
    """These tests generate 20 words at a time (conftest's ``app``, the tiny model)."""
    app.form.words.value = 20



def net(app) -> list[dict]:
    return [word for word in app.output.words() if word["net"]]


def index_of_net(app, position: int) -> int:
    """The block index of the ``position``-th word the network wrote (seed words come first)."""
    words = app.output.view["blocks"][0]["words"]
    return [i for i, word in enumerate(words) if word["net"]][position]


def test_each_generated_word_carries_probability_rank_and_five_alternatives(app):
    app.form.seed.value = "A neural network"
    app.form.rng_seed.value = "4"
    app.generate()
    view = app.output.view
    json.dumps(view)  # it travels as JSON
    assert view["kind"] == "generation" and [block["name"] for block in view["blocks"]] == ["text"]
    seed, written = [w for w in app.output.words() if not w["net"]], net(app)
    assert [w["w"] for w in seed] == ["A", "neural", "network"] and all(w["r"] is None for w in seed)
    assert [w["w"] for w in written] == app.result.generated_words
    assert [w["r"] for w in written] == [item.rank for item in app.result.generated]
    assert all(len(w["alt"]) == 5 and 0 < w["p"] <= 1 and w["r"] >= 1 for w in written)
    assert [w["b"] for w in written] == [(w["r"] > 10) + (w["r"] > 100) + (w["r"] > 1000) for w in written]
    assert view["shares"][0]["label"] == "generated" and sum(view["shares"][0]["shares"]) == pytest.approx(1)


def test_an_alternative_branches_keeps_the_prefix_and_the_permalink_reproduces_it(app, tiny_env):
    app.form.seed.value = "A neural network"
    app.form.rng_seed.value = "4"
    app.generate()
    before = [w["w"] for w in app.output.words()]
    index = index_of_net(app, 6)
    old = app.output.view["blocks"][0]["words"][index]
    word = next(name for name, _ in old["alt"] if name != old["w"])
    app.branch(block=0, index=index, word=word)
    after = app.output.words()
    assert [w["w"] for w in after[:index]] == before[:index]
    assert after[index]["w"] == word and after[index]["chosen"] and after[index]["r"] >= 1
    assert len(after) == index + 1 + 20, "the same settings: 20 more words"
    assert app.result.settings.words == 20 and app.result.settings.rng_seed != 4
    assert f"new rng seed {app.result.settings.rng_seed}" in app.status.value
    assert app.output.can_undo
    # the chosen word's card is the model's view of it there
    score = patentrnn.load("tiny").score(seed_text([w["w"] for w in after[: index + 1]]))
    assert after[index]["r"] == score.words[-1].rank
    assert after[index]["p"] == pytest.approx(score.words[-1].probability)

    other = App()
    other.apply_query(app.permalink_query(app.result))
    assert [w["w"] for w in other.output.words()] == [w["w"] for w in after]


def test_undo_returns_to_the_text_before(app):
    app.generate()
    first = app.output.view
    index = index_of_net(app, 2)
    word = app.output.view["blocks"][0]["words"][index]["alt"][-1][0]
    app.branch(block=0, index=index, word=word)
    app.branch(block=0, index=index_of_net(app, 0), word=app.output.words()[index_of_net(app, 0)]["alt"][1][0])
    app.undo()
    app.undo()
    assert app.output.view == first and app.output.can_undo is False
    app.undo()
    assert "Nothing to undo" in app.status.value and app.output.view == first


def test_branching_from_the_actual_continuation_in_random_mode(app):
    app.form.start.value = "random"
    app.generate()
    names = [block["name"] for block in app.output.view["blocks"]]
    assert names == ["seed", "rnn", "actual"]
    seed = [w["w"] for w in app.output.words("seed")]
    actual = app.output.words("actual")
    word = actual[3]["alt"][0][0]
    app.branch(block=2, index=3, word=word)
    words = [w["w"] for w in app.output.words()]
    assert words[: len(seed) + 4] == seed + [w["w"] for w in actual[:3]] + [word]
    assert app.result.mode == "seed" and len(words) == len(seed) + 4 + 20


@pytest.mark.parametrize(
    "message",
    [
        {"event": "branch", "block": "0", "index": 3, "word": "the"},
        {"event": "branch", "block": 0, "index": -1, "word": "the"},
        {"event": "branch", "block": 0, "index": 10**9, "word": "the"},
        {"event": "branch", "block": 5, "index": 3, "word": "the"},
        {"event": "branch", "block": 0, "index": 1, "word": "<script>x</script>"},
        {"event": "branch", "block": True, "index": 4, "word": "the"},
        {"event": "branch"},
        {"event": "branch", "block": 0, "index": 4, "word": ["the"], "extra": 1},
    ],
)
def test_branch_messages_that_match_nothing_change_nothing(app, message):
    app.generate()
    view, result = app.output.view, app.result
    app.output._received(app.output, message, [])
    assert app.output.view == view and app.result is result
    assert "no longer on the page" in app.status.value


def test_unknown_messages_from_the_page_are_dropped(app):
    app.generate()
    view = app.output.view
    for message in ({"event": "exec", "code": "1"}, "branch", None, ["undo"]):
        app.output._received(app.output, message, [])
    assert app.output.view == view


def test_analyse_text_shows_perplexity_shares_and_a_permalink(app, tiny_env):
    text = "A neural network is trained on images of digits."
    app.form.start.value = "analyse"
    assert app.form.button.description == "Analyse" and not app.form.seed.disabled
    app.form.seed.value = text
    app.generate()
    expected = patentrnn.load("tiny").score(text)
    view = app.output.view
    assert view["kind"] == "analysis" and view["perplexity"] == pytest.approx(expected.perplexity)
    assert [w["r"] for w in app.output.words()] == [w.rank for w in expected.words]
    assert view["shares"] == [{"label": "text", "shares": expected.shares}]
    assert f"perplexity {expected.perplexity:.1f}" in app.status.value
    assert app.result is None and app.originality.value == ""
    assert "analyse=" in app.links.value
    other = App()
    other.apply_query(f"model=tiny&analyse={quote(text)}")
    assert other.output.view == view


def test_branching_from_an_analysed_text_uses_the_form_settings(app):
    app.form.start.value = "analyse"
    app.form.seed.value = "A neural network is trained on images of digits."
    app.generate()
    word = app.output.words()[2]["alt"][0][0]
    app.branch(block=0, index=2, word=word)
    words = app.output.words()
    assert [w["w"] for w in words[:3]] == ["A", "neural", word] and len(words) == 3 + 20


@pytest.mark.parametrize("text, message", [("   ", "empty"), ("word", "at least two words")])
def test_bad_text_to_analyse_is_one_line_and_clears_the_output(app, text, message):
    app.generate()
    app.form.start.value = "analyse"
    app.form.seed.value = text
    app.generate()
    assert message in app.status.value and app.status.value.count("<div") == 1
    assert app.output.words() == [] and app.links.value == ""


def test_hostile_text_stays_a_word_and_the_page_draws_text_only(app):
    app.form.start.value = "analyse"
    app.form.seed.value = '<img src=x onerror=alert(1)> "><script>alert(2)</script> A network'
    app.generate()
    assert app.output.words()[0]["w"] == "<img"
    assert "<img" not in app.status.value and "<img" not in app.links.value
    source = "\n".join(line for line in WIDGET_JS.read_text().splitlines() if not line.lstrip().startswith("//"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source, f"widget.js uses {sink}"


def test_seed_text_reads_back_as_the_same_words():
    words = ["A", "network", ",", "trained", "on", "1", ".", "5", "images", "."]
    from patentrnn.corpus import clean
    from patentrnn.vocabulary import tokenize

    assert tokenize(clean(seed_text(words))) == words
    assert seed_text(["A", "network", "."]) == "A network."


def test_the_view_starts_empty_and_clears(tiny_env):
    view = OutputView()
    assert view.words() == [] and view.view["kind"] == "empty"
    view.show(View("analysis", [Block("text", None, [Word("A")])]))
    assert view.view["perplexity"] is None and view.words() == [Word("A").wire()] and view.state.kind == "analysis"
    view.clear()
    assert view.view["blocks"] == [] and view.state.kind == "empty"
