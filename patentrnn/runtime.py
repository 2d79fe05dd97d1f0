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


class Runtime:
    """Next-word logits from a bundle's weights, one step at a time, in float32.

    Arranged for few numpy calls per step (each costs ~1 us; the LSTM's product ~21 us
    and the output layer's ~26 us for the default model): the gates are reordered to
    input, forget, output, cell and the first three pre-scaled by 0.5, so that one
    ``tanh`` gives all four (sigmoid(x) = 0.5 + 0.5 tanh(x / 2)); the LSTM and dense
    biases ride in the products as a last row multiplied by a constant 1.
    """

    def __init__(self, bundle: Bundle, pad_to: int = 1):
        """``pad_to``: make the logits' length a multiple of this; the extra logits are
        -1e30 (no probability), so that a sampler can reshape them into blocks."""
        weights, config = bundle.weights, bundle.config
        self.config = config
        self.vocab_size = config.vocab_size
        units = self.units = config.lstm_units
        # Kept in float16, as stored: a row is cast to float32 when it is copied into
        # the step's input buffer, and the table is the largest array.
        self.embeddings = weights["embedding/embeddings"]
        keras_order = np.arange(4 * units).reshape(4, units)  # i, f, c, o
        order = keras_order[[0, 1, 3, 2]].ravel()  # i, f, o, c
        scale = np.ones(4 * units, dtype=np.float32)
        scale[: 3 * units] = 0.5
        self.layers = []
        for layer in range(1, config.lstm_layers + 1):
            stacked = (
                np.concatenate(
                    [
                        weights[f"lstm_{layer}/kernel"],
                        weights[f"lstm_{layer}/recurrent_kernel"],
                        weights[f"lstm_{layer}/bias"][None, :],
                    ]
                ).astype(np.float32)[:, order]
                * scale
            )
            self.layers.append(np.ascontiguousarray(stacked))
        dense = np.concatenate([weights["dense/kernel"], weights["dense/bias"][None, :]]).astype(np.float32)
        self.dense = np.ascontiguousarray(dense)
        extra = -config.vocab_size % pad_to
        # (the output bias stays apart: a 65th row made the product slower, 35 us against 26 + 1)
        self.output = np.pad(weights["logits/kernel"].astype(np.float32), ((0, 0), (0, extra)))
        self.output_bias = np.pad(weights["logits/bias"].astype(np.float32), (0, extra), constant_values=-1e30)
        self.hidden = np.ones(config.dense_units, dtype=np.float32)
        self.logits_buffer = np.empty(self.output.shape[1], dtype=np.float32)
        self.lstm_output = np.ones(units + 1, dtype=np.float32)  # last entry: the dense bias's 1

    def initial_state(self) -> list[tuple[np.ndarray, np.ndarray]]:
        zeros = np.zeros(self.units, dtype=np.float32)
        return [(zeros, zeros) for _ in self.layers]

    def _cell(self, z: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New hidden and cell state from the pre-activations ``z`` (gates in the order
        input, forget, output, cell; the first three pre-scaled by 0.5), in place on ``z``."""
        units = self.units
        np.tanh(z, out=z)
        gates = z[: 3 * units]
        gates *= 0.5
        gates += 0.5  # sigmoid of input, forget and output gates
        c = gates[units : 2 * units] * c
        c += gates[:units] * z[3 * units :]
        h = np.tanh(c)
        h *= gates[2 * units : 3 * units]
        return h, c

    def _lstm(self, state, token: int):
        x = self.embeddings[token]
        new_state = []
        for stacked, (h, c) in zip(self.layers, state):
            inputs = np.empty(stacked.shape[0], dtype=np.float32)
            inputs[: len(x)] = x
            inputs[len(x) : -1] = h
            inputs[-1] = 1.0
            h, c = self._cell(inputs @ stacked, c)
            new_state.append((h, c))
            x = h
        return new_state, x

    def logits(self, h: np.ndarray) -> np.ndarray:
        """Next-word logits after hidden state ``h``. They are written into a buffer that
        the next call reuses (a fresh 58 KB array a word left a serving kernel's heap
        fragmented: +6 MiB after 15 generations): copy them to keep them."""
        hidden = self.hidden
        self.lstm_output[:-1] = h
        np.matmul(self.lstm_output, self.dense, out=hidden)
        np.maximum(hidden, 0, out=hidden)
        np.matmul(hidden, self.output, out=self.logits_buffer)
        self.logits_buffer += self.output_bias
        return self.logits_buffer

    def step(self, state, token: int):
        """Feed one word id; return the new state and the next word's logits."""
        state, h = self._lstm(state, int(token))
        return state, self.logits(h)

    def read(self, tokens: Sequence[int], state=None):
        """Feed a sequence (the seed); return the state and logits after its last word."""
        if len(tokens) == 0:
            raise ValueError("cannot read an empty sequence")
        state = state if state is not None else self.initial_state()
        # Layer by layer: the inputs' share of every step is one matrix product for
        # the whole sequence, leaving only the recurrent product inside the loop.
        units = self.units
        sequence = np.asarray(self.embeddings[np.asarray(tokens, dtype=np.int64)], dtype=np.float32)
        new_state = []
        for stacked, (h, c) in zip(self.layers, state):
            width = sequence.shape[1]
            projected = sequence @ stacked[:width]
            projected += stacked[-1]
            recurrent = stacked[width:-1]
            outputs = np.empty((len(sequence), units), dtype=np.float32)
            for position in range(len(sequence)):
                z = h @ recurrent
                z += projected[position]
                h, c = self._cell(z, c)
                outputs[position] = h
            new_state.append((h, c))
            sequence = outputs
        return new_state, self.logits(h)

    def sequence_logits(self, tokens: Sequence[int]) -> np.ndarray:
        """Logits after every position, ``(len(tokens), vocab)``; for checks against Keras."""
        vocab = self.vocab_size
        state = self.initial_state()
        rows = []
        for token in tokens:
            state, h = self._lstm(state, int(token))
            rows.append(self.logits(h)[:vocab].copy())
        return np.stack(rows)
