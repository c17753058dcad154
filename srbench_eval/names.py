"""The one rule for names that become parts of a path.

Model labels (typed on the command line or read from a checkpoint), dataset names and image names
end up as folder and file names of a run (``OUT/sr/<model>/<dataset>/<image>.png``), so a name read
from a file must never be able to point elsewhere (``../../tmp/victim``, ``/tmp/victim``). Every
such name passes :func:`safe_name`, whatever its origin:

* not empty, at most :data:`MAX_LENGTH` characters (and 200 bytes in UTF-8);
* letters, digits (any script), spaces and ``- _ . , + = @ ( ) [ ] #``: no ``/``, ``\\``, ``:``, NUL,
  control characters or anything a file system may treat specially;
* not starting with ``.`` (hidden files, ``.``/``..``) nor with or ending in a space, and no ``..``.

The allowed punctuation covers the labels the tool makes itself: ``esrgan-dp[dp.mu=1]`` and
``srcnn (smoke)``.
"""

from __future__ import annotations

import re

from srbench_eval.errors import SrbenchError

FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
"""How a model from the user's code is named in ``--models LABEL=package.module:factory``
(:mod:`srbench_eval.api`); here so that reading a spec imports no torch."""

PLAIN_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$")
"""A plain label (``LABEL=...`` of ``--models``): ASCII letters and digits, then also ``_ . + -``;
a stricter subset of :func:`safe_name`, so text before ``=`` that matches it is read as a label, not as
part of a folder's name (``--models mine=/ckpts`` vs a folder ``runs/a=b``)."""

MAX_LENGTH = 128
MAX_BYTES = 200
PUNCTUATION = frozenset(" -_.,+=@()[]#")
ALLOWED = "letters, digits, spaces and - _ . , + = @ ( ) [ ] #"


def name_problem(value: object) -> str | None:
    """Why ``value`` cannot be a path component under the rule above, or ``None`` when it can."""
    if not isinstance(value, str):
        return f"not a string ({type(value).__name__})"
    if not value:
        return "empty"
    if len(value) > MAX_LENGTH or len(value.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return f"longer than {MAX_LENGTH} characters"
    bad = sorted({c for c in value if not (c.isalnum() or c in PUNCTUATION)})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:3])
        return f"contains {shown}; use only {ALLOWED}"
    if value.startswith("."):
        return "starts with '.'"
    if value != value.strip():
        return "starts or ends with a space"
    if ".." in value:
        return "contains '..'"
    return None


def is_plain_label(text: str) -> bool:
    """Whether ``text`` matches :data:`PLAIN_LABEL`."""
    return PLAIN_LABEL.match(text) is not None


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``), so a message stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def safe_name(kind: str, value: object, where: str = "") -> str:
    """``value`` when it is a safe path component (see the module docstring), else a one-line
    :class:`SrbenchError` naming ``kind``, the value and ``where`` it came from."""
    problem = name_problem(value)
    if problem is None:
        assert isinstance(value, str)
        return value
    shown = repr(value) if isinstance(value, str) and len(value) <= 2 * MAX_LENGTH else "value"
    origin = f" ({printable(where)})" if where else ""
    raise SrbenchError(f"{kind} {shown}{origin}: {problem}")


NAME_MAX = 255
"""The longest file or folder name (in bytes) of the usual file systems (ext4, XFS, btrfs, APFS)."""

STAGING_ROOM = 40
"""Bytes kept free in the name of a folder a command writes, for its staging twin
(``.NAME.partial-XXXXXXXX``)."""


def too_long(path: object) -> str | None:
    """The first component of ``path`` longer than :data:`NAME_MAX` bytes, else ``None``."""
    for part in str(path).split("/"):
        if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX:
            return part
    return None


def check_path(path: object, option: str, written: bool = False) -> None:
    """Refuse a path given as ``option`` whose file or folder names do not fit the file system
    (:data:`NAME_MAX` bytes each; a folder the command ``written`` keeps :data:`STAGING_ROOM`
    bytes for its staging name): one line naming the value, before anything is read or written."""
    text = str(path)
    part = too_long(text)
    last = text.rstrip("/").rsplit("/", 1)[-1]
    if part is None and written and len(last.encode("utf-8", "surrogateescape")) > NAME_MAX - STAGING_ROOM:
        part = last
    if part is not None:
        size = len(part.encode("utf-8", "surrogateescape"))
        limit = NAME_MAX - STAGING_ROOM if part == last and written else NAME_MAX
        raise SrbenchError(
            f"{option} {printable(text)!r}: a name of {size} bytes, longer than the {limit} this allows"
        )


__all__ = [
    "ALLOWED",
    "MAX_LENGTH",
    "PLAIN_LABEL",
    "NAME_MAX",
    "check_path",
    "is_plain_label",
    "name_problem",
    "printable",
    "safe_name",
    "too_long",
]
