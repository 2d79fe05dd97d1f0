"""The one error a user's input raises.

An ``InputError`` is what a person typed, passed or configured that cannot be used: its message is one
line that says what to change, and the page and the command line show it as it is. It is a
``ValueError``, so code that catches ``ValueError`` still does. Any other exception is a fault of ours:
the page shows one generic line with a reference that the server's log holds with the traceback, and the
command line says to run again with ``--debug``.
"""

from __future__ import annotations


class InputError(ValueError):
    """Input that cannot be used; the message says, in one line, what to change."""
