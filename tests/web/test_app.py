"""The App class driven like a user: set widgets, click, read the page."""

from __future__ import annotations

from patentrnn.corpus import DATA_ENV
from patentrnn.web import App


def test_dropdown_lists_every_bundle_with_its_perplexity(app):
    labels = [label for label, _ in app.form.model.options]
    assert len(labels) == 4 and all("test perplexity" in label for label in labels)


def test_typing_a_seed_and_clicking_generates(app):
    app.form.seed.value = "A neural network"
    app.form.words.value = 20
    app.form.rng_seed.value = "5"
    app.form.button.click()
    assert app.output.text().startswith("A neural network")
    assert len([word for word in app.output.words() if word["net"]]) == 20
    assert "Permalink" in app.links.value and "data:text/plain;charset=utf-8;base64," in app.links.value
    assert app.form.button.disabled is False


def test_random_mode_shows_three_blocks(app):
    app.form.start.value = "random"
    assert app.form.seed.disabled
    app.form.button.click()
    assert [block["name"] for block in app.output.view["blocks"]] == ["seed", "rnn", "actual"]
    assert "rng seed" in app.status.value
    assert all(word["r"] >= 1 for word in app.output.words("actual")), "the actual words are ranked too"
    assert [row["label"] for row in app.output.view["shares"]] == ["actual", "generated"]
    first = app.output.text()
    app.form.button.click()  # an empty rng seed field draws a new one each time
    assert app.output.text() != first


def test_errors_are_short_messages_and_the_button_comes_back(app):
    app.form.button.click()
    previous = app.output.text()
    app.form.seed.value = "   "
    app.form.button.click()
    assert "empty" in app.status.value and "Traceback" not in app.status.value
    assert app.output.words() == [] and app.links.value == "", "a failure clears the old output"
    assert app.form.button.disabled is False and app.output.can_undo
    app.undo()
    assert app.output.text() == previous
    app.form.seed.value = "A network"
    app.form.rng_seed.value = "abc"
    app.form.button.click()
    assert "rng seed must be a whole number" in app.status.value


def test_an_unexpected_failure_is_not_a_traceback(app, monkeypatch):
    import patentrnn.web.app as app_module

    def explode(name, directory=None):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app_module, "load", explode)
    app.form.button.click()
    assert "Something went wrong" in app.status.value and "secret" not in app.status.value
    assert app.form.button.disabled is False


def test_random_mode_without_a_corpus_says_why_and_seed_mode_still_works(tiny_env, monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    app = App()
    app.form.model.value = "tiny-windows"
    app.form.start.value = "random"
    app.form.button.click()
    assert "Random start needs" in app.status.value
    status = app.status.value
    assert status.count("<div") == 1 and "http" not in status and DATA_ENV not in status and str(tmp_path) not in status
    app.form.start.value = "seed"
    app.form.seed.value = "A neural network"
    app.form.button.click()
    assert app.output.words()


def test_url_parameters_fill_the_form_and_generate(app):
    problems = app.apply_query("seed=A+neural+network&words=15&diversity=1.5&model=tiny&rng_seed=9")
    assert problems == []
    assert (app.form.words.value, app.form.diversity.value, app.form.rng_seed.value) == (15, 1.5, "9")
    assert "rng seed 9." in app.status.value
    assert len([word for word in app.output.words() if word["net"]]) == 15


def test_invalid_url_parameters_are_reported_not_obeyed(app):
    problems = app.apply_query("diversity=9&words=100000&model=../../etc&rng_seed=-3&top_k=abc")
    assert len(problems) == 5
    assert app.form.diversity.value == 0.8 and app.form.words.value == 50 and app.form.model.value == "tiny"
    assert "Diversity must be between 0.5 and 5." in app.status.value


def test_hostile_seed_in_the_url_is_shown_as_text(app):
    app.apply_query("seed=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E+A+neural+network&rng_seed=1")
    # the view carries it as a word, which the page draws as text (tests/test_browser_ui.py)
    assert app.output.words()[0]["w"] == "<img"
    assert "<img" not in app.status.value + app.links.value + app.originality.value


def test_permalink_reproduces_the_output_word_for_word(app, tiny_env):
    app.form.seed.value = "A neural network"
    app.form.diversity.value = 2.0
    app.form.button.click()
    first = app.output.words()
    query = app.permalink_query(app.result)
    other = App()
    other.apply_query(query)
    assert other.output.words() == first


def test_the_button_is_disabled_while_generating(app, monkeypatch):
    import patentrnn.web.app as app_module

    seen = []
    real_load = app_module.load

    class Watching:
        def __init__(self, generator):
            self.generator = generator

        def generate(self, **settings):
            seen.append(app.form.button.disabled)
            return self.generator.generate(**settings)

    monkeypatch.setattr(app_module, "load", lambda name, directory=None: Watching(real_load(name, directory)))
    app.form.button.click()
    assert seen == [True] and app.form.button.disabled is False


def test_analyse_turns_off_the_settings_that_do_not_apply_and_back(app):
    settings = [app.form.diversity, app.form.words, app.form.sampling, app.form.rng_seed, app.form.no_copy]
    app.form.start.value = "analyse"
    assert all(control.disabled for control in settings) and app.form.button.description == "Analyse"
    app.form.start.value = "seed"
    assert not any(control.disabled for control in settings) and app.form.button.description == "Generate"


def test_the_status_line_names_steered_words_only_when_there_are_some(app):
    app.form.seed.value = "A neural network"
    app.form.rng_seed.value = "5"
    app.form.button.click()
    steered = app.result.copy_guard["steered"]
    status = app.status.value
    assert ("steered away" in status) == (steered > 0) and "0 words steered" not in status
    assert " 1 words " not in status


def test_the_originality_panel_speaks_plainly(app):
    app.form.seed.value = "A neural network"
    app.form.button.click()
    panel = app.originality.value
    assert "Closest real patents" in panel and "similarity" in panel and "BM25" not in panel
    assert " split" not in panel and '<div class="excerpt">"' not in panel


def test_a_visitors_mistake_is_its_line_and_a_fault_of_ours_a_reference_to_the_log(app, monkeypatch, caplog):
    app.form.seed.value = "   "
    app.form.button.click()
    assert "empty" in app.status.value and "reference" not in app.status.value  # an InputError: what to change

    def broken(*args, **kwargs):
        raise ValueError("operands could not be broadcast together with shapes (3,) (4,)")  # numpy's kind

    generator = app._load("tiny")
    monkeypatch.setattr(type(generator), "generate", broken)
    app.form.seed.value = "A neural network"
    with caplog.at_level("ERROR"):
        app.form.button.click()
    status = app.status.value
    assert "broadcast" not in status and "reference" in status
    reference = status.split("reference ")[1].split(")")[0]
    assert any(reference in record.getMessage() and record.exc_info for record in caplog.records)
