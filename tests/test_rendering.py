"""What a generation shows: its view (drawn by the page's one renderer) and its plain text."""

from __future__ import annotations

from patentrnn.rendering import render_text
from patentrnn.web.views import generation_view

HOSTILE = '<img src=x onerror=alert(1)> <script>alert("x")</script> " onmouseover=alert(2) x=\''




def test_hostile_seed_stays_data_in_the_view(generator):
    # the one renderer draws words with textContent (widget.js; test_browser checks the page): the view
    # carries the visitor's words as they were read, never as markup of ours
    result = generator.generate("A neural network " + HOSTILE, words=5, rng_seed=1)
    view = generation_view(result).wire()
    words = [item["w"] for block in view["blocks"] for item in block["words"]]
    assert words == result.seed_words + result.generated_words
    assert "<script>alert(" in words and "<img" in words  # data, as typed; the page shows it as text


def test_seed_mode_shows_the_seed_then_the_networks_words_with_cards(generator):
    result = generator.generate("A neural network", words=6, rng_seed=2)
    [block] = generation_view(result).wire()["blocks"]
    assert [item["net"] for item in block["words"]] == [False] * 3 + [True] * 6
    assert all(len(item["alt"]) == 5 and item["r"] >= 1 for item in block["words"][3:])


def test_random_mode_shows_three_blocks(generator):
    view = generation_view(generator.generate(words=10, rng_seed=4)).wire()
    assert [(b["name"], b["title"]) for b in view["blocks"]] == [
        ("seed", "Seed"), ("rnn", "RNN generated"), ("actual", "Actual")
    ]  # fmt: skip


def test_plain_text_download(generator):
    result = generator.generate(words=10, rng_seed=4)
    text = render_text(result)
    assert "Seed:" in text and "RNN generated:" in text and "Actual:" in text and "rng_seed 4" in text


def test_documents_of_your_own_are_named_by_their_place_never_an_empty_patent_number():

    from patentrnn.originality import CopiedSpan, NearPatent, Originality, patent_url
    from patentrnn.rendering import render_originality_html, render_originality_text

    copy = CopiedSpan(["a", "pump", "for", "mixing"], 4, 1, "", "", "", patent_url(""), 12)
    near = NearPatent("", "", "", 14.1, "train", '"A pump for mixing paint', patent_url(""), False, 12)
    real = NearPatent("5630018", "Fuzzy inference", "1997-05-13", 9.7, "test", "A fuzzy device", patent_url("5630018"))
    check = Originality(6, 0, copy, [near, real], "mine.txt")
    text = render_originality_text(check)
    assert "document 12" in text and "US (" not in text and "US " not in text.replace("US5630018", "")
    html = render_originality_html(check)
    assert "document 12" in html and 'href=""' not in html and "US5630018</a>" in html
    assert '<div class="excerpt">A pump for mixing paint' in html, "no stray quote"
