"""Figures a bundle's card carries beyond its test log loss: how much it copies (memorisation) and,
for a title model, what its title buys (log loss given the title, without it, on titles never seen in
training; where its abstracts end; whether they stay on the title's topic). All on the numpy runtime:
no TensorFlow.

    >>> from patentrnn import evaluation, load
    >>> evaluation.memorisation(load(), n=200)
    >>> evaluation.title_figures(load("neural-network-title"), load("neural-network-lstm"))
"""

from __future__ import annotations

import math
import statistics

import numpy as np

from . import cache as cache_module
from . import corpus as corpus_module
from . import originality, tuning
from . import topic as topic_module
from .errors import InputError
from .progress import progress
from .sampling import DEFAULT_DIVERSITY
from .train.metrics import score_logits
from .vocabulary import ABSTRACT_ID, END_ID

MEMORISATION_SPAN = 8  # a copied run of this many generated words counts as memorised
SHARE_KEY = f"share_ge_{MEMORISATION_SPAN}"  # the card's figure: share of texts with such a run


def memorisation(
    generator, n: int = 200, words: int = 100, diversity: float = DEFAULT_DIVERSITY, max_copy=None
) -> dict:
    """How much a model copies: ``n`` generations of ``words`` words at ``diversity``, rng
    seeds 0 … n-1, each from a random 50-word window of a test-split abstract. For each, the
    longest run of *generated* words found word for word in a training abstract (the seed
    is real text and never counts). Returns the share of runs ≥ ``MEMORISATION_SPAN`` words
    and the median longest run, for the bundle's card, with the generated words' perplexity under
    the model and the median generation time; with ``max_copy`` (generate's option), also how
    often it steered a draw and the probability it removed."""
    index = originality.index_for(generator.bundle)
    longest, log_loss, steered, removed, milliseconds = [], [], 0, 0.0, []
    for rng_seed in progress(range(n), f"{generator.name}: memorisation"):
        result = generator.generate(
            None, words=words, diversity=diversity, rng_seed=rng_seed, originality=False, max_copy=max_copy
        )
        ids = np.asarray(generator.vocabulary.encode_words(result.generated_words), np.int64)
        longest.append(index.longest_copy(ids)[0])
        log_loss += [-math.log(max(item.probability, 1e-30)) for item in result.generated]
        milliseconds.append(result.timings["generate_ms"])
        if result.copy_guard:
            steered += result.copy_guard["steered"]
            removed += result.copy_guard["mass_removed"]
    figures = {
        "n": n,
        "words": words,
        "diversity": diversity,
        "rng_seeds": f"0-{n - 1}",
        "start": "random 50-word window of a test-split abstract",
        "span": MEMORISATION_SPAN,
        SHARE_KEY: round(sum(length >= MEMORISATION_SPAN for length in longest) / n, 4),
        "median_longest": statistics.median(longest),
        "p90_longest": float(np.percentile(longest, 90)),
        "max_longest": max(longest),
        "generated_perplexity": round(math.exp(statistics.fmean(log_loss)), 2),
        "generate_ms_median": round(statistics.median(milliseconds), 2),
        "index_version": originality.INDEX_VERSION,
    }
    if max_copy is not None:
        figures.update(
            max_copy=max_copy,
            steered_share=round(steered / (n * words), 5),
            mass_removed_mean=round(removed / steered, 4) if steered else 0.0,
        )
    return figures


def memorisation_key(max_copy=None) -> str:
    """The card's key for memorisation figures: with ``max_copy``, its own."""
    return "memorisation" if max_copy is None else f"memorisation_max_copy_{max_copy}"


# --- the continuous cache ------------------------------------------------------------------------


def texts_of(generator, abstracts: list[str], titles: list[str | None] | None = None) -> list[tuple[list[int], int]]:
    """``(tokens, first)`` of each abstract, as ``tuning.tune_cache`` takes them: a title model's read after
    their title (when it has known words); every word after the abstract's first scored."""
    texts = []
    for abstract, title in zip(abstracts, titles or [None] * len(abstracts)):
        ids = generator.vocabulary.encode(abstract)
        context = []
        if generator.titles and title and generator.vocabulary.read(title):
            context = generator.prepare_title(title)[1]
        if len(ids) > 1:
            texts.append(([*context, *ids], len(context)))
    return texts


def _part(generator, part: str) -> list[tuple[list[int], int]]:
    records = [r for _, r in corpus_module.records_of(generator.bundle.card["corpus"], generator.bundle.split, part)]
    return texts_of(generator, [r.abstract for r in records], [r.patent_title for r in records])


def cache_log_loss(runtime, texts: list[tuple[list[int], int]], config, topics=None) -> tuple[float, float, int]:
    """Log loss a word of ``texts`` (``texts_of``) with the network alone and with the cache ``config`` (None:
    the network alone again), and how many words; with ``topics`` (one for each text, or None), each with
    its title's topic."""
    network, mixed, count = 0.0, 0.0, 0
    for (tokens, first), topic in progress(zip(texts, topics or [None] * len(texts)), "reading", len(texts)):
        alone, cached, words = tuning.read_log_loss(runtime, tokens, first, [config] if config else [], topic)
        network, mixed, count = network + alone, mixed + (cached[0] if cached else alone), count + words
    return round(network / count, 4), round(mixed / count, 4), count


def reading_figures(bundle, abstracts: list[str], titles: list[str | None] | None) -> dict | None:
    """How scoring reads ``abstracts`` (``patentrnn evaluate``): the log loss a word of the network alone,
    with the bundle's cache and, for a title model with a topic, with its titles' topics; None without a
    cache. Every word after each abstract's first counts (a title model's first word and ``<end>`` do
    not, unlike Keras's figures)."""
    if not cache_module.CacheConfig.from_card(bundle.card):
        return None
    from .generation import Generator

    generator = Generator(bundle)
    runtime, texts = generator.runtime, texts_of(generator, abstracts, titles)
    network, cached, words = cache_log_loss(runtime, texts, runtime.cache_config)
    figures = {"words": words, "log_loss_network": network, "log_loss_cache": cached}
    if runtime.topic_config and titles:  # a title model's topic, drawn from its own corpus
        topics = [generator.topic_of(tokens[:first]) for tokens, first in texts]
        figures["log_loss_topic"] = cache_log_loss(runtime, texts, runtime.cache_config, topics)[1]
    return figures


def cache_figures(generator) -> dict:
    """The card's ``"cache"``: ``theta``, ``weight`` and ``skip`` chosen on the validation split
    (``tuning.tune_cache``), and the test split's log loss with the network alone and with the cache."""
    figures = tuning.tune_cache(generator.runtime, _part(generator, "validation"))
    if figures["weight"] is None:
        return figures
    config = cache_module.CacheConfig(figures["theta"], figures["weight"], figures["skip"])
    network, mixed, count = cache_log_loss(generator.runtime, _part(generator, "test"), config)
    return {
        **figures,
        "test_words": count,
        "test_log_loss_network": network,
        "test_log_loss_cache": mixed,
        "titles_read": generator.titles,
    }


def topic_figures(generator) -> dict:
    """The card's ``"topic"`` of a title model: ``weight`` and ``smoothing`` chosen on the validation
    split (``tuning.tune_topic``, read with the cache as scoring reads), and the test split's log loss without
    and with the topic."""
    if not generator.titles:
        raise InputError(f"model {generator.name!r} was not trained with titles: a topic needs a title")
    topics = topic_module.Topics(originality.index_for(generator.bundle), generator.runtime.vocab_size)
    figures = tuning.tune_topic(generator.runtime, topics, _part(generator, "validation"))
    if figures["weight"] is None:
        return figures
    config = topic_module.TopicConfig(figures["weight"], figures["smoothing"], figures["neighbours"])
    runtime, texts = generator.runtime, _part(generator, "test")
    chosen = [topics.topic(runtime.title_of(tokens).ids, config) for tokens, _ in texts]
    _, without, count = cache_log_loss(runtime, texts, runtime.cache_config)  # (as scoring reads: with the cache)
    _, with_topic, _ = cache_log_loss(runtime, texts, runtime.cache_config, chosen)
    return {**figures, "test_words": count, "test_log_loss_without": without, "test_log_loss_topic": with_topic}


# --- title models ---------------------------------------------------------------------------------


def test_records(bundle) -> list[tuple[int, corpus_module.Record]]:
    """``(index row, record)`` of each test-split abstract of the bundle's corpus."""
    return list(corpus_module.records_of(bundle.card["corpus"], bundle.split, "test"))


def log_loss(
    runtime, context: list[int], ids: list[int], first: int, cache: bool = False, topic=None
) -> tuple[float, int]:
    """Summed negative log-likelihood (nats) of ``ids[first:]`` after ``context`` and ``ids[:first]``,
    and how many targets that is; with ``cache``, the runtime's continuous cache's; with ``topic``, the
    title's (``patentrnn.topic``)."""
    tokens = [*context, *ids]
    start = len(context) + first - 1
    if cache or topic is not None:
        network, mixed, count = tuning.read_log_loss(
            runtime, tokens, start, [runtime.cache_config] if cache else [], topic
        )
        return (mixed[0] if cache else network), count
    scored = score_logits(runtime.sequence_logits(tokens[:-1])[start:], np.asarray(tokens[start + 1 :]))
    return scored["nll"], scored["count"]


def _mean(pairs: list[tuple[float, int]]) -> float:
    return round(sum(nll for nll, _ in pairs) / max(sum(count for _, count in pairs), 1), 4)


def title_log_loss(title_model, plain_model, records: list, train_titles: set[str]) -> dict:
    """Test log loss on the abstracts' words after the first (the targets every model is scored on):
    the title model given the title, without it (``<abstract>`` first), and ``plain_model``; the same
    on the abstracts whose normalised title never occurs in training (no sibling patent's title). Each
    with the network alone and, where both models have one, with their continuous caches; and given the
    title, with its topic too (as the title model scores and writes, where its card has one)."""
    figures: dict = {}
    subsets = {
        "all": records,
        "sibling_free": [r for r in records if corpus_module.normalised_title(r.patent_title) not in train_titles],
    }
    for name, chosen in subsets.items():
        figures[name] = {"abstracts": len(chosen)}
        caches = (False, True) if title_model.runtime.cache_config and plain_model.runtime.cache_config else (False,)
        for cache in caches:
            given, topical, without, plain, with_end = [], [], [], [], []
            for record in progress(chosen, f"log loss, {name}"):
                title_ids = title_model.prepare_title(record.patent_title)[1]
                ids = title_model.vocabulary.encode(record.abstract)
                given.append(log_loss(title_model.runtime, title_ids, ids, 1, cache))
                topic = title_model.topic_of(title_ids)
                if topic is not None:
                    topical.append(log_loss(title_model.runtime, title_ids, ids, 1, cache, topic))
                with_end.append(log_loss(title_model.runtime, title_ids, [*ids, END_ID], 0, cache))
                without.append(log_loss(title_model.runtime, [ABSTRACT_ID], ids, 1, cache))
                plain_ids = plain_model.vocabulary.encode(record.abstract)
                plain.append(log_loss(plain_model.runtime, [], plain_ids, 1, cache))
            figures[name]["with_cache" if cache else "network"] = {
                "given_title": _mean(given),
                **({"given_title_and_topic": _mean(topical)} if topical else {}),
                "without_title": _mean(without),
                plain_model.name: _mean(plain),
                "given_title_first_word_and_end_included": _mean(with_end),
            }
    return figures


def endings_and_topic(
    title_model, plain_model, rows: list, n: int = 200, diversity: float = DEFAULT_DIVERSITY, train_titles=frozenset()
) -> dict:
    """For ``n`` test titles (``rows``: ``(index row, record)``): the lengths of the abstracts the title
    model writes until it ends them, against the real abstracts' lengths; and the BM25 rank (over the
    whole corpus, the originality index) of the title's own abstract when the generated words are the
    query, for the title model (as it writes: with its title's topic, where its card has one; and without
    it), and for ``plain_model`` seeded with the title as text (as many words); the ranks also on the titles
    whose normalised form is not in ``train_titles`` (no sibling patent in training)."""
    indexes = {model.name: originality.index_for(model.bundle) for model in (title_model, plain_model)}
    untopical = f"{title_model.name} without its topic"
    ranks = {title_model.name: [], untopical: [], plain_model.name: []}
    longest = {name: [] for name in ranks}  # each text's longest run copied from a training abstract
    lengths, alone_lengths, ended, real, sibling_free = [], [], 0, [], []
    for rng_seed, (row, record) in progress(enumerate(rows[:n]), "writing from titles", min(n, len(rows))):
        title = corpus_module.clean(record.patent_title)
        sibling_free.append(corpus_module.normalised_title(record.patent_title) not in train_titles)
        result = title_model.generate(title=title, diversity=diversity, rng_seed=rng_seed, originality=False)
        lengths.append(len(result.generated))
        ended += result.ended
        real.append(len(title_model.vocabulary.tokenize(record.abstract)))
        alone = title_model.generate(
            title=title, diversity=diversity, rng_seed=rng_seed, originality=False, topic=False
        )
        alone_lengths.append(len(alone.generated))
        seeded = plain_model.generate(
            seed=title, words=max(len(result.generated), 1), diversity=diversity, rng_seed=rng_seed, originality=False
        )
        for name, model, words in (
            (title_model.name, title_model, result.generated_words),
            (untopical, title_model, alone.generated_words),
            (plain_model.name, plain_model, seeded.generated_words),
        ):
            ids = np.asarray(model.vocabulary.encode_words(words), np.int64)
            scores = indexes[model.name].scores(ids)
            ranks[name].append(int((scores > scores[row]).sum()) + 1)
            longest[name].append(indexes[model.name].longest_copy(ids)[0])
    count = len(lengths)
    return {
        "n": count,
        "diversity": diversity,
        "rng_seeds": f"0-{count - 1}",
        "lengths": _length_figures(lengths, ended, real, alone_lengths),
        "longest_copy": {
            name: {
                "median": statistics.median(runs),
                SHARE_KEY: round(sum(r >= MEMORISATION_SPAN for r in runs) / count, 4),
            }
            for name, runs in longest.items()
        },
        "own_abstract_bm25_rank": {
            name: {**_rank_figures(found), "sibling_free": _rank_figures([r for r, f in zip(found, sibling_free) if f])}
            for name, found in ranks.items()
        },
    }


def _length_figures(lengths: list[int], ended: int, real: list[int], alone_lengths: list[int]) -> dict:
    """The written abstracts' lengths against the real ones (``endings_and_topic``)."""
    return {
        "median": statistics.median(lengths),
        "p10": float(np.percentile(lengths, 10)),
        "p90": float(np.percentile(lengths, 90)),
        "ended_share": round(ended / len(lengths), 4),
        "real_median": statistics.median(real),
        "real_p10": float(np.percentile(real, 10)),
        "real_p90": float(np.percentile(real, 90)),
        "median_without_topic": statistics.median(alone_lengths),
    }


def _rank_figures(ranks: list[int]) -> dict:
    return {
        "n": len(ranks),
        "median": statistics.median(ranks) if ranks else None,
        "top10_share": round(sum(r <= 10 for r in ranks) / len(ranks), 4) if ranks else None,
    }


def title_figures(title_model, plain_model, n: int = 200) -> dict:
    """Everything the card of a title model reports of its titles (see the module docstring)."""
    if not title_model.titles:
        raise InputError(f"model {title_model.name!r} was not trained with titles")
    bundle = title_model.bundle
    if bundle.card["corpus"].get("sha256") != plain_model.bundle.card["corpus"].get("sha256"):
        raise InputError(f"{title_model.name!r} and {plain_model.name!r} were trained on different corpora")
    if plain_model.name == title_model.name:
        raise InputError("compare a title model with another model")
    train_titles = {
        corpus_module.normalised_title(r.patent_title)
        for _, r in corpus_module.records_of(bundle.card["corpus"], bundle.split, "train")
    }
    rows = [(row, r) for row, r in test_records(title_model.bundle) if title_model.vocabulary.read(r.patent_title)]
    return {
        "test_log_loss": title_log_loss(title_model, plain_model, [r for _, r in rows], train_titles),
        "generation": endings_and_topic(title_model, plain_model, rows, n, train_titles=train_titles),
        "compared_with": plain_model.name,
    }
