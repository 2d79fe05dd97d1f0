"""The network, built with Keras 3's functional API from a ``ModelConfig``:

* untied (the reference's): Embedding → LSTM × layers → Dense relu → Dropout → Dense(vocabulary);
* tied (``tie_embeddings``): Embedding → LSTM × layers → Dense(embedding size, linear) →
  the embedding matrix, transposed, plus a bias (Press & Wolf 2016; Inan et al. 2016).

Layer names are fixed (``embedding``, ``lstm_1`` …, ``dense``, ``logits``): bundles store
weights under them and the numpy runtime reads them back without Keras. A tied model's
``logits`` layer holds only its bias (and a title model's, its title and length bonuses); its
kernel is ``embedding/embeddings`` transposed.

The regularisers follow AWD-LSTM (Merity et al. 2017), as far as Keras's own layers go:
locked dropout (one mask per sequence, ``Dropout(noise_shape=(None, 1, d))``), word-type
embedding dropout (a dropped word loses its whole embedding everywhere in the batch),
``LSTM(recurrent_dropout=…)`` (Gal & Ghahramani's variational dropout of ``h``: Keras's
mask is fixed across time, the closest built-in to weight drop), and AR / TAR on the last
LSTM's output. Weight averaging is a training option (``TrainConfig.weight_averaging``).
"""

from __future__ import annotations

from ..errors import InputError
from ..model import TITLE_WINDOW, ModelConfig


def build_model(config: ModelConfig, last_only: bool = False):
    """A Keras model mapping word ids ``(batch, time)`` to next-word logits
    ``(batch, time, vocab)``, or ``(batch, vocab)`` for the last position when
    ``last_only`` (the reference's window training).

    With ``title_context`` (a tied title model), the title does not live in the LSTM's state
    alone, which forgets it within a few dozen words: the output layer (``layers.TitledOutput``)
    gives the title's own words a learned logit bonus at every position, as a pointer to the
    title would, and raises ``<end>``'s logit with the words written since ``<abstract>``:
    without that the model ends after any sentence with much the same chance, and its
    abstracts' lengths spread as a geometric distribution's (median 90 words against the real
    133). (The title's mean word vector added to every input as well cost 0.06 nats given the
    title on the test split, and 0.19 on the baseball corpus: models/README.md.)"""
    import keras
    from keras import layers

    from .layers import ActivityRegularization, WordTypeDropout

    if config.vocab_size < 3:
        raise InputError("vocab_size must be set (at least 3) before building a model")
    if config.title_context and not config.tie_embeddings:
        raise InputError("title_context needs tied embeddings (tie_embeddings=True, the awd preset)")
    words = keras.Input(shape=(None,), dtype="int32", name="words")
    embedding = layers.Embedding(config.vocab_size, config.embedding_dim, name="embedding")
    x = embedding(words)
    if config.embedding_dropout_rate:
        x = WordTypeDropout(config.embedding_dropout_rate, config.vocab_size, name="embedding_dropout")([words, x])

    def dropout(rate, width, name):
        shape = (None, 1, width) if config.locked_dropout and not last_only else None
        return layers.Dropout(rate, noise_shape=shape, name=name)

    for layer in range(1, config.lstm_layers + 1):
        if config.lstm_dropout_rate:
            width = config.embedding_dim if layer == 1 else config.lstm_units
            x = dropout(config.lstm_dropout_rate, width, f"lstm_dropout_{layer}")(x)
        last = last_only and layer == config.lstm_layers
        x = layers.LSTM(
            config.lstm_units,
            return_sequences=not last,
            recurrent_dropout=config.recurrent_dropout_rate,
            name=f"lstm_{layer}",
        )(x)
    if (config.activation_regularization or config.temporal_activation_regularization) and not last_only:
        x = ActivityRegularization(
            config.activation_regularization, config.temporal_activation_regularization, name="activity"
        )(x)
    if config.output_dropout_rate:
        x = dropout(config.output_dropout_rate, config.lstm_units, "lstm_output_dropout")(x)
    return keras.Model(words, _output(config, x, embedding, words), name="patentrnn")


def _output(config: ModelConfig, x, embedding, words):
    """The network's head: the last LSTM's output to next-word logits (tied, titled or untied)."""
    from keras import layers

    from .layers import TiedOutput, TitleBag, TitledOutput

    if not config.tie_embeddings:
        x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
        x = layers.Dropout(config.dropout_rate, name="dense_dropout")(x)
        return layers.Dense(config.vocab_size, name="logits")(x)
    x = layers.Dense(config.embedding_dim, name="dense")(x)  # linear projection to the embedding size
    if config.dropout_rate:
        x = layers.Dropout(config.dropout_rate, name="dense_dropout")(x)
    if config.title_context:
        bag = TitleBag(config.vocab_size, TITLE_WINDOW, name="title")(words)
        return TitledOutput(embedding, name="logits")([x, bag, words])
    return TiedOutput(embedding, name="logits")(x)


def named_weights(model) -> dict:
    """The model's weights as ``{"layer/weight": array}``, the bundle's format."""
    return {key: variable.numpy() for key, variable in named_variables(model).items()}


def named_variables(model) -> dict:
    """The model's variables by their bundle names, ``{"layer/weight": variable}``, each once: a tied
    output layer lists the embedding matrix among its weights too, but the bundle stores it once."""
    variables, seen = {}, set()
    for layer in model.layers:
        for variable in layer.weights:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables[f"{layer.name}/{variable.name}"] = variable
    return variables


def set_named_weights(model, arrays: dict) -> None:
    """Load ``named_weights`` output into a model of the same config."""
    for key, variable in named_variables(model).items():
        if key not in arrays:
            raise InputError(f"bundle weights lack {key}")
        value = arrays[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise InputError(f"bundle weight {key} has shape {value.shape}, model expects {variable.shape}")
        variable.assign(value.astype(variable.dtype))
