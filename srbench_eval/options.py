"""The one ``KEY=VALUE`` grammar of the command line: ``--set``, ``--metric-option``, ``--weights``,
``--protocol-set`` (and the study's sweeps).

An *assignment* is ``KEY=VALUE``: split at the first ``=``; ``KEY`` is one or more non-empty
dot-separated parts (``loss.dp.mu``, ``fid-patch.patch_size``, ``crop_border``), surrounding spaces
dropped; ``VALUE`` is the rest, stripped (an empty one is for the option to accept or refuse).
Options whose key is a single name (``--weights NAME=PATH``, ``--protocol-set FIELD=VALUE``) take
the key whole (``dotted=False``), dots included.

Values are typed by what they replace (:func:`coerce`): booleans ``true/yes/on/1`` and
``false/no/off/0``, integers (``1e3`` is 1000), floats, strings, ``none``/``null``, and lists as
comma-separated items (:func:`split_list`, the one comma-list rule) typed like the list's first item.

Each option keeps its own one-line error (naming the option, the item and an example): the
functions here return ``None`` for a malformed item and the caller says what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TRUE = frozenset({"true", "yes", "on", "1"})
FALSE = frozenset({"false", "no", "off", "0"})


@dataclass(frozen=True)
class Assignment:
    """One ``KEY=VALUE`` item: its dotted ``path``, the ``key`` as written (stripped) and ``raw`` value."""

    item: str
    key: str
    path: tuple[str, ...]
    raw: str


def split_list(value: str, keep_empty: bool = False) -> tuple[str, ...]:
    """The items of a comma list, stripped: ``"a, b,,c"`` -> ``("a", "b", "c")`` (empty items dropped,
    or kept as ``""`` with ``keep_empty`` for callers that refuse them)."""
    items = tuple(v.strip() for v in value.split(","))
    return items if keep_empty else tuple(v for v in items if v)


def parse_assignment(item: str, parts: int | None = None, dotted: bool = True) -> Assignment | None:
    """``item`` as an :class:`Assignment`, or ``None`` when it is not ``KEY=VALUE`` with ``parts``
    dot-separated key parts (any number when ``None``; ``dotted=False``: the key is one name)."""
    key, sep, raw = item.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        return None
    path = tuple(key.split(".")) if dotted else (key,)
    if not all(path) or (parts is not None and len(path) != parts):
        return None
    return Assignment(item, key, path, raw)


def literal(raw: str) -> Any:
    """``raw`` as the value it reads as: none, a boolean, an integer, a float, else the string."""
    low = raw.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(raw)
        except ValueError:
            pass
    return raw


def coerce(raw: str, like: Any) -> Any:
    """Parse ``raw`` to the type of ``like`` (the value it replaces or the constructor default);
    a ``ValueError`` says what was expected."""
    raw = raw.strip()
    if raw.lower() in ("none", "null"):
        return None
    if isinstance(like, bool):
        if raw.lower() in TRUE | FALSE:
            return raw.lower() in TRUE
        raise ValueError(f"expected true or false, got {raw!r}")
    if isinstance(like, int):
        f = float(raw)
        if not f.is_integer():
            raise ValueError(f"expected an integer, got {raw!r}")
        return int(f)
    if isinstance(like, float):
        return float(raw)
    if isinstance(like, str):
        return raw
    if isinstance(like, tuple | list):
        return [coerce(r, like[0]) if like else literal(r) for r in split_list(raw)]
    if isinstance(like, dict):
        raise ValueError("a group of settings: set one of its keys (path.key=value)")
    return literal(raw)
