"""Model bundles: a directory per model under ``models/``.

    models/<name>/
        config.json   architecture (ModelConfig) and tokenizer settings
        vocab.json    the vocabulary, id order
        weights.npz   named float16 arrays, "layer/weight" (see model.named_weights)
        card.json     corpus and its sha256, split, metrics, training time, versions

Loading a bundle needs numpy only; ``keras_model`` rebuilds the Keras network.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import shutil
import struct
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import SplitConfig
from .errors import InputError
from .model import ModelConfig
from .settings import models_dir
from .vocabulary import Vocabulary

log = logging.getLogger(__name__)
DEFAULT_MODEL = "neural-network-title"  # at least as good as neural-network-lstm without a title (models/README)
PLAIN_MODEL = "neural-network-lstm"  # the default model without titles, which title models are compared with
FORMAT_VERSION = 2  # 2: tied embeddings (a model without logits/kernel); 1 still loads
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
FILES = ("config.json", "vocab.json", "weights.npz", "card.json")


class BundleError(InputError):
    """A bundle is missing, misnamed or corrupt."""


def check_name(name: str) -> str:
    """A bundle name is a plain directory name: letters, digits, ``. _ -``; no paths."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise BundleError(f"invalid model name {str(name)[:80]!r}: use letters, digits, '.', '_' and '-' (no paths)")
    return name


@dataclass
class Bundle:
    name: str
    path: Path
    config: ModelConfig
    vocabulary: Vocabulary
    weights: dict  # name -> array, float16 as stored (users cast: the runtime keeps float32 copies)
    card: dict

    @property
    def test_metrics(self) -> dict:
        return self.card.get("metrics", {}).get("test", {})

    @property
    def split(self) -> SplitConfig:
        """How the model's corpus was split, as its card records it."""
        split = self.card.get("split", {})
        return SplitConfig(split.get("validation", 0.1), split.get("test", 0.1), split.get("seed", 0))


def _versions() -> dict:
    from importlib import metadata  # here: a serving kernel never saves, and it costs ~1 MiB

    versions = {"python": sys.version.split()[0], "numpy": np.__version__}
    for package in ("patentrnn", "keras", "tensorflow-cpu", "tensorflow"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def save_bundle(
    name: str,
    config: ModelConfig,
    vocabulary: Vocabulary,
    weights: dict,
    card: dict,
    directory: str | os.PathLike | None = None,
) -> Path:
    """Write a bundle atomically: into a temporary directory, then renamed into place."""
    check_name(name)
    root = models_dir(directory)
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    card = {
        **card,
        "format_version": FORMAT_VERSION,
        "weights_dtype": "float16",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": _versions(),
    }
    model_json = {
        "format_version": FORMAT_VERSION,
        "model": config.to_dict(),
        "tokenizer": {"level": "word", "lower": False, "filters": vocabulary.filters, "cleaning": "reference"},
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        (staging / "config.json").write_text(json.dumps(model_json, indent=2) + "\n")
        (staging / "vocab.json").write_text(vocabulary.to_json())
        # uncompressed (float16 barely compresses: 5.8 MB against 6.6 MB), so it can be memory-mapped
        np.savez(staging / "weights.npz", **{k: np.asarray(v, np.float16) for k, v in weights.items()})
        (staging / "card.json").write_text(json.dumps(card, indent=2) + "\n")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old.", dir=root))
            os.replace(target, old / name)
            os.replace(staging, target)
            shutil.rmtree(old)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def load_bundle(name: str | None = None, directory: str | os.PathLike | None = None) -> Bundle:
    """Read a bundle by name (the default model when None). Needs numpy only."""
    name = check_name(name or DEFAULT_MODEL)
    path = models_dir(directory) / name
    if not path.is_dir():
        available = ", ".join(list_names(directory)) or "none"
        raise BundleError(f"unknown model {name!r} (available: {available})")
    try:
        model_json = json.loads((path / "config.json").read_text())
        version = model_json.get("format_version", 1)
        config = ModelConfig.from_dict(model_json["model"]) if version <= FORMAT_VERSION else None
        vocabulary = Vocabulary.from_json((path / "vocab.json").read_text())
        weights = read_weights(path / "weights.npz")
        card = json.loads((path / "card.json").read_text())
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as error:
        raise BundleError(f"model {name!r} at {path} is corrupt or incomplete: {error}") from error
    if config is None:
        raise BundleError(
            f"model {name!r} was saved in bundle format {version}; this patentrnn reads up to {FORMAT_VERSION}:"
            " upgrade patentrnn"
        )
    if len(vocabulary) != config.vocab_size:
        raise BundleError(
            f"model {name!r} is corrupt: vocabulary has {len(vocabulary)} words, config says {config.vocab_size}"
        )
    output = "logits/bias" if config.tie_embeddings else "logits/kernel"
    expected = {"embedding/embeddings", "dense/kernel", output} | {
        f"lstm_{layer}/kernel" for layer in range(1, config.lstm_layers + 1)
    }
    if config.title_context:
        expected |= {"logits/strength", "logits/rate"}
    if not expected <= set(weights):
        raise BundleError(f"model {name!r} is corrupt: weights lack {sorted(expected - set(weights))}")
    shapes = {
        "embedding/embeddings": (config.vocab_size, config.embedding_dim),
        "dense/kernel": (config.lstm_units, config.output_units),
        output: (config.vocab_size,) if config.tie_embeddings else (config.dense_units, config.vocab_size),
    }
    if any(weights[key].shape != shape for key, shape in shapes.items()):
        raise BundleError(f"model {name!r} is corrupt: its weights do not match its config")
    return Bundle(name, path, config, vocabulary, weights, card)


def read_weights(path: Path) -> dict:
    """The named arrays of a ``weights.npz``, read-only.

    Members stored uncompressed are memory-mapped rather than read: pages come in as
    they are used, and a serving kernel uses few rows of the embedding table. Measured
    for neural-network-lstm: 3.4 MiB less kernel RSS, against an 80 MiB target. ``np.load``
    cannot map the members of an .npz, hence the zip bookkeeping here."""
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            handle.seek(info.header_offset)
            local_header = handle.read(30)
            if local_header[:4] != b"PK\x03\x04":
                raise ValueError(f"{path}: damaged zip entry {info.filename}")
            name_length, extra_length = struct.unpack("<HH", local_header[26:30])
            handle.seek(info.header_offset + 30 + name_length + extra_length)
            version = np.lib.format.read_magic(handle) if info.compress_type == zipfile.ZIP_STORED else None
            if version not in ((1, 0), (2, 0)):  # compressed, or a header version we do not map
                with archive.open(info) as member:
                    arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            header = np.lib.format
            read_header = header.read_array_header_1_0 if version == (1, 0) else header.read_array_header_2_0
            shape, fortran_order, dtype = read_header(handle)
            if dtype.hasobject:
                raise ValueError(f"{path}: {name} holds Python objects")
            arrays[name] = np.memmap(
                path, dtype=dtype, mode="r", offset=handle.tell(), shape=shape, order="F" if fortran_order else "C"
            )
    return arrays


def list_names(directory: str | os.PathLike | None = None) -> list[str]:
    root = models_dir(directory)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _NAME.match(p.name) and (p / "card.json").exists())


def list_bundles(directory: str | os.PathLike | None = None) -> list[dict]:
    """Each bundle's name, corpus and metrics, from its card (weights are not read);
    the default model first."""
    rows = []
    for name in list_names(directory):
        try:
            card = json.loads((models_dir(directory) / name / "card.json").read_text())
            if not isinstance(card, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:
            log.warning("model %r left out: its card.json cannot be read (%s)", name, error)
            continue
        rows.append(
            {
                "name": name,
                "default": name == DEFAULT_MODEL,
                "corpus": card.get("corpus", {}).get("name"),
                "vocabulary": card.get("vocabulary", {}).get("size"),
                "test": card.get("metrics", {}).get("test", {}),
                "validation": card.get("metrics", {}).get("validation", {}),
                "training_minutes": round(card.get("training", {}).get("seconds", 0) / 60, 1),
                "memorisation": card.get("memorisation", {}),  # patentrnn memorisation --write
                "titles": card.get("training", {}).get("titles", False),
                "title_figures": card.get("title_figures", {}),  # patentrnn title-figures --write
                "cache": card.get("cache", {}),  # patentrnn cache --write
            }
        )
    rows.sort(key=lambda row: (not row["default"], row["name"]))
    return rows


def card_setting(card: dict, key: str, make, fields: dict):
    """What a command chose on the validation split and wrote into the card under ``key`` (``patentrnn
    cache``, ``patentrnn topic``): ``make(**{name: convert(entry[name])})`` for ``fields`` (name: convert),
    or None when the card has none, or the command found nothing that helps (``weight`` None). A malformed
    entry raises ``BundleError`` naming the fields."""
    entry = card.get(key) or {}
    if not entry.get("weight"):
        return None
    try:
        return make(**{name: convert(entry[name]) for name, convert in fields.items()})
    except (KeyError, TypeError, ValueError) as error:
        *names, last = fields
        raise BundleError(f"card.json's {key!r} needs {', '.join(names)} and {last} ({error})") from None


def write_card_figures(bundle_path: str | os.PathLike, key: str, figures: dict, measured_card: dict | None = None):
    """Put ``figures`` into the bundle's card.json under ``key`` (the weights are not touched):
    what ``patentrnn memorisation --write`` and ``patentrnn title-figures --write`` measured. With
    ``measured_card`` (the card of the model measured), refuses when the bundle on disk has been
    replaced since, e.g. retrained."""
    card_path = Path(bundle_path) / "card.json"
    card = json.loads(card_path.read_text())
    if measured_card is not None and {**card, key: None} != {**measured_card, key: None}:
        raise ValueError(f"{bundle_path} changed while it was measured (retrained?): run the measurement again")
    card[key] = figures
    handle, staging = tempfile.mkstemp(prefix=".card.", suffix=".json", dir=card_path.parent)
    with os.fdopen(handle, "w") as out:
        out.write(json.dumps(card, indent=2) + "\n")
    os.replace(staging, card_path)


def keras_model(bundle: Bundle):
    """Rebuild the bundle's network in Keras with its weights (imports Keras)."""
    from .train.network import build_model, set_named_weights

    model = build_model(bundle.config)
    set_named_weights(model, bundle.weights)
    return model
