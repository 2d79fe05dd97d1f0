"""Keras callbacks of our own for training, and reading what the callbacks left (history, why it stopped)."""

from __future__ import annotations

import time
from pathlib import Path


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
                    self.stopped = f"the time budget of {minutes:g} minutes would have been overrun by another epoch"

        return _TimeBudget()


def stop_reason(callbacks: list, epochs: int) -> str:
    """Why ``fit`` ended: the time budget, early stopping, or every epoch run."""
    for callback in callbacks:
        if getattr(callback, "stopped", None):
            return callback.stopped
        if getattr(callback, "stopped_epoch", 0) and hasattr(callback, "patience"):  # keras's EarlyStopping
            return f"early stopping: the validation loss had not improved for {callback.patience} epochs"
    return f"all {epochs} epoch{'s' * (epochs != 1)} run"


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
