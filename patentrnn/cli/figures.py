"""The figures commands compute: evaluate, memorisation, title figures, the cache and the topic."""

from __future__ import annotations

import json


def _read_options(args):
    from ..documents import ReadOptions
    from ..options import from_arguments

    return from_arguments(args, ReadOptions)


def _evaluate(args) -> int:
    from ..settings import quiet_tensorflow

    quiet_tensorflow()
    from ..bundle import keras_model, load_bundle
    from ..corpus import load_corpus
    from ..evaluation import reading_figures
    from ..rendering import render_evaluation
    from ..train.metrics import evaluate_model

    bundle = load_bundle(args.model, args.models_dir)
    data = load_corpus(args.corpus, options=_read_options(args))
    titles = data.titles if bundle.vocabulary.has_titles else None  # a title model reads each title first
    metrics = evaluate_model(keras_model(bundle), bundle.vocabulary, data.abstracts, titles=titles)
    report = {
        "model": bundle.name,
        "corpus": data.name,
        "sha256": data.sha256,
        "abstracts": len(data.abstracts),
        **metrics,
    }
    reading = reading_figures(bundle, data.abstracts, titles)  # (scoring's reading, on the numpy runtime)
    if reading:
        report["cache"] = reading
    print(json.dumps(report, indent=2) if args.json else render_evaluation(report))
    return 0


def _memorisation(args) -> int:
    from ..bundle import list_names, write_card_figures
    from ..evaluation import memorisation, memorisation_key
    from ..generation import load
    from ..rendering import render_memorisation

    figures = {}
    for name in args.model or list_names(args.models_dir):
        generator = load(name, args.models_dir)
        figures[name] = memorisation(
            generator, n=args.n, words=args.words, diversity=args.diversity, max_copy=args.max_copy
        )
        if args.write:
            key = memorisation_key(args.max_copy)
            write_card_figures(generator.bundle.path, key, figures[name], generator.bundle.card)
        if not args.json:
            print(render_memorisation(name, figures[name], args.write))
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


def _title_figures(args) -> int:
    from ..bundle import PLAIN_MODEL, write_card_figures
    from ..evaluation import title_figures
    from ..generation import load

    generator = load(args.model, args.models_dir)
    figures = title_figures(generator, load(args.compare or PLAIN_MODEL, args.models_dir), n=args.n)
    if args.write:
        write_card_figures(generator.bundle.path, "title_figures", figures, generator.bundle.card)
    print(json.dumps(figures, indent=2))
    return 0


def _cache(args) -> int:
    from ..cache import CARD_KEY
    from ..evaluation import cache_figures

    return _card_figures(args, CARD_KEY, cache_figures)


def _topic(args) -> int:
    from ..evaluation import topic_figures
    from ..topic import CARD_KEY

    return _card_figures(args, CARD_KEY, topic_figures, titled_only=True)


def _card_figures(args, key: str, figures_of, titled_only: bool = False) -> int:
    """Compute ``figures_of(generator)`` for each model asked for (all: those it applies to), print them,
    and with ``--write`` keep them in the card under ``key``."""
    from ..bundle import list_names, write_card_figures
    from ..generation import load

    figures = {}
    for name in args.model or list_names(args.models_dir):
        generator = load(name, args.models_dir)
        if titled_only and not generator.titles and not args.model:
            continue
        figures[name] = figures_of(generator)
        if args.write:
            write_card_figures(generator.bundle.path, key, figures[name], generator.bundle.card)
    print(json.dumps(figures, indent=2))
    return 0
