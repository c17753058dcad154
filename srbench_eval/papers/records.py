"""A paper's published numbers as typed records: :class:`Paper`, :class:`Table`, :class:`Row`,
:class:`Cell` (a printed value with its decimals), :class:`Claim` and :class:`SameRun`.

They are read from one data file per paper (``srbench_eval/papers/<name>.yaml``) by
:func:`srbench_eval.papers.loader.load`, which validates them; the file's header describes its format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from srbench_eval.errors import unknown_name


@dataclass(frozen=True)
class Cell:
    """One printed number: ``text`` as printed, its ``value`` and its ``decimals`` (digits after the
    point: ``"0.1040"`` has 4, ``"26"`` has 0)."""

    text: str
    value: float
    decimals: int


@dataclass(frozen=True)
class Row:
    """A table row: ``cells[dataset][metric]``; ``settings`` are the row's hyperparameters as the
    paper gives them (``mu: inf`` = the VGG loss alone)."""

    id: str
    label: str
    cells: Mapping[str, Mapping[str, Cell]]
    model: str | None = None
    printed: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def cell(self, dataset: str, metric: str) -> Cell:
        return self.cells[dataset][metric]


@dataclass(frozen=True)
class Table:
    """A table: its datasets and its metrics in the order the paper prints them, and its rows."""

    id: str
    caption: str
    datasets: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: tuple[Row, ...]
    description: str = ""
    footnotes: tuple[str, ...] = ()

    def row(self, row_id: str) -> Row:
        for row in self.rows:
            if row.id == row_id:
                return row
        raise unknown_name(f"row of {self.id}", row_id, [r.id for r in self.rows])


@dataclass(frozen=True)
class SameRun:
    """Rows (``table/row``) of different tables that print the same run: ``cells`` equal cells per
    pair (the first row against each other), on ``datasets`` x ``metrics`` or all the pair shares."""

    rows: tuple[str, ...]
    cells: int
    datasets: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    transcription: str = ""


@dataclass(frozen=True)
class Claim:
    """A difference the paper claims between cells of one table (see the data file's header)."""

    id: str
    text: str
    kind: str
    table: str
    row: str
    metrics: tuple[str, ...]
    datasets: tuple[str, ...]
    than: tuple[str, ...] = ()
    among: tuple[str, ...] = ()
    at_most: int = 1
    value: Cell | None = None
    basis: str = "text"
    source: str = ""


@dataclass(frozen=True)
class Paper:
    """One paper's data file, validated."""

    name: str
    title: str
    citation: str
    tables: tuple[Table, ...]
    claims: tuple[Claim, ...] = ()
    same_run: tuple[SameRun, ...] = ()
    protocol: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def table(self, table_id: str) -> Table:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise unknown_name(f"table of paper {self.name}", table_id, [t.id for t in self.tables])

    def row(self, ref: str) -> Row:
        """The row ``table/row``."""
        table_id, _, row_id = ref.partition("/")
        return self.table(table_id).row(row_id)
