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


def _read_options(args):
    from .documents import ReadOptions

    return ReadOptions(args.format, args.text_column, args.title_column, args.id_column, args.documents)


def _add_read_arguments(parser) -> None:
    """How to read a corpus file (patentrnn.documents.ReadOptions); each is detected when not given."""
    from .documents import FORMATS, SPLITS

    parser.add_argument("--format", choices=FORMATS, help="the file's format (default: from its name and content)")
    parser.add_argument("--text-column", help="CSV/TSV column or JSON key of the text "
                        "(default: patent_abstract, then abstract, then text)")  # fmt: skip
    parser.add_argument("--title-column", help="column or key of the title (default: patent_title, then title)")
    parser.add_argument("--id-column", help="column or key of an id (default: patent_number, then id)")
    parser.add_argument("--documents", choices=SPLITS, help="plain text: a document a line, or a paragraph "
                        "(blank-line separated); default: detected")  # fmt: skip


def _train(args) -> int:
    from .corpus import SplitConfig
    from .training import TrainConfig, train

    overrides = json.loads(args.model_overrides) if args.model_overrides else {}
    if not isinstance(overrides, dict):
        raise ValueError("--model-overrides must be a JSON object")
    config = TrainConfig(
        corpus=args.corpus,
        read=_read_options(args),
        preset=args.preset,
        model_overrides=overrides,
        mode=args.mode,
        window=args.window,
        min_count=args.min_count,
        unk_singleton_rate=args.unk_singleton_rate,
        batch_size=args.batch_size,
        epochs=args.epochs,
        patience=args.patience,
        learning_rate=args.learning_rate,
        time_budget_minutes=args.time_budget,
        max_abstracts=args.max_abstracts,
        split=SplitConfig(seed=args.split_seed),
        seed=args.seed,
        checkpoint_dir=args.checkpoint_dir,
        weight_averaging=args.weight_averaging,
        titles=args.titles,
        title_dropout=args.title_dropout,
        verbose=args.verbose,
    )
    path = train(config, args.name, args.models_dir)
    card = json.loads((path / "card.json").read_text())
    print(json.dumps({"bundle": str(path), "metrics": card["metrics"]}, indent=2))
    return 0


def _models(args) -> int:
    from .bundle import list_bundles, models_dir
    from .originality import MEMORISATION_SPAN, SHARE_KEY

    rows = list_bundles(args.models_dir)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no models in {models_dir(args.models_dir)}")
        return 0
    print(
        f"{'model':<28} {'corpus':<16} {'vocab':>7} {'log loss':>9} {'perplexity':>11} {'top-1':>7} {'top-5':>7}"
        f" {f'copies {MEMORISATION_SPAN}+':>9} {'median copy':>11}"
    )
    for row in rows:
        test, copies = row["test"], row.get("memorisation") or {}
        print(
            f"{row['name'] + (' *' if row['default'] else ''):<28} {row['corpus'] or '?':<16} "
            f"{row['vocabulary'] or 0:>7} {test.get('log_loss', float('nan')):>9.4f} "
            f"{test.get('perplexity', float('nan')):>11.2f} {test.get('top1_accuracy', float('nan')):>7.2%} "
            f"{test.get('top5_accuracy', float('nan')):>7.2%} {copies.get(SHARE_KEY, float('nan')):>9.1%} "
            f"{copies.get('median_longest', float('nan')):>11g}"
        )
    print("* default model; metrics on each model's test split")
    print(
        f"copies {MEMORISATION_SPAN}+: share of generated texts holding a run of {MEMORISATION_SPAN}+ generated words"
        " of a training abstract (`patentrnn memorisation`; settings in each card)"
    )
    return 0


def _evaluate(args) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from .bundle import keras_model, load_bundle
    from .corpus import load_corpus
    from .training import evaluate_model

    bundle = load_bundle(args.model, args.models_dir)
    data = load_corpus(args.corpus, options=_read_options(args))
    metrics = evaluate_model(keras_model(bundle), bundle.vocabulary, data.abstracts)
    report = {
        "model": bundle.name,
        "corpus": data.name,
        "sha256": data.sha256,
        "abstracts": len(data.abstracts),
        **metrics,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{bundle.name} on {data.name} ({len(data.abstracts)} abstracts, {metrics['targets']} targets, "
            f"{metrics['unk_target_share']:.1%} unknown): log loss {metrics['log_loss']:.4f}, perplexity "
            f"{metrics['perplexity']:.2f}, top-1 {metrics['top1_accuracy']:.2%}, top-5 {metrics['top5_accuracy']:.2%}"
        )
    return 0


def _generate(args) -> int:
    from .generation import load

    _use_models_dir(args)
    if args.seed is not None and args.random:
        raise ValueError("give --seed TEXT or --random, not both")
    generator = load(args.model)
    result = generator.generate(
        seed=None if args.random or args.seed is None else args.seed,
        words=args.words,
        diversity=args.diversity,
        top_k=args.top_k,
        top_p=args.top_p,
        rng_seed=args.rng_seed,
        max_copy=args.max_copy,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return 0
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


def _use_models_dir(args) -> None:
    if args.models_dir:
        import os

        from .bundle import models_dir

        os.environ["PATENTRNN_MODELS"] = str(models_dir(args.models_dir))


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

    _use_models_dir(args)
    text = _read_text(args, MAX_CHARACTERS)
    check = load(args.model).originality(text, seed_words=args.seed_words)
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(check), indent=2, ensure_ascii=False))
    else:
        print(render_originality_text(check))
    return 0


def _score(args) -> int:
    from .generation import load
    from .scoring import BUCKET_NAMES, MAX_SCORE_CHARACTERS

    _use_models_dir(args)
    text = _read_text(args, MAX_SCORE_CHARACTERS)
    score = load(args.model).score(text)
    if args.json:
        print(json.dumps(score.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"{'word':<24} {'probability':>11} {'rank':>7}  the model's top 5")
    for word in score.words:
        if word.rank is None:
            print(f"{word.word[:24]:<24} {'(read)':>11}")
            continue
        top = ", ".join(f"{name} {p:.1%}" for name, p in word.alternatives)
        print(f"{word.word[:24]:<24} {word.probability:>11.2%} {word.rank:>7,}  {top}")
    shares = " · ".join(f"{name} {share:.0%}" for name, share in zip(BUCKET_NAMES, score.shares))
    print(f"\n{len(score.words) - 1} words scored by {score.model}: log loss {score.log_loss:.4f} nats a word, "
          f"perplexity {score.perplexity:.2f}; {shares}")  # fmt: skip
    if score.unknown_words:
        print(f"note: unknown words scored as <unk>: {', '.join(score.unknown_words[:20])}", file=sys.stderr)
    return 0


def _memorisation(args) -> int:
    from .bundle import list_names
    from .generation import load
    from .originality import MEMORISATION_SPAN, SHARE_KEY, memorisation, write_memorisation

    _use_models_dir(args)
    figures = {}
    for name in args.model or list_names():
        generator = load(name)
        figures[name] = memorisation(
            generator, n=args.n, words=args.words, diversity=args.diversity, max_copy=args.max_copy
        )
        if args.write:
            write_memorisation(generator.bundle.path, figures[name], generator.bundle.card)
        if not args.json:
            row = figures[name]
            print(
                f"{name}: {row[SHARE_KEY]:.1%} of {row['n']} generations copy >= {MEMORISATION_SPAN} words; "
                f"longest copy median {row['median_longest']:g}, p90 {row['p90_longest']:g}, max {row['max_longest']}; "
                f"perplexity of the generated words {row['generated_perplexity']:g}, {row['generate_ms_median']:g} ms"
                + (f"; max_copy {args.max_copy}: {row['steered_share']:.2%} of draws steered, removing "
                   f"{row['mass_removed_mean']:.1%} of the probability each" if args.max_copy is not None else "")
                + (" (written to its card.json)" if args.write else "")
            )
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


def _serve(args) -> int:
    from .serving import config_from, serve

    return serve(config_from(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patentrnn", description="Write new patent abstracts with an LSTM.")
    parser.add_argument("--version", action="version", version=f"patentrnn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and save it as a bundle")
    train.add_argument("--name", required=True, help="bundle name under models/")
    train.add_argument("--corpus", default="neural-network",
                       help="neural-network, baseball, or a file: CSV, TSV, plain text, JSON lines, or a .gz of one")
    _add_read_arguments(train)
    train.add_argument("--preset", default="default", help="architecture: default, awd, large, reference or tiny")
    train.add_argument("--model-overrides", help="JSON, e.g. '{\"lstm_units\": 128}'")
    train.add_argument("--mode", choices=["abstracts", "windows"], default="abstracts")
    train.add_argument("--window", type=int, default=50)
    train.add_argument("--min-count", type=int, default=1)
    train.add_argument("--unk-singleton-rate", type=float, default=0.5)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--patience", type=int, default=3)
    train.add_argument("--learning-rate", type=float, default=2e-3)
    train.add_argument("--time-budget", type=float, help="minutes; stop after the epoch that would overrun")
    train.add_argument("--max-abstracts", type=int)
    train.add_argument("--titles", action="store_true",
                       help="read each abstract's title first: <title> title <abstract> abstract <end>")  # fmt: skip
    train.add_argument("--title-dropout", type=float, default=0.2,
                       help="with --titles: share of training examples shown without their title")  # fmt: skip
    train.add_argument("--split-seed", type=int, default=0)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--checkpoint-dir")
    train.add_argument("--weight-averaging", action="store_true", help="validate and save averaged weights (EMA)")
    train.add_argument("--models-dir")
    train.add_argument("--verbose", type=int, default=1)
    train.set_defaults(run=_train)

    models = commands.add_parser("models", help="list the model bundles and their test metrics")
    models.add_argument("--json", action="store_true")
    models.add_argument("--models-dir")
    models.set_defaults(run=_models)

    evaluate = commands.add_parser("evaluate", help="score a model on any file of abstracts")
    evaluate.add_argument("--model", default=None, help="bundle name (default: the default model)")
    evaluate.add_argument("--corpus", required=True, help="neural-network, baseball or a file (see train)")
    _add_read_arguments(evaluate)
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--models-dir")
    evaluate.set_defaults(run=_evaluate)

    generate = commands.add_parser("generate", help="write a new abstract")
    generate.add_argument("--model", default=None, help="bundle name (default: the default model)")
    start = generate.add_mutually_exclusive_group()
    start.add_argument("--seed", help="text to continue")
    start.add_argument("--random", action="store_true", help="start from a random real test abstract (default)")
    generate.add_argument("--words", type=int, default=50)
    generate.add_argument("--diversity", type=float, default=0.8, help="0 (most likely), or 0.01 to 5; default 0.8")
    generate.add_argument("--top-k", type=int)
    generate.add_argument("--top-p", type=float)
    generate.add_argument("--rng-seed", type=int)
    max_copy = "never copy more than N consecutive words of the training text (the page uses 7)"
    generate.add_argument("--max-copy", type=int, metavar="N", help=max_copy)
    generate.add_argument("--json", action="store_true")
    generate.add_argument("--models-dir")
    generate.set_defaults(run=_generate)

    originality = commands.add_parser(
        "originality", help="the closest real patents to a text and its longest span copied from training text"
    )
    text = originality.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the text to check")
    text.add_argument("--file", help="a UTF-8 text file to check")
    originality.add_argument("--model", default=None, help="bundle name (default: the default model)")
    originality.add_argument("--seed-words", type=int, default=0, help="the first N words are yours: not copies")
    originality.add_argument("--json", action="store_true")
    originality.add_argument("--models-dir")
    originality.set_defaults(run=_originality)

    score = commands.add_parser(
        "score", help="how the model sees a text: each word's probability, rank and top 5; perplexity"
    )
    text = score.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the text to score")
    text.add_argument("--file", help="a UTF-8 text file to score")
    score.add_argument("--model", default=None, help="bundle name (default: the default model)")
    score.add_argument("--json", action="store_true")
    score.add_argument("--models-dir")
    score.set_defaults(run=_score)

    memorise = commands.add_parser(
        "memorisation", help="how often a model copies 8+ words of its training text (writes the card with --write)"
    )
    memorise.add_argument("--model", action="append", help="bundle name; repeat for several (default: all)")
    memorise.add_argument("--n", type=int, default=200, help="generations (rng seeds 0 to n-1)")
    memorise.add_argument("--words", type=int, default=100)
    memorise.add_argument("--diversity", type=float, default=0.8)
    memorise.add_argument("--max-copy", type=int, metavar="N", help=max_copy)
    memorise.add_argument("--write", action="store_true", help="store the figures in each bundle's card.json")
    memorise.add_argument("--json", action="store_true")
    memorise.add_argument("--models-dir")
    memorise.set_defaults(run=_memorisation)

    from .serving import add_arguments

    serve = commands.add_parser("serve", help="serve the web app (Voilà) to many visitors")
    add_arguments(serve)
    serve.set_defaults(run=_serve)
    return parser


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
