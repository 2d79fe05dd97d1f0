"""Command-line options made from a config dataclass's fields, so that a setting is defined once: its
name, type and default in the dataclass, its help text beside it (``HELP`` next to the dataclass)."""

from __future__ import annotations

import argparse
from dataclasses import MISSING, fields

_TYPES = {"int": int, "float": float, "str": str}


def add_arguments(
    parser, cls, helps: dict[str, str], flags: dict[str, str] | None = None, skip=(), choices: dict | None = None
) -> None:
    """One option a field of ``cls`` (``--field-name``, or ``flags[name]``), defaulting to the field's
    default, limited to ``choices[name]`` when given; booleans are switches. Fields in ``skip`` are left
    to the caller."""
    for field in fields(cls):
        if field.name in skip:
            continue
        flag = (flags or {}).get(field.name, "--" + field.name.replace("_", "-"))
        default = field.default if field.default is not MISSING else field.default_factory()
        text = helps.get(field.name, "")
        if field.type == "bool":
            parser.add_argument(flag, dest=field.name, action="store_true", default=default, help=text)
            continue
        kind = _TYPES[field.type.replace(" | None", "")]
        shown = f" (default {default})" if default is not None else ""
        parser.add_argument(
            flag,
            dest=field.name,
            type=kind,
            default=default,
            choices=(choices or {}).get(field.name),
            help=text + shown,
        )


def from_arguments(args: argparse.Namespace, cls, skip=(), **given):
    """``cls`` from the options ``add_arguments`` made, with ``given`` for the skipped fields."""
    values = {field.name: getattr(args, field.name) for field in fields(cls) if field.name not in skip}
    return cls(**values, **given)
