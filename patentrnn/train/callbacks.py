"""Keras callbacks of our own for training."""

from __future__ import annotations

import time


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
