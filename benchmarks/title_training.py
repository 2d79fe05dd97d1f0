"""What a title model's layers cost in training: one training step of the default's network, of the
title model's (``title_context``: ``layers.TitleBag`` and ``layers.TitledOutput``), and of the
title model with its two bonuses added as sums over the ``(batch, time, vocabulary)`` logits (the
first design, kept here only to measure it), side by side.

The three models train on the same batches of real titled abstracts (batch 8, as the default's recipe),
interleaved step by step after a warm-up, so that the machine's drift falls on all three alike.

    python benchmarks/title_training.py [--steps 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
from figures import p95

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def summed_bonus_model(config):
    """The first design: ``TiedOutput`` and then each bonus added as its own ``(batch, time, vocab)`` term."""
    import keras
    from keras import layers, ops

    from patentrnn.train.layers import TiedOutput, length_bonus
    from patentrnn.train.network import build_model
    from patentrnn.vocabulary import END_ID

    class SummedBonuses(layers.Layer):
        def build(self, input_shape):
            self.strength = self.add_weight(name="strength", shape=(input_shape[0][-1],), initializer="zeros")
            self.rate = self.add_weight(name="rate", shape=(2,), initializer="zeros")

        def call(self, inputs):
            logits, bag, words = inputs
            length = length_bonus(self.rate, words)
            logits = logits + bag[:, None, :] * self.strength
            return logits + ops.one_hot(END_ID, ops.shape(logits)[-1]) * length[..., None]

    titled = build_model(config)
    words = titled.input
    x = titled.get_layer("dense").output
    bag = titled.get_layer("title").output
    logits = TiedOutput(titled.get_layer("embedding"), name="tied")(x)
    return keras.Model(words, SummedBonuses(name="bonuses")([logits, bag, words]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args(argv)

    import keras

    from patentrnn import corpus
    from patentrnn.model import preset
    from patentrnn.train.examples import abstract_batches, encode_titled
    from patentrnn.train.network import build_model
    from patentrnn.vocabulary import Vocabulary

    data = corpus.load_corpus("neural-network")
    parts = corpus.split_abstracts(data.abstracts, titles=data.titles)
    vocabulary = Vocabulary.build(parts.train + parts.titles["train"], titles=True)
    sequences, starts = encode_titled(vocabulary, parts.train, parts.titles["train"])
    batches = abstract_batches(sequences, 8, starts)
    rng = np.random.default_rng(0)
    chosen = [batches[i] for i in rng.choice(len(batches), args.steps + 5, replace=False)]

    plain = preset("awd", vocab_size=len(vocabulary))
    titled = preset("awd", vocab_size=len(vocabulary), title_context=True)
    models = {"default's network": build_model(plain), "title model": build_model(titled)}
    models["title model, bonuses summed"] = summed_bonus_model(titled)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for model in models.values():
        model.compile(optimizer=keras.optimizers.Adam(2e-3, clipnorm=1.0), loss=loss)
        for inputs, targets, weights in chosen[:5]:  # warm-up: tracing and first allocations
            model.train_on_batch(inputs, targets, sample_weight=weights)
    times = {name: [] for name in models}
    for inputs, targets, weights in chosen[5:]:
        for name, model in models.items():
            started = time.perf_counter()
            model.train_on_batch(inputs, targets, sample_weight=weights)
            times[name].append((time.perf_counter() - started) * 1000)

    print(f"{args.steps} training steps each, batch 8, interleaved; vocabulary {len(vocabulary):,}\n")
    base = statistics.median(times["default's network"])
    print(f"{'model':32} {'median ms':>10} {'p95 ms':>8} {'ratio':>6}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:32} {median:10.1f} {p95(values):8.1f} {median / base:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
