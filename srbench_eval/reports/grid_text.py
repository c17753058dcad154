"""Models-as-rows tables (:mod:`srbench_eval.reports.layouts` ``paper``, ``sweep``, ``ablation``) as
Markdown and LaTeX.

A :class:`Grid` has one section per scale (x2, x3, x4 in that order) and, when runs of different
protocols are merged (``table --allow-mixed``), one group of rows per protocol inside each section,
introduced by a header row naming the protocol (the details are in the marked note). A dataset
cell a model lacks entirely is one ``–``, not ``–/–``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tabulate import tabulate

from srbench_eval.reports.latex import label_of, table_environment, tex_text
from srbench_eval.reports.tables import DAGGER, Cell, markdown_escape, md_cell, md_legend

CHECK = "✓"


@dataclass(frozen=True)
class GridRow:
    prefix: tuple[str, ...]  # the row's name columns: model, override values or check marks
    cells: tuple[tuple[Cell, ...], ...]  # per dataset, one cell per metric
    model: str = ""
    group: str = ""  # protocol group header of merged runs of several protocols ("" otherwise)


@dataclass(frozen=True)
class Grid:
    """Models (or sweep values) as rows, datasets as columns, scales as row groups."""

    prefix: tuple[str, ...]
    datasets: tuple[str, ...]
    metric_labels: tuple[str, ...]
    sections: tuple[tuple[int, tuple[GridRow, ...]], ...]  # (scale, rows)
    notes: tuple[str, ...]
    footnotes: tuple[str, ...]


def _missing(group: tuple[Cell, ...]) -> bool:
    return all(c.text == "–" for c in group)


def _md_group(group: tuple[Cell, ...], plain: bool) -> str:
    return "–" if _missing(group) else "/".join(md_cell(c, plain) for c in group)


def _tex_cell(c: Cell) -> str:
    t = tex_text(c.text) + (r"$^\dagger$" if c.unreliable else "")
    t += rf"$^{{\mathrm{{{c.mark}}}}}$" if c.mark else ""
    return rf"\textbf{{{t}}}" if c.rank == 1 else rf"\underline{{{t}}}" if c.rank == 2 else t


def _tex_group(group: tuple[Cell, ...]) -> str:
    return "--" if _missing(group) else "/".join(_tex_cell(c) for c in group)


def _mixed(rows: tuple[GridRow, ...]) -> bool:
    """Whether a section holds rows of several protocols (then each group has a header row)."""
    return len({r.group for r in rows}) > 1


def grid_markdown(grid: Grid, plain: bool = False) -> str:
    """The grid as a pipe table; ``plain``: no HTML (second best in italics, ``(ns)``)."""
    multi = len(grid.sections) > 1
    body = []
    for scale, rows in grid.sections:
        group, mixed = None, _mixed(rows)
        for i, r in enumerate(rows):
            lead = [f"×{scale}" if i == 0 else ""] if multi else []
            if mixed and r.group != group:
                width = len(lead) + len(r.prefix) + len(r.cells)
                body.append([*lead, f"_{markdown_escape(r.group)}_", *[""] * (width - len(lead) - 1)])
                lead, group = [""] * len(lead), r.group
            body.append([*lead, *map(markdown_escape, r.prefix), *(_md_group(g, plain) for g in r.cells)])
    headers = (["Scale"] if multi else []) + [markdown_escape(h) for h in (*grid.prefix, *grid.datasets)]
    n_lead = len(headers) - len(grid.datasets)
    text = tabulate(
        body,
        headers=headers,
        tablefmt="pipe",
        colalign=("left",) * n_lead + ("center",) * len(grid.datasets),
        disable_numparse=True,
    )
    notes = [f"Each cell: {' / '.join(grid.metric_labels)}"]
    if not multi and grid.sections:
        notes.append(f"scale ×{grid.sections[0][0]}")
    notes = [f"_{n}_" for n in (*notes, *grid.notes)] + [f"{DAGGER} {n}" for n in grid.footnotes]
    notes.append(md_legend(plain))
    return text + "\n\n" + "\n".join(notes) + "\n"


def _tex_rows(grid: Grid, width: int) -> list[str]:
    multi = len(grid.sections) > 1
    lines = []
    for scale, rows in grid.sections:
        lines.append(r"\midrule")
        group, mixed = None, _mixed(rows)
        for i, r in enumerate(rows):
            lead = [rf"$\times{scale}$" if i == 0 else ""] if multi else []
            if mixed and r.group != group:
                lines.append(rf"\multicolumn{{{width}}}{{l}}{{\emph{{{tex_text(r.group)}}}}} \\")
                group = r.group
            first = lead + [tex_text(p) if p != CHECK else r"\checkmark" for p in r.prefix]
            lines.append(" & ".join([*first, *(_tex_group(g) for g in r.cells)]) + r" \\")
    return lines


def grid_latex(grid: Grid, layout: str = "paper") -> str:
    """The grid as a booktabs ``tabular`` in a ``table`` environment (:mod:`srbench_eval.reports.latex`)."""
    multi = len(grid.sections) > 1
    lead = (["Scale"] if multi else []) + list(grid.prefix)
    width = len(lead) + len(grid.datasets)
    metric_header = tex_text(" / ".join(grid.metric_labels))
    lines = [
        r"\begin{tabular}{" + "l" * len(lead) + "c" * len(grid.datasets) + "}",
        r"\toprule",
        " & ".join([*(tex_text(h) for h in lead), *(tex_text(d) for d in grid.datasets)]) + r" \\",
        " & ".join([""] * len(lead) + [rf"\footnotesize {metric_header}"] * len(grid.datasets)) + r" \\",
        *_tex_rows(grid, width),
        r"\bottomrule",
        r"\end{tabular}",
    ]
    scales = [s for s, _ in grid.sections]
    notes = ([f"scale ×{scales[0]}"] if not multi and grid.sections else []) + list(grid.notes)
    notes = [tex_text(n) for n in notes] + [r"$^\dagger$ " + tex_text(n) for n in grid.footnotes]
    at = ", ".join(f"×{s}" for s in scales)
    caption = (
        f"{metric_header} on {tex_text(', '.join(grid.datasets))} at {tex_text(at)}. "
        r"Best in \textbf{bold}, second best \underline{underlined}."
    )
    checks = CHECK in "".join(p for _, rows in grid.sections for r in rows for p in r.prefix)
    return table_environment(lines, notes, caption, f"tab:srbench-{label_of(layout)}", checkmarks=checks)


__all__ = ["CHECK", "Grid", "GridRow", "grid_latex", "grid_markdown"]
