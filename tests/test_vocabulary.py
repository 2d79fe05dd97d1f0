"""Vocabulary: Keras-2-compatible tokenizing, ids by frequency, UNK, detokenize, JSON."""

import pytest

from patentrnn.vocabulary import PAD_ID, UNK_ID, Vocabulary, detokenize, tokenize

TEXTS = ["A neural network learns , fast .", "A network ; it learns ?", "A [bracketed] net"]


def test_tokenize_keeps_case_and_punctuation_tokens_and_drops_filtered_characters():
    assert tokenize('A "Neural" network ; it learns , fast ? ok .') == [
        "A", "Neural", "network", "it", "learns", ",", "fast", "?", "ok", ".",
    ]  # fmt: skip
    assert tokenize("x-ray (a) 3.5% of $10 #1 e-mail/web") == ["x-ray", "(a)", "3.5", "of", "$10", "#1", "e-mail/web"]


def test_ids_are_ordered_by_frequency_then_first_appearance():
    vocabulary = Vocabulary.build(TEXTS)
    assert vocabulary.words[:2] == ["<pad>", "<unk>"]
    assert vocabulary.words[2:5] == ["A", "network", "learns"]
    assert vocabulary.encode("A network zebra") == [2, 3, UNK_ID]
    assert PAD_ID == 0


def test_min_count_drops_rare_words():
    vocabulary = Vocabulary.build(TEXTS, min_count=2)
    assert "neural" not in vocabulary.index and "network" in vocabulary.index


def test_detokenize_puts_punctuation_back():
    assert detokenize(["A", "net", ",", "it", "learns", ".", "Why", "?"]) == "A net, it learns. Why?"


def test_json_round_trip_is_identical():
    vocabulary = Vocabulary.build(TEXTS)
    again = Vocabulary.from_json(vocabulary.to_json())
    assert again.words == vocabulary.words and again.filters == vocabulary.filters
    ids = vocabulary.encode("A neural network learns , fast .")
    assert again.detokenize(ids) == "A neural network learns, fast."


def test_malformed_json_is_rejected():
    with pytest.raises(ValueError):
        Vocabulary.from_json('{"nothing": 1}')
    with pytest.raises(ValueError):
        Vocabulary.from_json('{"words": ["a", "b"]}')


def test_read_words_is_the_one_reading_of_typed_text():
    from patentrnn.vocabulary import read_words

    typed = "A\u202enetwork\x00(12) learns,\u200bfast."
    assert read_words(typed) == ["A", "network", "learns", ",", "fast", "."]
    assert Vocabulary.build(["A network learns"]).read(typed) == read_words(typed)
