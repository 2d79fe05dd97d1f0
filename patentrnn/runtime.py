"""A numpy LSTM that runs a bundle's weights without TensorFlow.

Keras computes the whole sequence again for every new word; here the seed is read
once and the network then steps one word at a time, carrying its state. Keras's
LSTM gate order is input, forget, cell, output; activations tanh and sigmoid.

    >>> runtime = Runtime(load_bundle("neural-network-lstm"))
    >>> state, logits = runtime.read([5, 17, 42])
    >>> state, logits = runtime.step(state, int(logits.argmax()))

Generation runs ``Cursor``, the same arithmetic arranged for the fewest numpy calls
a word; a test holds both to Keras's probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .bundle import Bundle
from .cache import Cache, CacheConfig
from .model import TITLE_WINDOW
from .topic import Topic, TopicConfig
from .vocabulary import ABSTRACT_ID, END_ID

MAX_INPUT_ROWS = 2048  # words whose input share a runtime keeps (4 KB each for the default model)
# (products in the word loop use np.dot: 0.4-0.7 us less a call than np.matmul, measured)


class Cell:
    """The LSTM cell on fixed buffers. ``run()`` turns the pre-activations in ``z``
    (gates in the order input, forget, output, cell; the first three pre-scaled by
    0.5) into the new ``c`` and ``h``, in place: one ``tanh`` for all four, then
    sigmoid = 0.5 + 0.5 tanh(x / 2). The gate views are made once (a view costs as
    much as a small numpy operation)."""

    def __init__(self, z: np.ndarray, c: np.ndarray, h: np.ndarray, halves: np.ndarray | None = None):
        units = len(c)
        self.z, self.c, self.h = z, c, h
        self.gates = z[: 3 * units]
        self.input, self.forget = z[:units], z[units : 2 * units]
        self.output, self.candidate = z[2 * units : 3 * units], z[3 * units : 4 * units]
        # (an array operand: 0.3 us against 0.75 for a Python scalar, measured)
        self.halves = np.full(3 * units, 0.5, dtype=np.float32) if halves is None else halves

    def run(self) -> None:
        np.tanh(self.z, self.z)
        np.multiply(self.gates, self.halves, self.gates)
        np.add(self.gates, self.halves, self.gates)
        np.multiply(self.c, self.forget, self.c)
        np.add(self.c, np.multiply(self.input, self.candidate, self.input), self.c)
        np.tanh(self.c, self.h)
        np.multiply(self.h, self.output, self.h)


@dataclass
class Title:
    """What a title model's output layer carries beside the LSTM's state (``layers.TitledOutput``): its
    title's words, and how many words it has read since ``<abstract>``. Made by ``Runtime.title_of``."""

    ids: np.ndarray  # the title's words, each once
    strength: np.ndarray  # their learned logit bonus
    written: int | None = None  # words read since <abstract> (None before it)
    topic: Topic | None = None  # the bonus of the title's topic (``patentrnn.topic``)
    last: int | None = None  # the word read last (the topic does not offer it again at once)

    def read(self, token: int) -> None:
        self.last = token
        if self.written is not None:
            self.written += 1
        elif token == ABSTRACT_ID:
            self.written = 0


class Runtime:
    """Next-word logits from a bundle's weights, one step at a time, in float32.

    Arranged for few numpy calls per step (each costs ~1 us; for neural-network-lstm
    the LSTM's products take ~20 us and the output layer's ~22 us): the gates are
    reordered to input, forget, output, cell and the first three pre-scaled by 0.5,
    so that one ``tanh`` gives all four; biases ride in the products as a row
    multiplied by a constant 1; and the last layer's recurrent kernel and the dense
    layer (a relu layer, or a tied model's linear projection) share one matrix, as
    both multiply the same ``h``. A tied model's output kernel is its embedding
    matrix, transposed.
    """

    def __init__(self, bundle: Bundle, pad_to: int = 1):
        """``pad_to``: make the logits' length a multiple of this; the extra logits are
        -1e30 (no probability), so that a sampler can reshape them into blocks."""
        weights, config = bundle.weights, bundle.config
        self.config = config
        self.vocab_size = config.vocab_size
        units = self.units = config.lstm_units
        # Kept in float16, as stored: a row is cast to float32 when it is used, and the
        # table is the largest array.
        self.embeddings = weights["embedding/embeddings"]
        keras_order = np.arange(4 * units).reshape(4, units)  # i, f, c, o
        order = keras_order[[0, 1, 3, 2]].ravel()  # i, f, o, c
        scale = np.ones(4 * units, dtype=np.float32)
        scale[: 3 * units] = 0.5
        dense = np.concatenate([weights["dense/kernel"], weights["dense/bias"][None, :]]).astype(np.float32)
        self.dense_units = dense.shape[1]
        self.halves = np.full(3 * units, 0.5, dtype=np.float32)  # (for Cell)
        self.layers = []  # per layer: (input kernel, [recurrent kernel; bias])
        for layer in range(1, config.lstm_layers + 1):
            kernel = (weights[f"lstm_{layer}/kernel"].astype(np.float32)[:, order] * scale).astype(np.float32)
            recurrent = (
                np.concatenate(
                    [weights[f"lstm_{layer}/recurrent_kernel"], weights[f"lstm_{layer}/bias"][None, :]]
                ).astype(np.float32)[:, order]
                * scale
            )
            if layer == config.lstm_layers:  # + the dense layer's columns: [h, 1] @ this gives both
                recurrent = np.concatenate([recurrent, dense], axis=1)
            self.layers.append((np.ascontiguousarray(kernel), np.ascontiguousarray(recurrent)))
        extra = -config.vocab_size % pad_to
        # The output layer's bias is its first row, multiplied by a constant 1 (measured:
        # 1-2 us less than adding it apart). That row holds (bias - shift) / temperature
        # for the setting last asked for.
        self.relu = not config.tie_embeddings
        kernel = (weights["embedding/embeddings"].T if config.tie_embeddings else weights["logits/kernel"]).astype(
            np.float32
        )
        self.output_bias = np.pad(weights["logits/bias"].astype(np.float32), (0, extra), constant_values=-1e30)
        self.output = np.zeros((kernel.shape[0] + 1, kernel.shape[1] + extra), dtype=np.float32)
        self.output[0] = self.output_bias
        self.output[1:, : kernel.shape[1]] = kernel
        self._tempered = (1.0, 0.0)  # (temperature, shift) of the bias row
        self.logits_buffer = np.empty(self.output.shape[1], dtype=np.float32)
        self.hidden = np.ones(self.output.shape[0], dtype=np.float32)  # [1, dense outputs]
        self.zeros = np.zeros(self.dense_units, dtype=np.float32)
        if config.title_context:  # (layers.TitledOutput)
            self.title_strength = weights["logits/strength"].astype(np.float32)
            self.end_rate = weights["logits/rate"].astype(np.float64)
        # the continuous cache (``patentrnn.cache``) that ``Cursor`` adds, if the card has one
        self.cache_config = CacheConfig.from_card(bundle.card)
        self.cache_scratch = np.empty(self.vocab_size, dtype=np.float32) if self.cache_config else None
        # the title's topic (``patentrnn.topic``) that generation and scoring add, if the card has one
        self.topic_config = TopicConfig.from_card(bundle.card) if config.title_context else None
        # For ``Cursor``: each word's share of the first layer's product, embedding @
        # kernel (128 x 1024, 7 us), kept once computed: most words repeat. A dict of
        # 4 KB rows, capped: a zeroed 14k-row table cost far more than its written rows,
        # as numpy asks for huge pages for large arrays (+54 MiB after 300 rows).
        self.input_rows: dict[int, np.ndarray] = {}

    def initial_state(self) -> list[tuple[np.ndarray, np.ndarray]]:
        zeros = np.zeros(self.units, dtype=np.float32)
        return [(zeros, zeros) for _ in self.layers]

    def title_of(self, tokens: Sequence[int], topic: Topic | None = None) -> Title | None:
        """A title model's ``Title`` before it reads ``tokens``: the title is the words before the first
        ``<abstract>`` in their first ``TITLE_WINDOW``, as ``layers.TitleBag`` reads them; ``topic``, its
        topic's bonus, if any. None for other models."""
        if not self.config.title_context:
            return None
        head = np.asarray(tokens[:TITLE_WINDOW], dtype=np.intp)
        ids = np.unique(head[(np.cumsum(head == ABSTRACT_ID) == 0) & (head > END_ID)])
        return Title(ids, self.title_strength[ids], topic=topic)

    def advance(self, state, token: int, title: Title | None = None):
        """Feed one word id; return the new state and the last layer's output ``h``."""
        x = np.asarray(self.embeddings[token], dtype=np.float32)
        if title is not None:
            title.read(token)
        new_state = []
        for (kernel, recurrent), (h, c) in zip(self.layers, state):
            z = (np.append(h, np.float32(1.0)) @ recurrent)[: 4 * self.units]
            z += x @ kernel
            cell = Cell(z, c.copy(), np.empty_like(h), self.halves)
            cell.run()
            x = cell.h
            new_state.append((cell.h, cell.c))
        return new_state, x

    def logits(
        self, h: np.ndarray, temperature: float = 1.0, shift: float = 0.0, out=None, title: Title | None = None
    ) -> np.ndarray:
        """Next-word logits after the last layer's output ``h``, as ``(logits - shift) /
        temperature`` (a sampler's tempered logits: the division rides on the dense layer's
        outputs and a bias prepared once per setting instead of on every logit).

        Written into ``out``, or else into a buffer that the next call reuses (a fresh
        58 KB array a word left a serving kernel's heap fragmented: +6 MiB after 15
        generations): copy them to keep them."""
        # the dense layer's pre-activations: the joint matrix's last columns
        hidden = (np.append(h, np.float32(1.0)) @ self.layers[-1][1])[4 * self.units :]
        out = self.output_logits(hidden, temperature, shift, out)
        return out if title is None else self.title_bonus(out, title, temperature)

    def title_bonus(self, logits: np.ndarray, title: Title, temperature: float) -> np.ndarray:
        """Add a title model's bonuses (``layers.TitledOutput``) to tempered logits: the title's words'
        and ``<end>``'s for the length written; and its topic's, if it has one."""
        logits[title.ids] += title.strength / np.float32(temperature)
        if title.topic is not None:
            title.topic.apply(logits, title.last, temperature)
        if title.written:
            rate, written = self.end_rate, title.written
            logits[END_ID] += np.float32((rate[0] * np.log1p(written) + rate[1] * written / 100.0) / temperature)
        return logits

    def output_logits(self, hidden: np.ndarray, temperature: float, shift: float, out=None) -> np.ndarray:
        """The dense layer's pre-activations ``hidden`` to tempered logits."""
        if self._tempered != (temperature, shift):
            np.subtract(self.output_bias, np.float32(shift), out=self.output[0])
            self.output[0] /= np.float32(temperature)
            self._tempered = (temperature, shift)
        active = self.hidden[1:]
        if self.relu:
            np.maximum(hidden, self.zeros, out=active)
        else:
            active[:] = hidden
        if temperature != 1.0:
            active *= 1.0 / temperature  # (relu(x) / t = relu(x / t) for t > 0)
        out = self.logits_buffer if out is None else out
        return np.dot(self.hidden, self.output, out=out)

    def step(self, state, token: int, title: Title | None = None):
        """Feed one word id; return the new state and the next word's logits. ``title``: a title
        model's ``title_of`` the tokens it read."""
        state, h = self.advance(state, int(token), title)
        return state, self.logits(h, title=title)

    def read(self, tokens: Sequence[int], state=None, title: Title | None = None):
        """Feed a sequence (the seed); return the state and logits after its last word."""
        if len(tokens) == 0:
            raise ValueError("cannot read an empty sequence")
        state = state if state is not None else self.initial_state()
        for token in tokens:
            state, h = self.advance(state, int(token), title)
        return state, self.logits(h, title=title)

    def sequence_logits(self, tokens: Sequence[int]) -> np.ndarray:
        """Logits after every position, ``(len(tokens), vocab)``; for checks against Keras."""
        vocab = self.vocab_size
        state, title = self.initial_state(), self.title_of(tokens)
        rows = []
        for token in tokens:
            state, h = self.advance(state, int(token), title)
            rows.append(self.logits(h, title=title)[:vocab].copy())
        return np.stack(rows)


class Cursor:
    """The network reading a text, fed one word at a time: the generation loop's fast path.

        >>> cursor = Cursor(runtime, seed_ids)
        >>> logits = cursor.logits()          # after the seed
        >>> cursor.feed(word)                 # then after ``word``

    For a one-layer model, the product that needs only the current ``h`` (recurrent
    kernel and dense layer together) is made once, in ``logits``; ``feed`` then adds
    the new word's row of the input table and runs the cell, in place on buffers.
    Measured for neural-network-lstm: ~25 us a word less than ``Runtime.step``. Deeper
    models step with ``Runtime.advance``.

    With the runtime's continuous cache (``patentrnn.cache``; ``cache=False``: the network alone),
    the words read come back in the logits; ``room``: how many words it will read after ``tokens``
    (its states are kept in one array of that size, grown if need be). ``topic``: a title model's
    title's topic (``patentrnn.topic``), added to every logits.
    """

    def __init__(
        self, runtime: Runtime, tokens: Sequence[int], cache: bool = True, room: int = 128, topic: Topic | None = None
    ):
        if len(tokens) == 0:
            raise ValueError("cannot read an empty sequence")
        self.runtime = runtime
        self.fast = len(runtime.layers) == 1
        self.title = runtime.title_of(tokens, topic)
        self.cache = None
        if cache and runtime.cache_config is not None:
            self.cache = Cache(runtime.cache_config, runtime.units, runtime.cache_scratch, capacity=len(tokens) + room)
        if not self.fast:
            self.state = runtime.initial_state()
            for position, token in enumerate(tokens):
                if self.cache is not None and position:
                    self.cache.add(self.h, int(token))
                self.state, self.h = runtime.advance(self.state, int(token), self.title)
            return
        units = runtime.units
        kernel, self.joint = runtime.layers[0]
        self.c = np.zeros(units, dtype=np.float32)
        self.joint_input = np.zeros(self.joint.shape[0], dtype=np.float32)  # [h, 1]
        self.joint_input[-1] = 1.0
        self.h = self.joint_input[:-1]
        self.joint_output = np.empty(self.joint.shape[1], dtype=np.float32)
        self.recurrent = self.joint_output[: 4 * units]
        self.hidden = self.joint_output[4 * units : 4 * units + runtime.dense_units]
        self.cell = Cell(self.recurrent, self.c, self.h, runtime.halves)
        self.ahead = False  # whether joint_output was made from the current h
        # The seed: its words' shares in one product (reading never fills the table),
        # and only the recurrent columns of the joint product.
        embedded = np.asarray(runtime.embeddings[np.asarray(tokens, dtype=np.intp)], dtype=np.float32)
        recurrent_columns = self.joint[:, : 4 * units]
        if self.title is not None:
            for token in tokens:
                self.title.read(token)
        for position, projected in enumerate(embedded @ kernel):
            if self.cache is not None and position:
                self.cache.add(self.h, int(tokens[position]))
            np.matmul(self.joint_input, recurrent_columns, out=self.recurrent)  # (np.dot would copy this view)
            self.recurrent += projected
            self.cell.run()

    def logits(self, temperature: float = 1.0, shift: float = 0.0, out=None) -> np.ndarray:
        """``(logits - shift) / temperature`` for the next word; see ``Runtime.logits``."""
        if not self.fast:
            out = self.runtime.logits(self.h, temperature, shift, out, self.title)
        else:
            if not self.ahead:
                np.dot(self.joint_input, self.joint, out=self.joint_output)
                self.ahead = True
            out = self.runtime.output_logits(self.hidden, temperature, shift, out)
            if self.title is not None:
                self.runtime.title_bonus(out, self.title, temperature)
        return out if self.cache is None else self.cache.mix(out, self.h, temperature)

    def feed(self, token: int) -> None:
        """Move past one more word."""
        runtime = self.runtime
        if self.cache is not None:
            self.cache.add(self.h, token)
        if not self.fast:
            self.state, self.h = runtime.advance(self.state, token, self.title)
            return
        projected = runtime.input_rows.get(token)
        if projected is None:
            projected = np.asarray(runtime.embeddings[token], dtype=np.float32) @ runtime.layers[0][0]
            if len(runtime.input_rows) < MAX_INPUT_ROWS:
                runtime.input_rows[token] = projected
        if self.title is not None:
            self.title.read(token)
        if not self.ahead:
            np.dot(self.joint_input, self.joint, out=self.joint_output)
        self.ahead = False
        self.recurrent += projected
        self.cell.run()
