"""A numpy LSTM that runs a bundle's weights without TensorFlow.

Keras computes the whole sequence again for every new word; here the seed is read
once and the network then steps one word at a time, carrying its state. Keras's
LSTM gate order is input, forget, cell, output; activations tanh and sigmoid.

    >>> runtime = Runtime(load_bundle("neural-network-lstm"))
    >>> state, logits = runtime.read([5, 17, 42])
    >>> state, logits = runtime.step(state, int(logits.argmax()))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .bundle import Bundle


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # tanh form: one ufunc pass, no overflow warnings for large negative x
    return 0.5 + 0.5 * np.tanh(0.5 * x)


class Runtime:
    """Next-word logits from a bundle's weights, one step at a time, in float32."""

    def __init__(self, bundle: Bundle, pad_to: int = 1):
        """``pad_to``: make the logits' length a multiple of this, the extra logits
        ``-inf`` (no probability), so that a sampler can reshape them into blocks."""
        weights, config = bundle.weights, bundle.config
        self.config = config
        self.vocab_size = config.vocab_size
        # Kept in float16, as stored: a row is promoted to float32 when it meets the
        # hidden state (np.concatenate), and the table is the largest array.
        self.embeddings = weights["embedding/embeddings"]
        self.layers = []
        for layer in range(1, config.lstm_layers + 1):
            kernel = weights[f"lstm_{layer}/kernel"]
            recurrent = weights[f"lstm_{layer}/recurrent_kernel"]
            bias = weights[f"lstm_{layer}/bias"]
            # one product per step: [input, hidden] @ [kernel; recurrent_kernel]
            stacked = np.ascontiguousarray(np.concatenate([kernel, recurrent], axis=0), dtype=np.float32)
            self.layers.append((stacked, kernel.shape[0], bias.astype(np.float32)))
        self.dense_kernel = weights["dense/kernel"].astype(np.float32)
        self.dense_bias = weights["dense/bias"].astype(np.float32)
        extra = -config.vocab_size % pad_to
        self.output_kernel = np.pad(weights["logits/kernel"].astype(np.float32), ((0, 0), (0, extra)))
        self.output_bias = np.pad(weights["logits/bias"].astype(np.float32), (0, extra), constant_values=-np.inf)
        self.units = config.lstm_units

    def initial_state(self) -> list[tuple[np.ndarray, np.ndarray]]:
        zeros = np.zeros(self.units, dtype=np.float32)
        return [(zeros, zeros) for _ in self.layers]

    def _lstm(self, state, token: int):
        x = self.embeddings[token]
        new_state = []
        units = self.units
        for (stacked, _, bias), (h, c) in zip(self.layers, state):
            z = np.concatenate([x, h]) @ stacked
            z += bias
            gates = _sigmoid(z)
            c = gates[units : 2 * units] * c + gates[:units] * np.tanh(z[2 * units : 3 * units])
            h = gates[3 * units :] * np.tanh(c)
            new_state.append((h, c))
            x = h
        return new_state, x

    def logits(self, h: np.ndarray) -> np.ndarray:
        hidden = h @ self.dense_kernel
        hidden += self.dense_bias
        np.maximum(hidden, 0, out=hidden)
        out = hidden @ self.output_kernel
        out += self.output_bias
        return out

    def step(self, state, token: int):
        """Feed one word id; return the new state and the next word's logits."""
        state, h = self._lstm(state, int(token))
        return state, self.logits(h)

    def read(self, tokens: Sequence[int], state=None):
        """Feed a sequence (the seed); return the state and logits after its last word."""
        if len(tokens) == 0:
            raise ValueError("cannot read an empty sequence")
        state = state if state is not None else self.initial_state()
        for token in tokens:
            state, h = self._lstm(state, int(token))
        return state, self.logits(h)

    def sequence_logits(self, tokens: Sequence[int]) -> np.ndarray:
        """Logits after every position, ``(len(tokens), vocab)``; for checks against Keras."""
        vocab = self.vocab_size
        state = self.initial_state()
        rows = []
        for token in tokens:
            state, h = self._lstm(state, int(token))
            rows.append(self.logits(h)[:vocab])
        return np.stack(rows)
