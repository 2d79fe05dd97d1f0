"""What the form's controls say, shared by the live form (form.py) and its static preview (preview.py):
kept apart from ipywidgets, so that the server renders the preview without importing it."""

from __future__ import annotations

from .query import NO_COPY

STARTS = [
    ("My seed text", "seed"),
    ("From a title", "title"),
    ("Random real abstract", "random"),
    ("Analyse text", "analyse"),
]
SAMPLINGS = [("diversity only", "none"), ("top-k", "top_k"), ("top-p (nucleus)", "top_p")]
SEED_PLACEHOLDER = "Type the beginning of a patent abstract"
NO_COPY_LABEL = f"Never copy {NO_COPY + 1}+ words in a row from the training text"


def model_label(row: dict) -> str:
    perplexity = row["test"].get("perplexity")
    quality = f"test perplexity {perplexity:.1f}" if perplexity else "no test metrics"
    return f"{row['name']} ({row['corpus']}, {quality}{', titles' if row.get('titles') else ''})"
