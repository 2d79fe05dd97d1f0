"""The ``patentrnn`` command: train, evaluate, list models, generate.

    patentrnn train --name my-model --corpus neural-network --preset default
    patentrnn models
    patentrnn evaluate --model neural-network-lstm --corpus my_abstracts.csv
    patentrnn generate --seed "A neural network" --words 50
    patentrnn score --text "A neural network is trained on images."
    patentrnn originality --text "A neural network trained on ..."
    patentrnn memorisation --model neural-network-lstm --write
    patentrnn serve --host 0.0.0.0 --port 8866

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import __version__
from .sampling import DEFAULT_DIVERSITY


def _read_options(args):
    from .documents import ReadOptions
    from .options import from_arguments

    return from_arguments(args, ReadOptions)


def _add_read_arguments(parser) -> None:
    """How to read a corpus file (``documents.ReadOptions``); each is detected when not given."""
    from .documents import FORMATS, READ_HELP, SPLITS, ReadOptions
    from .options import add_arguments

    add_arguments(parser, ReadOptions, READ_HELP, choices={"format": FORMATS, "documents": SPLITS})


def _train(args) -> int:
    from .corpus import SplitConfig
    from .options import from_arguments
    from .training import TrainConfig, train

    overrides = json.loads(args.model_overrides) if args.model_overrides else {}
    if not isinstance(overrides, dict):
        raise ValueError("--model-overrides must be a JSON object")
    split = SplitConfig(seed=args.split_seed)
    read = _read_options(args)
    config = from_arguments(args, TrainConfig, SKIPPED, read=read, model_overrides=overrides, split=split)
    path = train(config, args.name, args.models_dir)
    card = json.loads((path / "card.json").read_text())
    print(json.dumps({"bundle": str(path), "metrics": card["metrics"]}, indent=2))
    return 0


def _models(args) -> int:
    from .bundle import list_bundles, models_dir
    from .rendering import render_models

    rows = list_bundles(args.models_dir)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no models in {models_dir(args.models_dir)}")
        return 0
    print(render_models(rows))
    return 0


def _evaluate(args) -> int:
    from .settings import quiet_tensorflow

    quiet_tensorflow()
    from .bundle import keras_model, load_bundle
    from .cache import CacheConfig
    from .corpus import load_corpus
    from .evaluation import cache_log_loss, texts_of
    from .generation import Generator
    from .metrics import evaluate_model

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
    if CacheConfig.from_card(bundle.card):  # scoring reads with it: the same abstracts, on the numpy runtime
        generator = Generator(bundle)  # (the bundle already read)
        texts = texts_of(generator, data.abstracts, titles)
        network, cached, words = cache_log_loss(generator.runtime, texts, generator.runtime.cache)
        report["cache"] = {"words": words, "log_loss_network": network, "log_loss_cache": cached}  # (every word
        # after each abstract's first: a title model's first word and <end> are not, unlike the figures above)
        if generator.runtime.topic and titles:  # and a title model's topic, drawn from its own corpus
            topics = [generator.topic_of(tokens[:first]) for tokens, first in texts]
            report["cache"]["log_loss_topic"] = cache_log_loss(
                generator.runtime, texts, generator.runtime.cache, topics
            )[1]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        cache = report.get("cache")
        print(
            f"{bundle.name} on {data.name} ({len(data.abstracts)} abstracts, {metrics['targets']} targets, "
            f"{metrics['unk_target_share']:.1%} unknown): log loss {metrics['log_loss']:.4f}, perplexity "
            f"{metrics['perplexity']:.2f}, top-1 {metrics['top1_accuracy']:.2%}, top-5 {metrics['top5_accuracy']:.2%}"
            + (
                f"; after each first word, {cache['log_loss_network']:.4f}, "
                f"with the cache {cache['log_loss_cache']:.4f}"
                + (f", and the title's topic {cache['log_loss_topic']:.4f}" if "log_loss_topic" in cache else "")
                if cache
                else ""
            )
        )
    return 0


def _generate(args) -> int:
    from .generation import load

    if args.random and (args.seed is not None or args.title is not None):
        raise ValueError("give --seed TEXT and/or --title TEXT, or --random, not both")
    generator = load(args.model, args.models_dir)
    result = generator.generate(
        seed=None if args.random or args.seed is None else args.seed,
        words=args.words,
        diversity=args.diversity,
        top_k=args.top_k,
        top_p=args.top_p,
        rng_seed=args.rng_seed,
        max_copy=args.max_copy,
        title=args.title,
        topic=not args.no_topic,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return 0
    if result.title_words is not None:
        print(f"Title: {result.title_text}\n")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.unknown_words:
        print(f"note: unknown words read as <unk>: {', '.join(result.unknown_words[:20])}", file=sys.stderr)
    if result.mode == "random":
        print(f"Seed:\n{result.seed_text}\n\nRNN generated:\n{result.generated_text}\n\nActual:\n{result.actual_text}")
    else:
        print(f"{result.seed_text} {result.generated_text}")
    print(f"(model {result.model}, rng_seed {result.settings['rng_seed']})", file=sys.stderr)
    if result.copy_guard:
        print(f"{result.copy_guard['steered']} words steered away from a copy of {args.max_copy + 1}+ training words",
              file=sys.stderr)  # fmt: skip
    if result.originality is not None:
        from .rendering import render_originality_text

        print(render_originality_text(result.originality), file=sys.stderr)
    return 0


def _read_text(args, limit: int) -> str:
    """``--text``, or ``--file``'s text: at most ``limit`` + 1 characters are read, so that a
    longer file is refused (by the check it goes to) without reading it all."""
    if args.file is None:
        return args.text
    with open(args.file, encoding="utf-8", errors="replace") as handle:
        return handle.read(limit + 1)


def _originality(args) -> int:
    from .generation import load
    from .originality import MAX_CHARACTERS
    from .rendering import render_originality_text

    text = _read_text(args, MAX_CHARACTERS)
    check = load(args.model, args.models_dir).originality(text, seed_words=args.seed_words)
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(check), indent=2, ensure_ascii=False))
    else:
        print(render_originality_text(check))
    return 0


def _score(args) -> int:
    from .generation import load
    from .rendering import render_score
    from .scoring import MAX_SCORE_CHARACTERS

    text = _read_text(args, MAX_SCORE_CHARACTERS)
    score = load(args.model, args.models_dir).score(text, title=args.title)
    if args.json:
        print(json.dumps(score.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(render_score(score))
    if score.unknown_words:
        print(f"note: unknown words scored as <unk>: {', '.join(score.unknown_words[:20])}", file=sys.stderr)
    return 0


def _memorisation(args) -> int:
    from .bundle import list_names, write_card_figures
    from .evaluation import memorisation, memorisation_key
    from .generation import load
    from .rendering import render_memorisation

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
    from .bundle import PLAIN_MODEL, write_card_figures
    from .evaluation import title_figures
    from .generation import load

    generator = load(args.model, args.models_dir)
    figures = title_figures(generator, load(args.compare or PLAIN_MODEL, args.models_dir), n=args.n)
    if args.write:
        write_card_figures(generator.bundle.path, "title_figures", figures, generator.bundle.card)
    print(json.dumps(figures, indent=2))
    return 0


def _cache(args) -> int:
    from .cache import CARD_KEY
    from .evaluation import cache_figures

    return _card_figures(args, CARD_KEY, cache_figures)


def _topic(args) -> int:
    from .evaluation import topic_figures
    from .topic import CARD_KEY

    return _card_figures(args, CARD_KEY, topic_figures, titled_only=True)


def _card_figures(args, key: str, figures_of, titled_only: bool = False) -> int:
    """Compute ``figures_of(generator)`` for each model asked for (all: those it applies to), print them,
    and with ``--write`` keep them in the card under ``key``."""
    from .bundle import list_names, write_card_figures
    from .generation import load

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


def _serve(args) -> int:
    from .serve import config_from, serve

    return serve(config_from(args))


SKIPPED = ("read", "model_overrides", "split")  # TrainConfig fields with options of their own shape


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patentrnn", description="Write new patent abstracts with an LSTM.")
    parser.add_argument("--version", action="version", version=f"patentrnn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    # options many commands share, defined once
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--models-dir", help="the bundles' directory (default: $PATENTRNN_MODELS, else models/)")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON")
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("--model", default=None, help="bundle name (default: the default model)")
    _model_commands(commands, where, as_json, which)
    _text_commands(commands, [where, as_json, which])
    from .serve import add_arguments

    serve = commands.add_parser("serve", help="serve the web app (Voilà) to many visitors")
    add_arguments(serve)
    serve.set_defaults(run=_serve)
    return parser


MAX_COPY_HELP = "never copy more than N consecutive words of the training text (the page uses 7)"


def _model_commands(commands, where, as_json, which) -> None:
    """Commands that make, list and measure models."""
    from .options import add_arguments
    from .training import FLAGS, HELP, TrainConfig

    train = commands.add_parser("train", parents=[where], help="train a model and save it as a bundle")
    train.add_argument("--name", required=True, help="bundle name under models/")
    add_arguments(train, TrainConfig, HELP, FLAGS, skip=SKIPPED, choices={"mode": ("abstracts", "windows")})
    _add_read_arguments(train)
    train.add_argument("--model-overrides", help="JSON, e.g. '{\"lstm_units\": 128}'")
    train.add_argument("--split-seed", type=int, default=0)
    train.set_defaults(run=_train)

    models = commands.add_parser("models", parents=[where, as_json], help="list the bundles and their test metrics")
    models.set_defaults(run=_models)

    evaluate = commands.add_parser(
        "evaluate", parents=[where, as_json, which], help="score a model on any file of abstracts"
    )
    evaluate.add_argument("--corpus", required=True, help="neural-network, baseball or a file (see train)")
    _add_read_arguments(evaluate)
    evaluate.set_defaults(run=_evaluate)

    memorise = commands.add_parser(
        "memorisation",
        parents=[where, as_json],
        help="how often a model copies 8+ words of its training text (writes the card with --write)",
    )
    memorise.add_argument("--model", action="append", help="bundle name; repeat for several (default: all)")
    memorise.add_argument("--n", type=int, default=200, help="generations (rng seeds 0 to n-1)")
    memorise.add_argument("--words", type=int, default=100)
    memorise.add_argument("--diversity", type=float, default=DEFAULT_DIVERSITY)
    memorise.add_argument("--max-copy", type=int, metavar="N", help=MAX_COPY_HELP)
    memorise.add_argument("--write", action="store_true", help="store the figures in each bundle's card.json")
    memorise.set_defaults(run=_memorisation)

    titles = commands.add_parser(
        "title-figures",
        parents=[where],
        help="a title model's log loss with and without titles, its endings and topic (--write: card)",
    )
    titles.add_argument("--model", required=True, help="a model trained with --titles")
    titles.add_argument("--compare", help="the model without titles it is compared with (default: neural-network-lstm)")
    titles.add_argument("-n", type=int, default=200, help="test titles generated from")
    titles.add_argument("--write", action="store_true", help="write the figures into the model's card.json")
    titles.set_defaults(run=_title_figures)

    for name, run, what in (
        ("cache", _cache, "a model's continuous cache"),
        ("topic", _topic, "a title model's topic bonus (after its cache)"),
    ):
        command = commands.add_parser(
            name, parents=[where], help=f"choose {what} on its validation split; test log loss with and without"
        )
        command.add_argument("--model", action="append", help="bundle name; repeat for several (default: all)")
        command.add_argument(
            "--write", action="store_true", help="write it into each model's card.json (used from then on)"
        )
        command.set_defaults(run=run)


def _text_commands(commands, parents: list) -> None:
    """Commands that write or read text with a model."""
    generate = commands.add_parser("generate", parents=parents, help="write a new abstract")
    generate.add_argument("--seed", help="text to continue (with --title: the abstract's beginning)")
    generate.add_argument("--title", help="the invention's title, read first (title models)")
    generate.add_argument("--random", action="store_true", help="start from a random real test abstract (default)")
    generate.add_argument("--words", type=int, default=None,
                          help="words to write; default: until a title model ends the abstract (at most 300), "
                          "else 50")  # fmt: skip
    generate.add_argument("--diversity", type=float, default=DEFAULT_DIVERSITY,
                          help=f"0 (most likely), or 0.01 to 5; default {DEFAULT_DIVERSITY}")  # fmt: skip
    generate.add_argument("--top-k", type=int)
    generate.add_argument("--top-p", type=float)
    generate.add_argument("--rng-seed", type=int)
    generate.add_argument("--max-copy", type=int, metavar="N", help=MAX_COPY_HELP)
    generate.add_argument(
        "--no-topic", action="store_true", help="with a title: the network alone, without the title's topic"
    )
    generate.set_defaults(run=_generate)

    for name, help_text, run in (
        ("originality", "the closest real patents to a text and its longest span copied from training text",
         _originality),
        ("score", "how the model sees a text: each word's probability, rank and top 5; perplexity", _score),
    ):  # fmt: skip
        command = commands.add_parser(name, parents=parents, help=help_text)
        text = command.add_mutually_exclusive_group(required=True)
        text.add_argument("--text", help=f"the text to {name == 'score' and 'score' or 'check'}")
        text.add_argument("--file", help=f"a UTF-8 text file to {name == 'score' and 'score' or 'check'}")
        command.set_defaults(run=run)
        if name == "originality":
            command.add_argument("--seed-words", type=int, default=0, help="the first N words are yours: not copies")
        else:
            command.add_argument("--title", help="the title the text is the abstract of, read first (title models)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as error:
        print(f"patentrnn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"patentrnn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
