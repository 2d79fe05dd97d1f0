"""The form's and the URL's values, defined once (web.query.Query): read, checked, written back."""

from __future__ import annotations

import pytest

from patentrnn.web import App
from patentrnn.web.query import NO_COPY, Query

MODELS = ["neural-network-lstm", "neural-network-title"]


def test_a_query_string_reads_back_as_the_same_values():
    query = Query(model="neural-network-title", start="title", title="Fraud <b>detection</b> & more", seed="A system",
                  words=None, diversity=1.3, sampling="top_p", top_p=0.85, rng_seed=42, max_copy=None)  # fmt: skip
    again, problems = Query.parse(query.to_query_string(), MODELS)
    assert problems == [] and again == query


@pytest.mark.parametrize(
    "text, problem",
    [
        ("words=5", "Number of words must be between 10 and 100."),
        ("words=abc", "Number of words must be between 10 and 100."),
        ("diversity=nan", "Diversity must be between 0.5 and 5."),
        ("diversity=9", "Diversity must be between 0.5 and 5."),
        ("top_k=0", "top_k must be between 1 and 1000."),
        ("top_p=2", "top_p must be between 0.01 and 1."),
        ("rng_seed=-1", "rng_seed must be a whole number below 4294967296."),
        ("max_copy=3", f"max_copy must be {NO_COPY} or off."),
        ("model=%3Cscript%3E", "Unknown model '<script>'."),
    ],
)
def test_an_invalid_value_is_reported_and_not_obeyed(text, problem):
    query, problems = Query.parse(text, MODELS)
    assert problems == [problem] and query == Query()


def test_the_links_start_wins_over_the_forms():
    base = Query(start="analyse", seed="some text")
    assert Query.parse("seed=A+valve", MODELS, base)[0].start == "seed"
    assert Query.parse("title=A+valve&seed=It", MODELS, base)[0].start == "title"
    assert Query.parse("random=1&seed=x", MODELS, base)[0].start == "random"
    assert Query.parse("words=end", MODELS)[0].words is None


def test_a_title_permalink_reproduces_the_output_word_for_word(tiny_env):
    app = App()
    app.form.model.value = "tiny-title"
    app.form.start.value, app.form.title.value, app.form.seed.value = "title", "Pump for mixing", ""
    app.form.until_end.value = True
    app.generate()
    result = app.result
    assert result.mode == "title" and result.ended and result.settings.words is None
    query = app.permalink_query(result)
    assert "title=Pump+for+mixing" in query and "words=end" in query
    other = App()
    assert other.apply_query(query) == []
    assert other.result.generated_words == result.generated_words and other.result.title_words == ["Pump", "for",
                                                                                                     "mixing"]
    assert other.output.view["blocks"][0]["name"] == "title"


def test_a_script_in_a_title_stays_text(tiny_env):
    app = App()
    hostile = "<script>alert(x)</script> pump"
    app.apply_query("model=tiny-title&title=" + hostile.replace(" ", "+") + "&rng_seed=1")
    assert app.result is not None and app.result.title_text.startswith("<script>")
    title = app.output.view["blocks"][0]
    assert title["name"] == "title" and "<script>alert(x)</script>" in " ".join(w["w"] for w in title["words"])
    assert "<script>" not in app.status.value and "<script>" not in app.links.value
    assert "title=%3Cscript%3E" in app.links.value  # the permalink carries it, encoded


def test_a_model_without_titles_says_so_in_one_line(tiny_env):
    app = App()
    app.form.model.value = "tiny"
    app.form.start.value, app.form.title.value = "title", "A valve"
    app.generate()
    assert app.result is None and "does not take titles" in app.status.value
    assert app.form.until_end.layout.display == "none"  # "Until it ends" is offered for title models only


def test_from_a_title_a_seed_begins_the_abstract_and_its_permalink_keeps_it(tiny_env):
    app = App()
    app.form.model.value = "tiny-title"
    app.form.start.value = "title"
    assert app.form.seed.value == "" and app.form.until_end.value, "the mode's defaults: no seed, until it ends"
    app.form.title.value, app.form.seed.value, app.form.rng_seed.value = "Pump for mixing", "A pump comprises", "4"
    app.generate()
    result = app.result
    assert result.mode == "title" and result.seed_words == ["A", "pump", "comprises"]
    assert "Pump for mixing A pump comprises" in app.output.text()
    other = App()
    assert other.apply_query(app.permalink_query(result)) == []
    assert other.result.seed_words == result.seed_words and other.result.generated_words == result.generated_words


def test_a_title_url_without_a_seed_gives_no_beginning():
    query, problems = Query.parse("title=A+valve&words=20", MODELS)
    assert problems == [] and query.start == "title" and query.generate_arguments()["seed"] is None
    query, _ = Query.parse("title=A+valve&seed=It+opens&words=20", MODELS)
    assert query.generate_arguments()["seed"] == "It opens"
