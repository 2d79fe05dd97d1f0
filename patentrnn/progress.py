"""Progress for long work (evaluation, the card's figures): a tqdm bar on stderr, shown only where someone
watches (stderr is a terminal) and has not asked for quiet (the command line's ``--json``)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable

_quiet = False


@contextlib.contextmanager
def quiet(on: bool = True):
    """No bars inside this block (``on``), whatever the terminal."""
    global _quiet
    before, _quiet = _quiet, on
    try:
        yield
    finally:
        _quiet = before


def progress(iterable: Iterable, what: str, total: int | None = None) -> Iterable:
    """``iterable``, with a bar named ``what`` on a terminal; as it is elsewhere."""
    if _quiet or not sys.stderr.isatty():
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=what, total=total, file=sys.stderr, leave=False, dynamic_ncols=True)
