"""One registry shape for every name -> thing table of the harness (metrics, architectures, recipes,
published models, loss kinds, table layouts, datasets).

A :class:`Registry` maps names to entries. An entry is either the thing itself (``add``, or the
:meth:`Registry.register` decorator in the style of timm's ``@register_model``) or a lazy
``"package.module:attr"`` string (``add_lazy``) imported on first :meth:`Registry.get`, so that
listing commands read names without importing torch. A registry may instead be backed by a
``source`` (a function returning the current ``{name: entry}``, e.g. parsed from a YAML file), read
on each lookup so that its own caching and test doubles apply. Lookups fold names with ``key``
(``str.lower`` for case-insensitive registries) and may accept ``aliases``; an unknown name is the
project's one-line :func:`~srbench_eval.errors.unknown_name` error with a suggestion. With a
``base`` class, every loaded entry must be a subclass of it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from srbench_eval.errors import unknown_name

T = TypeVar("T")


@dataclass(frozen=True)
class _Lazy:
    """An entry not imported yet: ``module:attr``."""

    spec: str

    def load(self) -> Any:
        module, _, attr = self.spec.partition(":")
        if not attr:
            raise ValueError(f"lazy registry entry {self.spec!r}: use 'package.module:attr'")
        return getattr(importlib.import_module(module), attr)


def _identity(name: str) -> str:
    return name


class Registry(Generic[T]):
    """Names -> entries of one ``kind`` (the word the unknown-name error uses: ``"metric"``).

    ``base``: a class (or a lazy ``module:Class``) every loaded entry must subclass.
    ``key``: how a looked-up name is folded before matching (``str.lower``: case-insensitive).
    ``source``: a function returning the current ``{name: entry}``, instead of added entries.
    ``aliases``: other names an entry answers to (folded with ``key`` too).
    """

    def __init__(
        self,
        kind: str,
        *,
        base: type | str | None = None,
        key: Callable[[str], str] = _identity,
        source: Callable[[], Mapping[str, T]] | None = None,
        aliases: Callable[[T], Iterable[str]] | None = None,
    ) -> None:
        self.kind = kind
        self._base = base
        self._key = key
        self._source = source
        self._aliases = aliases
        self._entries: dict[str, T | _Lazy] = {}

    # ------------------------------------------------------------------ adding

    def add(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name``; a name is registered once (a lazy entry of that name is
        replaced by the object it names, which is what its module's decorator adds on import)."""
        if name in self._entries and not isinstance(self._entries[name], _Lazy):
            raise ValueError(f"{self.kind} {name} is registered twice")
        self._check(name, entry)
        self._entries[name] = entry
        return entry

    def add_lazy(self, name: str, spec: str) -> None:
        """Add ``name`` as ``"package.module:attr"``, imported on first :meth:`get`."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name} is registered twice")
        self._entries[name] = _Lazy(spec)

    def remove(self, name: str) -> None:
        """Remove ``name`` (a plugin withdrawn, a test's entry cleaned up)."""
        if self._source is not None:
            raise TypeError(f"the {self.kind} registry is read from its source; edit that instead")
        del self._entries[name]

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator adding the decorated object under ``name`` (default: its ``name`` attribute)."""

        def decorate(obj: T) -> T:
            return self.add(name or obj.name, obj)  # type: ignore[attr-defined]

        return decorate

    # ------------------------------------------------------------------ looking up

    def _table(self) -> Mapping[str, T | _Lazy]:
        return self._source() if self._source is not None else self._entries

    def names(self) -> list[str]:
        """Every name, in registration (or source) order."""
        return list(self._table())

    def find(self, name: str) -> str | None:
        """The registered name that ``name`` (folded, or an alias) stands for, else ``None``."""
        table, key = self._table(), self._key(name)
        if name in table:
            return name
        for registered in table:
            if key == self._key(registered):
                return registered
        if self._aliases is not None:
            for registered, entry in table.items():
                if not isinstance(entry, _Lazy) and key in (self._key(a) for a in self._aliases(entry)):
                    return registered
        return None

    def get(self, name: str, kind: str | None = None) -> T:
        """The entry for ``name`` (imported now if lazy); an unknown name is a one-line user error
        naming ``kind`` (default: the registry's) with the closest known name."""
        registered = self.find(name)
        if registered is None:
            raise unknown_name(kind or self.kind, name, self.names())
        return self._load(registered)

    def _load(self, name: str) -> T:
        entry = self._table()[name]
        if isinstance(entry, _Lazy):
            loaded = entry.load()
            self._check(name, loaded)
            if self._source is None:
                self._entries[name] = loaded
            return loaded
        return entry

    def _check(self, name: str, entry: Any) -> None:
        if self._base is None or isinstance(entry, _Lazy):
            return
        base = _Lazy(self._base).load() if isinstance(self._base, str) else self._base
        if not (isinstance(entry, type) and issubclass(entry, base)):
            raise TypeError(f"{self.kind} {name}: {entry!r} is not a subclass of {base.__qualname__}")

    # ------------------------------------------------------------------ mapping view

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._table())

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs, every lazy entry imported."""
        return [(n, self._load(n)) for n in self.names()]

    def values(self) -> list[T]:
        """Every entry, lazy ones imported."""
        return [self._load(n) for n in self.names()]

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
