"""Commands that write or read text with a model: generate, originality, score."""

from __future__ import annotations

import json
import sys

from ..errors import InputError
from ..sampling import DEFAULT_DIVERSITY
from .models import MAX_COPY_HELP


def _generate(args) -> int:
    from ..generation import load

    if args.random and (args.seed is not None or args.title is not None):
        raise InputError("give --seed TEXT and/or --title TEXT, or --random, not both")
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
    print(f"(model {result.model}, rng_seed {result.settings.rng_seed})", file=sys.stderr)
    if result.copy_guard:
        print(f"{result.copy_guard['steered']} words steered away from a copy of {args.max_copy + 1}+ training words",
              file=sys.stderr)  # fmt: skip
    if result.originality is not None:
        from ..rendering import render_originality_text

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
    from ..generation import load
    from ..originality import MAX_CHARACTERS
    from ..rendering import render_originality_text

    text = _read_text(args, MAX_CHARACTERS)
    check = load(args.model, args.models_dir).originality(text, seed_words=args.seed_words)
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(check), indent=2, ensure_ascii=False))
    else:
        print(render_originality_text(check))
    return 0


def _score(args) -> int:
    from ..generation import load
    from ..rendering import render_score
    from ..scoring import MAX_SCORE_CHARACTERS

    text = _read_text(args, MAX_SCORE_CHARACTERS)
    score = load(args.model, args.models_dir).score(text, title=args.title)
    if args.json:
        print(json.dumps(score.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(render_score(score))
    if score.unknown_words:
        print(f"note: unknown words scored as <unk>: {', '.join(score.unknown_words[:20])}", file=sys.stderr)
    return 0


def add_commands(commands, parents: list) -> None:
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
    generate.add_argument("--top-k", type=int, help="sample among the K likeliest words only")
    generate.add_argument("--top-p", type=float, help="sample among the likeliest words holding P of the probability")
    generate.add_argument("--rng-seed", type=int, help="the random seed: the same seed writes the same words")
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
