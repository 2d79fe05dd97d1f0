"""Training end to end on a few abstracts, honest metrics, bundles that round-trip."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from patentrnn.bundle import BundleError, keras_model, list_bundles, load_bundle, save_bundle
from patentrnn.runtime import Runtime
from patentrnn.train.examples import abstract_batches
from patentrnn.train.metrics import score_logits


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
    from patentrnn.train.network import build_model, set_named_weights

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


def test_tied_bundle_stores_the_embedding_once_and_records_its_recipe(tiny_models):
    bundle = load_bundle("tiny-tied", tiny_models)
    assert bundle.config.tie_embeddings and "logits/kernel" not in bundle.weights
    assert bundle.weights["logits/bias"].shape == (bundle.config.vocab_size,)
    assert bundle.weights["dense/kernel"].shape == (bundle.config.lstm_units, bundle.config.embedding_dim)
    config = json.loads((tiny_models / "tiny-tied" / "config.json").read_text())
    assert config["format_version"] == 2 and config["model"]["locked_dropout"] is True
    assert bundle.card["training"]["weight_averaging"] is True
    assert 0 < bundle.card["metrics"]["test"]["log_loss"] < 12


def test_bundles_of_the_first_format_still_load(tiny_models, tmp_path):
    shutil.copytree(tiny_models / "tiny", tmp_path / "old")
    path = tmp_path / "old" / "config.json"
    config = json.loads(path.read_text())
    config["format_version"] = 1
    for key in ("tie_embeddings", "locked_dropout", "embedding_dropout_rate", "recurrent_dropout_rate"):
        config["model"].pop(key)
    path.write_text(json.dumps(config))
    bundle = load_bundle("old", tmp_path)
    assert not bundle.config.tie_embeddings and bundle.config.recurrent_dropout_rate == 0
    assert Runtime(bundle).read([2, 3, 4])[1].shape[0] >= bundle.config.vocab_size


def test_a_newer_bundle_format_gets_a_clear_message(tiny_models, tmp_path):
    shutil.copytree(tiny_models / "tiny-tied", tmp_path / "new")
    path = tmp_path / "new" / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": 99}))
    with pytest.raises(BundleError, match="format 99.*upgrade patentrnn"):
        load_bundle("new", tmp_path)


def test_regularisers_act_only_while_training():
    import keras

    from patentrnn.model import preset
    from patentrnn.train.network import build_model

    keras.utils.set_random_seed(0)
    model = build_model(preset("tiny-tied", vocab_size=40, embedding_dropout_rate=0.5, lstm_dropout_rate=0.5))
    ids = np.random.default_rng(0).integers(2, 40, (4, 12)).astype("int32")
    inferred = np.asarray(model(ids))
    assert not model.losses and np.array_equal(inferred, np.asarray(model(ids)))
    trained = np.asarray(model(ids, training=True))
    assert len(model.losses) == 1 and float(model.losses[0]) > 0  # AR + TAR, added while training
    assert not np.allclose(trained, inferred)


def test_word_type_and_locked_dropout_keep_one_mask():
    import keras

    from patentrnn.train.layers import WordTypeDropout

    keras.utils.set_random_seed(1)
    ids = np.array([[3, 5, 3, 7, 3, 5, 9, 3] * 4], dtype="int32")
    embedded = np.ones((1, ids.shape[1], 6), dtype="float32")
    dropped = np.asarray(WordTypeDropout(0.5, 12)([ids, embedded], training=True))[0, :, 0]
    for word in (3, 5, 7, 9):  # a word is dropped everywhere in the batch or nowhere
        assert len(set(dropped[ids[0] == word].tolist())) == 1
    assert set(dropped.tolist()) <= {0.0, 2.0}
    locked = keras.layers.Dropout(0.5, noise_shape=(None, 1, 6))
    masked = np.asarray(locked(np.ones((2, 9, 6), dtype="float32"), training=True))
    assert (masked == masked[:, :1, :]).all() and (masked == 0).any()  # one mask across time


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
    assert set(rows) == {"tiny", "tiny-windows", "tiny-tied", "tiny-title"}
    assert rows["tiny"]["test"]["perplexity"] > 1


@pytest.mark.slow  # (it trains or serves by itself)
def test_an_interrupted_run_resumes_from_its_checkpoint(tmp_path, data_dir):
    import keras

    from patentrnn.corpus import SplitConfig
    from patentrnn.train.training import TrainConfig, train

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
    # epochs 1 and 2 came from the checkpoint, epoch 3 was run now: the card holds all three
    assert card["training"]["epochs_run"] == 3
    assert len(card["training"]["history"]["loss"]) == len(card["training"]["history"]["val_loss"]) == 3
    assert not (tmp_path / ".resumed.checkpoint").exists()


@pytest.mark.slow  # (it trains or serves by itself)
def test_a_title_model_can_start_from_a_model_without_titles(tiny_models, tmp_path):
    from conftest import titled_corpus

    from patentrnn.corpus import SplitConfig
    from patentrnn.train.training import TrainConfig, train

    shutil.copytree(tiny_models / "tiny-tied", tmp_path / "tiny-tied")
    shutil.copytree(tiny_models / "tiny", tmp_path / "tiny")
    corpus = str(titled_corpus(tmp_path / "titled.csv"))
    config = TrainConfig(corpus=corpus, preset="tiny-tied", titles=True, split=SplitConfig(0.2, 0.2), verbose=0)
    config.epochs, config.learning_rate, config.init_from = 1, 1e-9, "tiny-tied"  # (barely moves: Adam's step ~ lr)
    source, started = load_bundle("tiny-tied", tmp_path), load_bundle(train(config, "started", tmp_path).name, tmp_path)
    assert started.card["training"]["init_from"] == "tiny-tied"
    new, old = started.vocabulary.index, source.vocabulary.index
    shared = [word for word in new if word in old]
    assert "The" in shared and "valve" in new and "valve" not in old
    rows = started.weights["embedding/embeddings"].astype(np.float32)
    was = source.weights["embedding/embeddings"].astype(np.float32)
    for word in shared:  # each of the source's words keeps its row, wherever its id now is
        np.testing.assert_allclose(rows[new[word]], was[old[word]], atol=1e-3)
    for key in ("lstm_1/kernel", "dense/kernel"):
        np.testing.assert_allclose(started.weights[key], source.weights[key], atol=1e-3)
    assert not np.allclose(rows[new["valve"]], 0)  # a word the source lacks starts fresh
    # a model of other layer sizes is refused, naming the array
    config.init_from = "tiny"
    with pytest.raises(ValueError, match="same layer sizes"):
        train(config, "refused", tmp_path)
    assert not (tmp_path / "refused").exists()


def test_training_says_why_it_stopped():
    from types import SimpleNamespace

    from patentrnn.train.callbacks import stop_reason

    early = SimpleNamespace(stopped_epoch=6, patience=2)
    budget = SimpleNamespace(stopped="the time budget of 42 minutes would have been overrun by another epoch")
    assert stop_reason([SimpleNamespace(stopped_epoch=0, patience=2)], 30) == "all 30 epochs run"
    assert stop_reason([early], 30).startswith("early stopping") and "2 epochs" in stop_reason([early], 30)
    assert "time budget of 42 minutes" in stop_reason([budget, early], 30)
