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
import os
import sys

from .. import __version__
from ..errors import InputError
from ..progress import quiet
from . import models, text


def _serve(args) -> int:
    from ..serve import config_from, serve

    return serve(config_from(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patentrnn", description="Write new patent abstracts with an LSTM.")
    parser.add_argument("--version", action="version", version=f"patentrnn {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error, not one line")
    commands = parser.add_subparsers(dest="command", required=True)
    # options many commands share, defined once
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--models-dir", help="the bundles' directory (default: $PATENTRNN_MODELS, else models/)")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON")
    which = argparse.ArgumentParser(add_help=False)
    which.add_argument("--model", default=None, help="bundle name (default: the default model)")
    models.add_commands(commands, where, as_json, which)
    text.add_commands(commands, [where, as_json, which])
    from ..serve import add_arguments

    serve = commands.add_parser("serve", help="serve the web app (Voilà) to many visitors")
    add_arguments(serve)
    serve.set_defaults(run=_serve)
    return parser


TRAIN_EXTRA = ("tensorflow", "keras", "matplotlib", "tqdm")  # pyproject.toml's "train" extra


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with quiet(getattr(args, "json", False)):  # bars on a terminal, never in JSON's way
            return args.run(args)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in TRAIN_EXTRA:
            raise
        where = f"{sys.prefix}/bin/" if sys.prefix != sys.base_prefix else ""
        print(f"patentrnn {args.command}: error: this needs the training packages ({error.name} is missing): "
              f"{where}pip install -e '.[train]' in the repository, or pip install 'patentrnn[train]'",
              file=sys.stderr)  # fmt: skip
        return 2
    except BrokenPipeError:  # `patentrnn … | head`: the reader has gone; exit quietly (Python's docs, signal)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (InputError, OSError) as error:  # the user's input, a missing file: the message says it
        if args.debug:
            raise
        print(f"patentrnn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a fault of ours: one line, the traceback with --debug
        if args.debug:
            raise
        print(f"patentrnn {args.command}: error: {type(error).__name__}: {str(error)[:200]} "
              f"(run again with --debug for the details)", file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        print(f"patentrnn {args.command}: interrupted", file=sys.stderr)
        return 130

