"""User-facing errors.

A :class:`SrbenchError` carries a one-line message that names the file or value at fault and says
what to do. The CLI prints it as ``error: <message>`` and exits with status 2; the traceback is shown
only with ``--debug``. Anything else escaping the library is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable
from pathlib import Path


class SrbenchError(Exception):
    """An error caused by the user's input or environment, explained in one line."""


def unknown_name(kind: str, name: str, known: Iterable[str]) -> SrbenchError:
    """Build the error for an unknown registry name, suggesting the closest known one."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return SrbenchError(f"unknown {kind} '{name}': {hint}known: {', '.join(known)}")


def os_error(path: str | Path, e: OSError, doing: str) -> SrbenchError:
    """The one-line error for an ``OSError`` met while ``doing`` something to ``path``; a full disk
    (or quota) and a file standing where a folder should be are said as such."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return SrbenchError(f"{path}: cannot {doing}: the disk is full")
    if e.errno in (errno.ENOTDIR, errno.EEXIST):
        return SrbenchError(f"{path}: cannot {doing}: a file is in the way of a folder on its path")
    return SrbenchError(f"{path}: cannot {doing} ({e.strerror or e})")
