"""User-facing errors.

A :class:`SrbenchError` carries a one-line message that names the file or value at fault and says
what to do. The CLI prints it as ``error: <message>`` and exits with status 2; the traceback is shown
only with ``--debug``. Anything else escaping the library is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SrbenchError(Exception):
    """An error caused by the user's input or environment, explained in one line."""


def unknown_name(kind: str, name: str, known: Iterable[str]) -> SrbenchError:
    """Build the error for an unknown registry name, suggesting the closest known one."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return SrbenchError(f"unknown {kind} '{name}': {hint}known: {', '.join(known)}")
