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


def shown() -> bool:
    """Whether bars are shown here: on a terminal, unless quiet."""
    return not _quiet and sys.stderr.isatty()


def progress(iterable: Iterable, what: str, total: int | None = None) -> Iterable:
    """``iterable``, with a bar named ``what`` on a terminal; as it is elsewhere."""
    if not shown():
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=what, total=total, file=sys.stderr, leave=False, dynamic_ncols=True)


@contextlib.contextmanager
def working(what: str):
    """One step of work that has no parts to count (a build in a child process): its name and the time
    it has taken, on a terminal, while the block runs."""
    if not shown():
        yield
        return
    from tqdm import tqdm

    with tqdm(total=1, desc=what, file=sys.stderr, leave=False, bar_format="{desc}… {elapsed}") as bar:
        yield
        bar.update(1)
