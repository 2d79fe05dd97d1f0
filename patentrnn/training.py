"""Train a model on a corpus, evaluate it honestly, save it as a bundle.

Two ways to turn abstracts into examples:

* ``abstracts`` (default): each whole abstract is one sequence; every position
  predicts the next word (inputs ``ids[:-1]``, targets ``ids[1:]``)::

      words:   A  neural network learns .
      input:   A  neural network learns
      target:  neural network learns .

* ``windows``: the reference's scheme, every 50-word window predicts the one word
  after it.

With ``titles`` (abstracts mode), each example reads its patent's title first, as
PatentTransformer-2 does::

      <title> title words <abstract> abstract words <end>

and only the abstract's words and ``<end>`` are targets (loss weight 1; the title's
positions weigh 0): the title is context, and the model learns to end an abstract.
A share ``title_dropout`` of the training examples go without their title
(``<abstract>`` first), so that the model also writes from no title at all.

The vocabulary keeps every word of the training split. Words seen once in training
are, with probability ``unk_singleton_rate``, shown to the network as the unknown
word while it trains, so that it learns how often an unseen word comes next; the
test split's unknown words then still count as targets, scored as ``<unk>``.

Run ``patentrnn train --help`` for the command line.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import corpus as corpus_module
from .corpus import SplitConfig
from .documents import ReadOptions
from .model import ModelConfig
from .vocabulary import ABSTRACT_ID, END_ID, PAD_ID, TITLE_ID, UNK_ID, Vocabulary


@dataclass
class TrainConfig:
    """Everything one training run needs; stored in the bundle's card."""

    corpus: str = "neural-network"  # a corpus name or a file path (CSV, TSV, text, JSON lines, .gz)
    read: ReadOptions = field(default_factory=ReadOptions)  # how to read a file: format, columns
    preset: str = "default"  # a name in model.PRESETS
    model_overrides: dict = field(default_factory=dict)  # e.g. {"lstm_units": 128}
    mode: str = "abstracts"  # "abstracts" or "windows"
    window: int = 50  # window length in "windows" mode
    min_count: int = 1  # 1 keeps every training word, the reference's rule
    unk_singleton_rate: float = 0.5  # see the module docstring
    batch_size: int = 32
    epochs: int = 30
    patience: int = 3  # early stopping on validation loss
    learning_rate: float = 2e-3
    clipnorm: float = 1.0
    time_budget_minutes: float | None = None  # stop after the epoch that would overrun it
    max_abstracts: int | None = None  # use only the first N abstracts (tiny runs)
    split: SplitConfig = field(default_factory=SplitConfig)
    seed: int = 0
    checkpoint_dir: str | None = None  # resume from here after an interruption
    # Weight averaging: validate, checkpoint and save an exponential moving average of
    # the weights (Adam(use_ema=True) + keras.callbacks.SwapEMAWeights), the Keras
    # counterpart of AWD-LSTM's averaged SGD. 0.999 averages over ~1,000 steps (~3
    # epochs of the neural-network corpus at batch 8).
    weight_averaging: bool = False
    ema_momentum: float = 0.999
    titles: bool = False  # read each abstract's title first (see the module docstring)
    title_dropout: float = 0.2  # with titles: share of training examples shown without theirs
    verbose: int = 1  # Keras progress bar: 0 silent, 1 bar, 2 a line per epoch


# --- examples -----------------------------------------------------------------------


def encode_abstracts(vocabulary: Vocabulary, abstracts: list[str]) -> list[np.ndarray]:
    """Ids of each abstract with at least two words."""
    encoded = [np.asarray(vocabulary.encode(text), dtype=np.int32) for text in abstracts]
    return [ids for ids in encoded if len(ids) >= 2]


def hide_singletons(sequences: list[np.ndarray], vocabulary: Vocabulary, rate: float, rng) -> list[np.ndarray]:
    """Replace occurrences of words seen once in training by UNK with probability ``rate``."""
    if rate <= 0:
        return sequences
    counts = getattr(vocabulary, "counts", {})
    singleton = np.zeros(len(vocabulary), dtype=bool)
    for word, count in counts.items():
        if count == 1:
            singleton[vocabulary.index[word]] = True
    hidden = []
    for ids in sequences:
        ids = ids.copy()
        ids[singleton[ids] & (rng.random(len(ids)) < rate)] = UNK_ID
        hidden.append(ids)
    return hidden


def titled_sequence(vocabulary: Vocabulary, abstract: str, title: str | None) -> tuple[np.ndarray, int]:
    """``(ids, first target)`` of one title-model example: ``<title> title <abstract> abstract <end>``,
    or ``<abstract> abstract <end>`` when ``title`` is None; the first target is the abstract's
    first word (earlier positions are context)."""
    context = [ABSTRACT_ID] if title is None else [TITLE_ID, *vocabulary.encode(title), ABSTRACT_ID]
    ids = np.asarray([*context, *vocabulary.encode(abstract), END_ID], dtype=np.int32)
    return ids, len(context)


def encode_titled(
    vocabulary: Vocabulary, abstracts: list[str], titles: list[str | None]
) -> tuple[list[np.ndarray], list[int]]:
    """Title-model examples (``titled_sequence``) and their first targets; a None title: without it."""
    pairs = [titled_sequence(vocabulary, text, title) for text, title in zip(abstracts, titles)]
    return [ids for ids, _ in pairs], [start for _, start in pairs]


def abstract_batches(sequences: list[np.ndarray], batch_size: int, starts: list[int] | None = None) -> list[tuple]:
    """Batches of (inputs, targets, weights), right-padded; sequences of similar
    length share a batch so little time is spent on padding. Padding sits after
    the words, so a left-to-right LSTM needs no mask: only the loss weights it out.
    ``starts[i]``: the position in sequence i of its first target (1 when None: every word
    after the first); earlier positions are context and weigh 0."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    batches = []
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        width = max(len(sequences[i]) for i in chosen) - 1
        inputs = np.full((len(chosen), width), PAD_ID, dtype=np.int32)
        targets = np.full((len(chosen), width), PAD_ID, dtype=np.int32)
        weights = np.zeros((len(chosen), width), dtype=np.float32)
        for row, i in enumerate(chosen):
            ids = sequences[i]
            inputs[row, : len(ids) - 1] = ids[:-1]
            targets[row, : len(ids) - 1] = ids[1:]
            weights[row, (starts[i] if starts else 1) - 1 : len(ids) - 1] = 1.0
        # Keras averages a batch's loss over all its cells: scale so that the
        # average is over real words only.
        weights *= weights.size / weights.sum()
        batches.append((inputs, targets, weights))
    return batches


def window_batches(sequences: list[np.ndarray], window: int, batch_size: int, rng) -> list[tuple]:
    """The reference's examples: each ``window`` words predict the next one."""
    inputs, targets = [], []
    for ids in sequences:
        for end in range(window, len(ids)):
            inputs.append(ids[end - window : end])
            targets.append(ids[end])
    if not inputs:
        raise ValueError(f"no abstract is longer than the {window}-word window")
    inputs, targets = np.stack(inputs), np.asarray(targets, dtype=np.int32)
    order = rng.permutation(len(inputs))
    inputs, targets = inputs[order], targets[order]
    return [(inputs[s : s + batch_size], targets[s : s + batch_size]) for s in range(0, len(inputs), batch_size)]


def _dataset(batches: list[tuple], shuffle: bool, seed: int):
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.order = np.arange(len(batches))
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return len(batches)

        def __getitem__(self, index):
            return batches[self.order[index]]

        def on_epoch_end(self):
            if shuffle:
                self.rng.shuffle(self.order)

    return Batches()


# --- evaluation ---------------------------------------------------------------------


def score_logits(logits: np.ndarray, targets: np.ndarray) -> dict:
    """Sums over positions: negative log-likelihood (nats), top-1 and top-5 hits.

    ``logits`` is ``(n, vocab)``, ``targets`` is ``(n,)``."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    target_logit = shifted[np.arange(len(targets)), targets]
    # rank = how many words score strictly higher than the target
    rank = (shifted > target_logit[:, None]).sum(axis=1)
    return {
        "nll": float((log_z - target_logit).sum()),
        "top1": int((rank < 1).sum()),
        "top5": int((rank < 5).sum()),
        "count": len(targets),
        "unk": int((targets == UNK_ID).sum()),
    }


def finish_metrics(total: dict) -> dict:
    count = max(total["count"], 1)
    log_loss = total["nll"] / count
    return {
        "log_loss": round(log_loss, 4),
        "perplexity": round(math.exp(log_loss), 2),
        "top1_accuracy": round(total["top1"] / count, 4),
        "top5_accuracy": round(total["top5"] / count, 4),
        "targets": total["count"],
        "unk_target_share": round(total["unk"] / count, 4),
    }


def evaluate_model(
    model, vocabulary: Vocabulary, abstracts: list[str], batch_size: int = 8, titles: list[str | None] | None = None
) -> dict:
    """Score a Keras model on whole abstracts: every word after the first is a
    target, unknown words included (as ``<unk>``). A title model reads ``titles[i]`` first
    (None: no title, ``<abstract>`` first) and is scored on the same targets: its first
    word and ``<end>`` are left out, so that the figure compares with a model without titles."""
    if titles is None:
        sequences, starts = encode_abstracts(vocabulary, abstracts), None
    else:
        sequences, starts = encode_titled(vocabulary, abstracts, titles)
        sequences = [ids[:-1] for ids in sequences]  # (not <end>)
        starts = [start + 1 for start in starts]  # (not the first word)
    if not sequences:
        raise ValueError("no abstract with at least two words to evaluate on")
    total = {"nll": 0.0, "top1": 0, "top5": 0, "count": 0, "unk": 0}
    for inputs, targets, weights in abstract_batches(sequences, batch_size, starts):
        logits = np.asarray(model(inputs, training=False))
        real = weights > 0
        part = score_logits(logits[real], targets[real])
        for key in total:
            total[key] += part[key]
    return finish_metrics(total)


def half_precision_agreement(model, config: ModelConfig, vocabulary: Vocabulary, abstracts: list[str]) -> float:
    """Share of positions where the float16-rounded weights pick the same most likely
    next word as the float32 ones (bundles store float16)."""
    from .model import build_model

    rounded = build_model(config)
    rounded.set_weights([w.astype(np.float16).astype(np.float32) for w in model.get_weights()])
    same = total = 0
    for inputs, _, weights in abstract_batches(encode_abstracts(vocabulary, abstracts), 8):
        real = weights > 0
        exact = np.asarray(model(inputs, training=False)).argmax(-1)
        half = np.asarray(rounded(inputs, training=False)).argmax(-1)
        same += int((exact == half)[real].sum())
        total += int(real.sum())
    return round(same / max(total, 1), 5)


# --- training -----------------------------------------------------------------------


class TimeBudget:
    """Keras callback: stop after the epoch when another one would overrun the budget."""

    def __new__(cls, minutes: float):
        import keras

        class _TimeBudget(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start = time.monotonic()
                self.epoch_start = self.start

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch_start = time.monotonic()

            def on_epoch_end(self, epoch, logs=None):
                now = time.monotonic()
                if now - self.start + (now - self.epoch_start) > minutes * 60:
                    self.model.stop_training = True

        return _TimeBudget()


def train(
    config: TrainConfig, name: str, models_dir: str | os.PathLike | None = None, extra_callbacks: list | None = None
) -> Path:
    """Train, evaluate on validation and test, and save bundle ``name``. Returns its path.

    An interrupted run resumes from its checkpoint directory when started again with
    the same name (``config.checkpoint_dir``, default ``models/.<name>.checkpoint``);
    the directory is removed once the bundle is saved. ``extra_callbacks`` are Keras
    callbacks (progress reporting, plots)."""
    from . import bundle
    from .model import PRESETS, build_model, named_weights, preset

    started = time.monotonic()
    bundle.check_name(name)
    if config.mode not in ("abstracts", "windows"):
        raise ValueError("mode must be 'abstracts' or 'windows'")
    if config.preset not in PRESETS:
        raise ValueError(f"unknown preset {config.preset!r}: choose one of {', '.join(PRESETS)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    import keras

    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    data = corpus_module.load_corpus(config.corpus, options=config.read)
    abstracts = data.abstracts[: config.max_abstracts] if config.max_abstracts else data.abstracts
    titles = data.titles[: len(abstracts)] if config.titles else None
    if titles is not None and not any(titles):
        raise ValueError("titles: the corpus has no title column (give one with --title-column)")
    parts = corpus_module.split_abstracts(abstracts, config.split, titles)
    if not parts.train or not parts.validation or not parts.test:
        raise ValueError(
            f"the corpus is too small for a train / validation / test split: {len(abstracts)} documents gave "
            f"{len(parts.train)} / {len(parts.validation)} / {len(parts.test)}; give more documents "
            "(a few dozen at least)"
        )
    vocabulary = Vocabulary.build(
        parts.train + parts.titles.get("train", []), min_count=config.min_count, titles=config.titles
    )
    model_config: ModelConfig = preset(config.preset, vocab_size=len(vocabulary), **config.model_overrides)
    train_batches, validation_batches = _examples(config, vocabulary, parts, rng)
    model = build_model(model_config, last_only=config.mode == "windows")
    optimizer = keras.optimizers.Adam(
        config.learning_rate,
        clipnorm=config.clipnorm,
        use_ema=config.weight_averaging,
        ema_momentum=config.ema_momentum,
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    checkpoint_dir = Path(config.checkpoint_dir or Path(bundle.models_dir(models_dir)) / f".{name}.checkpoint")
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    best_path = checkpoint_dir / "best.weights.h5"
    # With weight averaging the averaged weights are swapped in for validation and for
    # the checkpoint (before ModelCheckpoint in the list), and out again to train on.
    averaging = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if config.weight_averaging else []
    history_path = checkpoint_dir / "history.csv"  # every epoch's figures, across resumed runs
    callbacks = averaging + [
        keras.callbacks.BackupAndRestore(str(checkpoint_dir / "backup")),
        keras.callbacks.ModelCheckpoint(str(best_path), save_best_only=True, save_weights_only=True),
        keras.callbacks.EarlyStopping(patience=config.patience),
        keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=1e-5),
        keras.callbacks.CSVLogger(str(history_path), append=True),  # last: it logs the learning rate too
    ]
    if config.time_budget_minutes:
        callbacks.append(TimeBudget(config.time_budget_minutes))
    callbacks += list(extra_callbacks or [])
    model.fit(
        _dataset(train_batches, shuffle=True, seed=config.seed),
        validation_data=_dataset(validation_batches, shuffle=False, seed=0),
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=config.verbose,
    )
    if best_path.exists():
        model.load_weights(str(best_path))
    history = read_history(history_path)
    training_seconds = time.monotonic() - started

    # Score a whole-sequence model with the trained weights, as generation runs it.
    scorer = build_model(model_config)
    scorer.set_weights(model.get_weights())
    validation_metrics = evaluate_model(scorer, vocabulary, parts.validation, titles=parts.titles.get("validation"))
    test_metrics = evaluate_model(scorer, vocabulary, parts.test, titles=parts.titles.get("test"))
    float16_agreement = half_precision_agreement(scorer, model_config, vocabulary, parts.validation)

    card = {
        "name": name,
        "corpus": {**data.card(), "abstracts": len(abstracts), "skipped_short": data.skipped},
        "split": {
            "method": "sha256 of each cleaned abstract's text; identical abstracts share a part",
            **asdict(config.split),
            "abstracts": {"train": len(parts.train), "validation": len(parts.validation), "test": len(parts.test)},
        },
        "vocabulary": {"size": len(vocabulary), "min_count": config.min_count},
        "training": {
            **{key: value for key, value in asdict(config).items() if key not in ("split", "verbose")},
            "epochs_run": len(history.get("loss", [])),
            "history": history,
            "seconds": round(training_seconds, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        },
        "metrics": {"validation": validation_metrics, "test": test_metrics},
        "float16_weights": {"validation_argmax_agreement_with_float32": float16_agreement},
    }
    path = bundle.save_bundle(name, model_config, vocabulary, named_weights(scorer), card, models_dir)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return path


def _examples(config: TrainConfig, vocabulary: Vocabulary, parts: corpus_module.Split, rng) -> tuple[list, list]:
    """Training and validation batches for ``config.mode`` (and ``config.titles``)."""
    if config.titles:
        if config.mode != "abstracts":
            raise ValueError("titles needs mode 'abstracts'")
        if not 0 <= config.title_dropout < 1:
            raise ValueError("title_dropout must be in [0, 1)")
        shown = [None if rng.random() < config.title_dropout else t for t in parts.titles["train"]]
        train_sequences, train_starts = encode_titled(vocabulary, parts.train, shown)
        validation_sequences, validation_starts = encode_titled(vocabulary, parts.validation, parts.titles["validation"])
    else:
        train_sequences = encode_abstracts(vocabulary, parts.train)
        validation_sequences = encode_abstracts(vocabulary, parts.validation)
        train_starts = validation_starts = None
    train_sequences = hide_singletons(train_sequences, vocabulary, config.unk_singleton_rate, rng)
    if config.mode == "abstracts":
        return (
            abstract_batches(train_sequences, config.batch_size, train_starts),
            abstract_batches(validation_sequences, config.batch_size, validation_starts),
        )
    return (
        window_batches(train_sequences, config.window, config.batch_size, rng),
        window_batches(validation_sequences, config.window, 256, rng),
    )


def read_history(path: Path) -> dict:
    """``{"loss": [...], "val_loss": [...], ...}`` from a Keras CSVLogger file, one value an
    epoch; an epoch logged twice (a run resumed from its last backup) keeps its last row."""
    import csv

    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        rows = {int(row["epoch"]): row for row in csv.DictReader(handle)}
    epochs = [rows[epoch] for epoch in sorted(rows)]
    keys = [key for key in (epochs[0] if epochs else {}) if key != "epoch"]
    return {key: [round(float(row[key]), 4) for row in epochs] for key in keys}


def config_from_json(text: str) -> TrainConfig:
    data = json.loads(text)
    split = SplitConfig(**data.pop("split", {}))
    read = ReadOptions(**data.pop("read", {}))
    return TrainConfig(split=split, read=read, **data)
