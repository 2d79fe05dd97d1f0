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

``init_from`` starts a run from another bundle's weights (``warm_start``): a title model from
the default, say, which then learns to read titles instead of learning the language anew.

The vocabulary keeps every word of the training split. Words seen once in training
are, with probability ``unk_singleton_rate``, shown to the network as the unknown
word while it trains, so that it learns how often an unseen word comes next; the
test split's unknown words then still count as targets, scored as ``<unk>``.

Run ``patentrnn train --help`` for the command line.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import corpus as corpus_module
from ..corpus import SplitConfig
from ..documents import ReadOptions
from ..errors import InputError
from ..model import ModelConfig
from ..settings import quiet_tensorflow
from ..vocabulary import Vocabulary
from .callbacks import TimeBudget, read_history, stop_reason
from .examples import abstract_batches, as_dataset, encode_abstracts, encode_titled, hide_singletons, window_batches
from .metrics import evaluate_model, half_precision_agreement


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
    init_from: str | None = None  # a bundle to start from (same architecture; see warm_start)
    verbose: int = 1  # Keras progress bar: 0 silent, 1 bar, 2 a line per epoch


HELP = {  # the command line's help for each TrainConfig field (patentrnn train --help)
    "corpus": "neural-network, baseball, or a file: CSV, TSV, plain text, JSON lines, or a .gz of one",
    "preset": "architecture: default, awd, large, reference or tiny",
    "mode": "abstracts (whole abstracts) or windows (the reference's 50-word windows)",
    "window": "window length in windows mode",
    "min_count": "keep words seen at least this often in training (1: every word)",
    "unk_singleton_rate": "share of words seen once in training shown as <unk> while training",
    "time_budget_minutes": "minutes; stop after the epoch that would overrun",
    "max_abstracts": "use only the first N abstracts (tiny runs)",
    "checkpoint_dir": "resume from here after an interruption (default models/.NAME.checkpoint)",
    "weight_averaging": "validate and save averaged weights (EMA)",
    "titles": "read each abstract's title first: <title> title <abstract> abstract <end>",
    "title_dropout": "with --titles: share of training examples shown without their title",
    "init_from": "start from this bundle's weights (same layer sizes; a word it lacks starts fresh)",
    "verbose": "Keras progress: 0 silent, 1 a bar, 2 a line an epoch",
}
FLAGS = {"time_budget_minutes": "--time-budget"}  # (shorter than the field's name)


# --- training -----------------------------------------------------------------------


def train(
    config: TrainConfig, name: str, models_dir: str | os.PathLike | None = None, extra_callbacks: list | None = None
) -> Path:
    """Train, evaluate on validation and test, and save bundle ``name``. Returns its path.

    An interrupted run resumes from its checkpoint directory when started again with
    the same name (``config.checkpoint_dir``, default ``models/.<name>.checkpoint``);
    the directory is removed once the bundle is saved. ``extra_callbacks`` are Keras
    callbacks (progress reporting, plots)."""
    from .. import bundle
    from ..model import preset
    from .network import build_model, named_weights

    started = time.monotonic()
    _check(config, name)
    quiet_tensorflow()
    import keras

    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    data, abstracts, parts = _read_and_split(config)
    vocabulary = Vocabulary.build(
        parts.train + parts.titles.get("train", []), min_count=config.min_count, titles=config.titles
    )
    model_config: ModelConfig = preset(config.preset, vocab_size=len(vocabulary), **config.model_overrides)
    if config.titles and model_config.tie_embeddings and "title_context" not in config.model_overrides:
        model_config = replace(model_config, title_context=True)  # (see train.network.build_model)
    train_batches, validation_batches = _examples(config, vocabulary, parts, rng)
    model = _compiled_model(config, model_config)
    if config.init_from:
        warm_start(model, bundle.load_bundle(config.init_from, models_dir), vocabulary)
    checkpoint_dir = Path(config.checkpoint_dir or Path(bundle.models_dir(models_dir)) / f".{name}.checkpoint")
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    best_path, history_path = checkpoint_dir / "best.weights.h5", checkpoint_dir / "history.csv"
    callbacks = _callbacks(config, checkpoint_dir, best_path, history_path) + list(extra_callbacks or [])
    model.fit(
        as_dataset(train_batches, shuffle=True, seed=config.seed),
        validation_data=as_dataset(validation_batches, shuffle=False, seed=0),
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=config.verbose,
    )
    if best_path.exists():
        model.load_weights(str(best_path))
    history, training_seconds = read_history(history_path), time.monotonic() - started

    # Score a whole-sequence model with the trained weights, as generation runs it.
    scorer = build_model(model_config)
    scorer.set_weights(model.get_weights())
    validation_metrics, test_metrics, float16_agreement = _figures(scorer, model_config, vocabulary, parts)
    card = _card(name, config, data, abstracts, parts, vocabulary, history, training_seconds)
    card["training"]["stopped"] = stop_reason(callbacks, config.epochs)
    card["metrics"] = {"validation": validation_metrics, "test": test_metrics}
    card["float16_weights"] = {"validation_argmax_agreement_with_float32": float16_agreement}
    path = bundle.save_bundle(name, model_config, vocabulary, named_weights(scorer), card, models_dir)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return path


def _check(config: TrainConfig, name: str) -> None:
    """The bundle's name and the settings the dataclass cannot check alone, before any work."""
    from .. import bundle
    from ..model import PRESETS

    bundle.check_name(name)
    if config.mode not in ("abstracts", "windows"):
        raise InputError("mode must be 'abstracts' or 'windows'")
    if config.preset not in PRESETS:
        raise InputError(f"unknown preset {config.preset!r}: choose one of {', '.join(PRESETS)}")


def warm_start(model, source, vocabulary: Vocabulary) -> None:
    """Start ``model`` from bundle ``source``'s weights: each array of the same shape is copied, and the
    rows of a per-word array (the embedding, the output bias) are copied word by word, so a word that
    ``source`` lacks keeps its fresh initial row. Arrays that ``source`` lacks (a title model's
    bonuses, from a model without titles) keep theirs. Raises ``ValueError`` when the layers differ.
    A resumed run's checkpoint replaces all of this when training begins."""
    from .network import named_variables

    old = source.vocabulary.index
    pairs = [(new, old[word]) for new, word in enumerate(vocabulary.words) if word in old]
    rows_new, rows_old = (np.asarray(rows, dtype=np.int64) for rows in zip(*pairs))
    variables = named_variables(model)
    if extra := sorted(set(source.weights) - set(variables)):
        raise InputError(
            f"init_from: {source.name} has weights this model lacks ({', '.join(extra)}): "
            "start from a model with the same layer sizes"
        )
    for key, variable in variables.items():
        if key not in source.weights:
            continue
        value, shape = source.weights[key].astype(np.float32), tuple(variable.shape)
        if shape and (shape[0], value.shape[0]) == (len(vocabulary), len(old)) and value.shape[1:] == shape[1:]:
            start = np.array(variable.numpy())
            start[rows_new] = value[rows_old]
            value = start
        if value.shape != shape:
            raise InputError(
                f"init_from: {source.name}'s {key} has shape {value.shape}, this model's is {shape}: "
                "start from a model with the same layer sizes"
            )
        variable.assign(value)


def _read_and_split(config: TrainConfig):
    """The corpus, the abstracts used, and their split (titles beside them with ``config.titles``)."""
    data = corpus_module.load_corpus(config.corpus, options=config.read)
    abstracts = data.abstracts[: config.max_abstracts] if config.max_abstracts else data.abstracts
    titles = data.titles[: len(abstracts)] if config.titles else None
    if titles is not None and not any(titles):
        raise InputError("titles: the corpus has no title column (give one with --title-column)")
    parts = corpus_module.split_abstracts(abstracts, config.split, titles)
    if not parts.train or not parts.validation or not parts.test:
        raise InputError(
            f"the corpus is too small for a train / validation / test split: {len(abstracts)} documents gave "
            f"{len(parts.train)} / {len(parts.validation)} / {len(parts.test)}; give more documents "
            "(a few dozen at least)"
        )
    return data, abstracts, parts


def _figures(scorer, model_config: ModelConfig, vocabulary: Vocabulary, parts) -> tuple[dict, dict, float]:
    """Validation and test figures (a title model reads each title first), and float16's agreement."""
    validation = evaluate_model(scorer, vocabulary, parts.validation, titles=parts.titles.get("validation"))
    test = evaluate_model(scorer, vocabulary, parts.test, titles=parts.titles.get("test"))
    return validation, test, half_precision_agreement(scorer, model_config, vocabulary, parts.validation)


def _compiled_model(config: TrainConfig, model_config: ModelConfig):
    import keras

    from .network import build_model

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
    return model


def _callbacks(config: TrainConfig, checkpoint_dir: Path, best_path: Path, history_path: Path) -> list:
    import keras

    # With weight averaging the averaged weights are swapped in for validation and for
    # the checkpoint (before ModelCheckpoint in the list), and out again to train on.
    averaging = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if config.weight_averaging else []
    callbacks = averaging + [
        keras.callbacks.BackupAndRestore(str(checkpoint_dir / "backup")),
        keras.callbacks.ModelCheckpoint(str(best_path), save_best_only=True, save_weights_only=True),
        keras.callbacks.EarlyStopping(patience=config.patience),
        keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_lr=1e-5),
        keras.callbacks.CSVLogger(str(history_path), append=True),  # every epoch's figures, across resumed runs
    ]
    if config.time_budget_minutes:
        callbacks.append(TimeBudget(config.time_budget_minutes))
    return callbacks


def _card(name: str, config: TrainConfig, data, abstracts: list, parts, vocabulary, history: dict, seconds: float):
    """The bundle's card, but for its metrics."""
    return {
        "name": name,
        "corpus": {**data.card(), "abstracts": len(abstracts), "skipped_short": data.skipped},
        "split": {
            "method": "sha256 of each cleaned abstract's text; identical abstracts share a part",
            **asdict(config.split),
            "abstracts": {"train": len(parts.train), "validation": len(parts.validation), "test": len(parts.test)},
        },
        "vocabulary": {"size": len(vocabulary), "min_count": config.min_count},
        "training": _training_record(config, history, seconds),
    }


def _training_record(config: TrainConfig, history: dict, seconds: float) -> dict:
    return {
        **{key: value for key, value in asdict(config).items() if key not in ("split", "verbose")},
        "epochs_run": len(history.get("loss", [])),
        "history": history,
        "seconds": round(seconds, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
    }


def _examples(config: TrainConfig, vocabulary: Vocabulary, parts: corpus_module.Split, rng) -> tuple[list, list]:
    """Training and validation batches for ``config.mode`` (and ``config.titles``)."""
    if config.titles:
        if config.mode != "abstracts":
            raise InputError("titles needs mode 'abstracts'")
        if not 0 <= config.title_dropout < 1:
            raise InputError("title_dropout must be in [0, 1)")
        shown = [None if rng.random() < config.title_dropout else t for t in parts.titles["train"]]
        train_sequences, train_starts = encode_titled(vocabulary, parts.train, shown)
        validation = parts.titles["validation"]
        validation_sequences, validation_starts = encode_titled(vocabulary, parts.validation, validation)
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


def config_from_json(text: str) -> TrainConfig:
    data = json.loads(text)
    split = SplitConfig(**data.pop("split", {}))
    read = ReadOptions(**data.pop("read", {}))
    return TrainConfig(split=split, read=read, **data)
