"""Training end to end on a few abstracts, honest metrics, bundles that round-trip."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from patentrnn.bundle import BundleError, keras_model, list_bundles, load_bundle, save_bundle
from patentrnn.corpus import load_corpus, split_abstracts
from patentrnn.model import order_dense_units
from patentrnn.runtime import Runtime
from patentrnn.training import abstract_batches, order_bundle_units, score_logits


def test_tiny_model_trains_end_to_end_and_its_card_is_complete(tiny_models):
    card = json.loads((tiny_models / "tiny" / "card.json").read_text())
    assert card["corpus"]["name"] == "neural-network" and len(card["corpus"]["sha256"]) == 64
    assert card["training"]["epochs_run"] == 2 and card["training"]["seconds"] > 0
    assert card["split"]["abstracts"]["test"] > 0
    for part in ("validation", "test"):
        metrics = card["metrics"][part]
        assert 0 < metrics["log_loss"] < 12
        assert metrics["perplexity"] == pytest.approx(np.exp(metrics["log_loss"]), rel=1e-3)
        assert 0 <= metrics["top1_accuracy"] <= metrics["top5_accuracy"] <= 1
        assert 0 < metrics["unk_target_share"] < 1
    assert set(card["versions"]) >= {"numpy", "keras", "python"}
    assert 0.9 <= card["float16_weights"]["validation_argmax_agreement_with_float32"] <= 1
    assert {p.name for p in (tiny_models / "tiny").iterdir()} == {
        "config.json",
        "vocab.json",
        "weights.npz",
        "card.json",
    }


def test_bundle_round_trip_gives_identical_predictions(tiny_models, tmp_path):
    bundle = load_bundle("tiny", tiny_models)
    model = keras_model(bundle)
    ids = np.array([bundle.vocabulary.encode("A neural network is trained on data .")])
    before = np.asarray(model(ids, training=False))
    save_bundle("copy", bundle.config, bundle.vocabulary, bundle.weights, bundle.card, tmp_path)
    again = keras_model(load_bundle("copy", tmp_path))
    assert np.array_equal(before, np.asarray(again(ids, training=False)))


def test_float16_weights_keep_the_float32_argmax(tiny_models):
    from patentrnn.model import build_model, set_named_weights

    bundle = load_bundle("tiny", tiny_models)
    rng = np.random.default_rng(0)
    exact = {k: (v + rng.normal(0, 1e-3, v.shape)).astype(np.float32) for k, v in bundle.weights.items()}
    model32, model16 = build_model(bundle.config), build_model(bundle.config)
    set_named_weights(model32, exact)
    set_named_weights(model16, {k: v.astype(np.float16).astype(np.float32) for k, v in exact.items()})
    ids = np.array([bundle.vocabulary.encode(" ".join(bundle.vocabulary.words[2:60]))])
    agree = np.mean(np.asarray(model32(ids)).argmax(-1) == np.asarray(model16(ids)).argmax(-1))
    assert agree >= 0.98


def test_windows_mode_trains_and_is_scored_on_whole_abstracts(tiny_models):
    card = json.loads((tiny_models / "tiny-windows" / "card.json").read_text())
    assert card["training"]["mode"] == "windows"
    assert (
        card["metrics"]["test"]["targets"]
        == json.loads((tiny_models / "tiny" / "card.json").read_text())["metrics"]["test"]["targets"]
    )


def validation_ids(bundle):
    corpus = bundle.card["corpus"]
    abstracts = load_corpus(corpus["name"]).abstracts[: corpus["abstracts"]]
    return [bundle.vocabulary.encode(text) for text in split_abstracts(abstracts, bundle.split).validation[:200]]


def test_saved_bundles_put_their_most_active_dense_units_first(tiny_models):
    bundle = load_bundle("tiny", tiny_models)
    assert "most active first" in bundle.card["dense_units"]
    activity = Runtime(bundle).dense_activity(validation_ids(bundle))
    # (counted before the float16 rounding of the saved weights: allow a few positions' slack)
    assert np.all(np.diff(activity) <= 0.01), activity


def test_reordering_a_saved_bundle_changes_no_logit(tiny_models, tmp_path, data_dir):
    shutil.copytree(tiny_models / "tiny", tmp_path / "tiny")
    before = load_bundle("tiny", tmp_path)
    ids = validation_ids(before)[0][:30]
    expected = Runtime(before).sequence_logits(ids)
    # scramble the units, then let order_bundle_units put them back in order of activity
    scrambled = order_dense_units(before.weights, np.arange(before.config.dense_units)[::-1])
    save_bundle("tiny", before.config, before.vocabulary, scrambled, before.card, tmp_path)
    order_bundle_units("tiny", tmp_path)
    after = load_bundle("tiny", tmp_path)
    assert np.allclose(Runtime(after).sequence_logits(ids), expected, atol=1e-5)
    assert np.all(np.diff(Runtime(after).dense_activity(validation_ids(after))) <= 1e-9)


def test_score_logits_counts_unknown_targets_and_ranks():
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]]))
    scored = score_logits(logits, np.array([2, 1]))
    assert scored["nll"] == pytest.approx(-np.log(0.7) - np.log(0.3))
    assert scored["top1"] == 1 and scored["top5"] == 2 and scored["unk"] == 1


def test_batches_weight_only_real_words():
    inputs, targets, weights = abstract_batches([np.array([5, 6, 7, 8]), np.array([5, 6])], 4)[0]
    assert inputs.shape == (2, 3) and (weights > 0).sum() == 4
    rows = sorted(zip(inputs.tolist(), targets.tolist()))  # batches are ordered by length
    assert rows == [([5, 0, 0], [6, 0, 0]), ([5, 6, 7], [6, 7, 8])]


def test_corrupt_bundles_get_clear_errors(tiny_models, tmp_path):
    shutil.copytree(tiny_models / "tiny", tmp_path / "broken")
    (tmp_path / "broken" / "weights.npz").write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="corrupt"):
        load_bundle("broken", tmp_path)
    shutil.copytree(tiny_models / "tiny", tmp_path / "novocab")
    (tmp_path / "novocab" / "vocab.json").unlink()
    with pytest.raises(BundleError, match="corrupt or incomplete"):
        load_bundle("novocab", tmp_path)
    with pytest.raises(BundleError, match="unknown model"):
        load_bundle("nothing-here", tmp_path)
    with pytest.raises(BundleError, match="invalid model name"):
        load_bundle("../models/tiny", tmp_path)


def test_list_bundles_reads_cards(tiny_models):
    rows = {row["name"]: row for row in list_bundles(tiny_models)}
    assert set(rows) == {"tiny", "tiny-windows"}
    assert rows["tiny"]["test"]["perplexity"] > 1


def test_an_interrupted_run_resumes_from_its_checkpoint(tmp_path, data_dir):
    import keras

    from patentrnn.corpus import SplitConfig
    from patentrnn.training import TrainConfig, train

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    config = TrainConfig(preset="tiny", max_abstracts=60, epochs=3, patience=5, verbose=0, split=SplitConfig(0.2, 0.2))
    with pytest.raises(KeyboardInterrupt):
        train(config, "resumed", tmp_path, extra_callbacks=[Interrupt()])
    assert (tmp_path / ".resumed.checkpoint" / "backup").exists() and not (tmp_path / "resumed").exists()
    path = train(config, "resumed", tmp_path)
    card = json.loads((path / "card.json").read_text())
    assert card["training"]["epochs_run"] == 1, "epochs 1 and 2 came from the checkpoint"
    assert not (tmp_path / ".resumed.checkpoint").exists()
