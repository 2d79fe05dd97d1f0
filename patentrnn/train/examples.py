"""Examples for training: abstracts (and titles) as id sequences, batched with loss weights.

See ``training`` for the two schemes (whole abstracts, the reference's windows) and title models'
``<title> title <abstract> abstract <end>``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..vocabulary import ABSTRACT_ID, END_ID, PAD_ID, TITLE_ID, UNK_ID, Vocabulary


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
        raise InputError(f"no abstract is longer than the {window}-word window")
    inputs, targets = np.stack(inputs), np.asarray(targets, dtype=np.int32)
    order = rng.permutation(len(inputs))
    inputs, targets = inputs[order], targets[order]
    return [(inputs[s : s + batch_size], targets[s : s + batch_size]) for s in range(0, len(inputs), batch_size)]


def as_dataset(batches: list[tuple], shuffle: bool, seed: int):
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
