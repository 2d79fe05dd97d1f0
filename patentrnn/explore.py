"""Looking inside models: the model zoo table, nearest words, an embedding map.

Used by ``notebooks/explore.ipynb``; plain numpy, so it needs no TensorFlow.
"""

from __future__ import annotations

from html import escape

import numpy as np

from .bundle import Bundle, list_bundles
from .errors import InputError

# The 2018 reference's published results: validation = a random 30% of the
# 50-word windows, so validation text overlaps training text.
REFERENCE_RESULTS = [
    {"name": "train-embeddings-rnn (reference)", "layers": 1, "window": 50, "log_loss": 4.7379, "top1": 0.2672,
     "vocabulary": 16192},
    {"name": "train-embeddings-rnn-2-layers (reference)", "layers": 2, "window": 50, "log_loss": 5.156, "top1": 0.232,
     "vocabulary": 16192},
    {"name": "train-embeddings-rnn-20-length (reference)", "layers": 1, "window": 20, "log_loss": 4.59,
     "top1": 0.2688, "vocabulary": 16210},
]  # fmt: skip


def zoo_rows(directory=None) -> list[dict]:
    """Our bundles' test metrics and the reference's leaky validation metrics, one table."""
    rows = []
    for row in list_bundles(directory):
        test = row["test"]
        rows.append(
            {
                "model": row["name"],
                "corpus": row["corpus"],
                "evaluated on": "test split (whole abstracts)",
                "log loss": test.get("log_loss"),
                "perplexity": test.get("perplexity"),
                "top-1": test.get("top1_accuracy"),
                "top-5": test.get("top5_accuracy"),
                "unknown targets": test.get("unk_target_share"),
                "vocabulary": row["vocabulary"],
            }
        )
    for reference in REFERENCE_RESULTS:
        rows.append(
            {
                "model": reference["name"],
                "corpus": "neural-network",
                "evaluated on": "random 30% of windows (overlaps training)",
                "log loss": reference["log_loss"],
                "perplexity": round(float(np.exp(reference["log_loss"])), 2),
                "top-1": reference["top1"],
                "top-5": None,
                "unknown targets": None,
                "vocabulary": reference["vocabulary"],
            }
        )
    return rows


def table_html(rows: list[dict]) -> str:
    """A plain HTML table (values escaped; fractions shown as percentages)."""

    def cell(key, value):
        if value is None:
            return "–"
        if key in ("top-1", "top-5", "unknown targets"):
            return f"{value:.1%}"
        return escape(str(value))

    header = "".join(f"<th>{escape(key)}</th>" for key in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{cell(k, v)}</td>" for k, v in row.items()) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def normalized_embeddings(bundle: Bundle) -> np.ndarray:
    embeddings = bundle.weights["embedding/embeddings"].astype(np.float64)
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return embeddings / np.maximum(norms, 1e-12)


def nearest_words(bundle: Bundle, word: str, count: int = 10) -> list[tuple[str, float]]:
    """The ``count`` words whose embeddings have the highest cosine similarity to ``word``'s."""
    index = bundle.vocabulary.index
    if word not in index:
        raise InputError(f"{word!r} is not in the model's vocabulary")
    unit = normalized_embeddings(bundle)
    similarity = unit @ unit[index[word]]
    similarity[[0, 1, index[word]]] = -np.inf  # padding, unknown word, the word itself
    best = np.argsort(-similarity)[:count]
    return [(bundle.vocabulary.words[i], float(similarity[i])) for i in best]


def embedding_map(bundle: Bundle, count: int = 150) -> tuple[list[str], np.ndarray]:
    """The ``count`` most frequent words and their embeddings projected to 2-D (PCA)."""
    words = bundle.vocabulary.words[2 : 2 + count]  # ids follow frequency after <pad>, <unk>
    vectors = normalized_embeddings(bundle)[2 : 2 + count]
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return words, centred @ components[:2].T


def plot_embedding_map(bundle: Bundle, count: int = 150):
    """A matplotlib figure of ``embedding_map``."""
    import matplotlib.pyplot as plt

    words, points = embedding_map(bundle, count)
    figure, axes = plt.subplots(figsize=(11, 8))
    axes.scatter(points[:, 0], points[:, 1], s=8, color="#c00")
    for word, (x, y) in zip(words, points):
        axes.annotate(word, (x, y), fontsize=8, alpha=0.8)
    axes.set_title(f"{bundle.name}: embeddings of the {count} most frequent words (PCA)")
    axes.set_xticks([])
    axes.set_yticks([])
    return figure


def plot_history(card: dict):
    """Training and validation loss per epoch, from a bundle's card."""
    import matplotlib.pyplot as plt

    history = card["training"]["history"]
    figure, axes = plt.subplots(figsize=(7, 4))
    epochs = range(1, len(history["loss"]) + 1)
    axes.plot(epochs, history["loss"], "o-", label="training loss")
    if "val_loss" in history:
        axes.plot(epochs, history["val_loss"], "o-", label="validation loss")
    axes.set_xlabel("epoch")
    axes.set_ylabel("log loss (nats)")
    axes.legend()
    axes.set_title(card["name"])
    return figure
