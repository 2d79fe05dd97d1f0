"""Commands that make, list and measure models: train, models, evaluate, memorisation, title-figures,
cache, topic."""

from __future__ import annotations

import json
import sys

from ..errors import InputError
from ..sampling import DEFAULT_DIVERSITY
from .figures import _cache, _evaluate, _memorisation, _read_options, _title_figures, _topic

SKIPPED = ("read", "model_overrides", "split")  # TrainConfig fields with options of their own shape
MAX_COPY_HELP = "never copy more than N consecutive words of the training text (the page uses 7)"


def _add_read_arguments(parser) -> None:
    """How to read a corpus file (``documents.ReadOptions``); each is detected when not given."""
    from ..documents import FORMATS, READ_HELP, SPLITS, ReadOptions
    from ..options import add_arguments

    add_arguments(parser, ReadOptions, READ_HELP, choices={"format": FORMATS, "documents": SPLITS})


def _train(args) -> int:
    from ..corpus import SplitConfig
    from ..options import from_arguments
    from ..train.training import TrainConfig, train

    overrides = json.loads(args.model_overrides) if args.model_overrides else {}
    if not isinstance(overrides, dict):
        raise InputError("--model-overrides must be a JSON object")
    split = SplitConfig(seed=args.split_seed)
    read = _read_options(args)
    config = from_arguments(args, TrainConfig, SKIPPED, read=read, model_overrides=overrides, split=split)
    path = train(config, args.name, args.models_dir)
    card = json.loads((path / "card.json").read_text())
    stopped = card["training"]["stopped"]
    print(f"training stopped: {stopped}", file=sys.stderr)
    print(json.dumps({"bundle": str(path), "stopped": stopped, "metrics": card["metrics"]}, indent=2))
    return 0


def _models(args) -> int:
    from ..bundle import list_bundles, models_dir
    from ..rendering import render_models

    rows = list_bundles(args.models_dir)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no models in {models_dir(args.models_dir)}")
        return 0
    print(render_models(rows))
    return 0


def add_commands(commands, where, as_json, which) -> None:
    """Commands that make, list and measure models."""
    _add_making_commands(commands, where, as_json, which)
    _add_figure_commands(commands, where, as_json)


def _add_making_commands(commands, where, as_json, which) -> None:
    """train, models, evaluate."""
    from ..options import add_arguments
    from ..train.training import FLAGS, HELP, TrainConfig

    train = commands.add_parser("train", parents=[where], help="train a model and save it as a bundle")
    train.add_argument("--name", required=True, help="bundle name under models/")
    add_arguments(train, TrainConfig, HELP, FLAGS, skip=SKIPPED, choices={"mode": ("abstracts", "windows")})
    _add_read_arguments(train)
    train.add_argument("--model-overrides", help="JSON, e.g. '{\"lstm_units\": 128}'")
    train.add_argument("--split-seed", type=int, default=0,
                       help="the seed of the train/validation/test split of whole abstracts (default 0)")  # fmt: skip
    train.set_defaults(run=_train)

    models = commands.add_parser("models", parents=[where, as_json], help="list the bundles and their test metrics")
    models.set_defaults(run=_models)

    evaluate = commands.add_parser(
        "evaluate", parents=[where, as_json, which], help="score a model on any file of abstracts"
    )
    evaluate.add_argument("--corpus", required=True, help="neural-network, baseball or a file (see train)")
    _add_read_arguments(evaluate)
    evaluate.set_defaults(run=_evaluate)


def _add_figure_commands(commands, where, as_json) -> None:
    """The card's figures: memorisation, title-figures, cache, topic."""
    memorise = commands.add_parser(
        "memorisation",
        parents=[where, as_json],
        help="how often a model copies 8+ words of its training text (writes the card with --write)",
    )
    memorise.add_argument("--model", action="append", help="bundle name; repeat for several (default: all)")
    memorise.add_argument("--n", type=int, default=200, help="generations (rng seeds 0 to n-1)")
    memorise.add_argument("--words", type=int, default=100, help="words each generation writes (default 100)")
    memorise.add_argument("--diversity", type=float, default=DEFAULT_DIVERSITY,
                          help=f"the generations' diversity (default {DEFAULT_DIVERSITY}, the page's)")  # fmt: skip
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
    titles.add_argument("-n", type=int, default=200,
                        help="how many test titles to write an abstract from (default 200)")  # fmt: skip
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
