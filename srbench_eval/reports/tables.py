"""Comparison tables in the layout of the SR papers (e.g. the Dual Perceptual loss paper).

One block per dataset (and scale), one row per metric with its direction (``PSNR ↑``, ``LPIPS ↓``),
one column per model. In every row the best value is bold and the second best underlined, compared
at display precision so that values printed equal are marked equal. PSNR has 2 decimals, SSIM and
LPIPS 4: the precision is the metric's own ``decimals``. A value the metric marked unreliable (FID
on fewer samples than feature dimensions) carries a dagger and a footnote. A column of a run whose
LR was not bicubic says its degradation (``bicubic (BD)``, ``RDN (DN)``, ``mine (LR given)``:
:func:`degradation_tag`); bicubic (BI) columns read as they always did. Markdown and LaTeX
(booktabs) come from the same list of rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tabulate import tabulate

from srbench_eval.reports.latex import table_environment, tex_text
from srbench_eval.reports.mergeable import check_mergeable, group_note
from srbench_eval.runs.results import Summary, SummaryEntry

DAGGER = "†"
_MARKS = ("", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹")  # columns of mixed runs: group 1, 2, ...


@dataclass(frozen=True)
class Cell:
    text: str
    rank: int  # 1 best, 2 second best, 0 otherwise
    unreliable: bool = False
    mark: str = ""  # superscript, e.g. "ns" (srbench_eval.reports.layouts.mark_not_significant)


@dataclass(frozen=True)
class Row:
    block: str  # dataset label, e.g. "Set5 ×4"
    metric_label: str  # e.g. "PSNR ↑"
    cells: tuple[Cell, ...]
    dataset: str = ""
    scale: int = 0
    metric: str = ""


@dataclass(frozen=True)
class Table:
    models: tuple[str, ...]
    rows: tuple[Row, ...]
    footnotes: tuple[str, ...]
    notes: tuple[str, ...]  # shown under the table: stand-in warnings, the scale
    protocols: tuple[str, ...] = ()  # mixed runs: the protocol of each group (mark ""/¹/²...), short


DEGRADATION_TAGS = {"bd": "BD", "dn": "DN", "given": "LR given"}
"""How a column names its run's ``--degradation`` (protocol ``lr_source``); ``bi`` has no tag."""


def degradation_tag(summary: Summary) -> str:
    """``" (BD)"``, ``" (DN)"`` or ``" (LR given)"`` for a run whose LR was not bicubic, else ``""``."""
    recorded = summary.provenance.get("protocol") or {}
    tag = DEGRADATION_TAGS.get(str(recorded.get("lr_source", "bi")))
    return f" ({tag})" if tag else ""


def column_model(column: str) -> str:
    """The model name of a table column: without its mixed-run mark and its degradation tag."""
    name = column.rstrip("".join(_MARKS))
    for tag in DEGRADATION_TAGS.values():
        name = name.removesuffix(f" ({tag})")
    return name


def group_of(model: str) -> int:
    """The protocol group of a column of mixed runs: 0, or the index of its trailing mark."""
    return _MARKS.index(model[-1]) if model and model[-1] in _MARKS[1:] else 0


def build_table(summaries: Sequence[Summary], allow_mixed: bool = False, order: Sequence[str] = ()) -> Table:
    """Merge the entries of one or more runs into table rows (later runs win on duplicates).

    Runs made under different protocols, crops, metric options or dataset pixels are refused
    (:func:`~srbench_eval.reports.mergeable.check_mergeable`); with ``allow_mixed`` each group's columns
    carry a mark and a footnote naming its protocol. A note names the protocol of the table.
    Models named in ``order`` come first, in that order, whichever run holds them; blocks are in
    increasing scale (x2, x3, x4), datasets in their first run's order within a scale."""
    groups = check_mergeable(summaries, allow_mixed)
    mixed = len(set(groups)) > 1
    entries: dict[tuple[str, str, int, str], SummaryEntry] = {}
    metric_info: dict[str, dict] = {}
    titles: dict[str, str] = {}
    warnings: list[str] = []
    protocol_notes: dict[int, str] = {}
    for s, group in zip(summaries, groups, strict=True):
        mark = _MARKS[group % len(_MARKS)] if mixed else ""
        protocol_notes.setdefault(group, f"{mark} {group_note(s)}".strip())
        metric_info.update(s.metrics)
        for name, info in s.provenance.get("datasets", {}).items():
            titles[name] = info.get("title", name)
        column = degradation_tag(s) + mark  # "bicubic (BD)¹"
        for e in s.entries:
            entries[(e.model + column, e.dataset, e.scale, e.metric)] = e
        tiling = _tiling_note(s)
        if tiling:
            warnings.append(tiling)
        stand_ins = s.provenance.get("stand_in_weights")
        if stand_ins:
            warnings.append(
                f"STAND-IN WEIGHTS ({', '.join(stand_ins)}): values are test artefacts, not results"
            )
    models = _ordered(k[0] for k in entries)
    position = {m: i for i, m in enumerate(order)}
    models.sort(key=lambda m: position.get(column_model(m), len(order)))
    blocks = sorted(_ordered((k[1], k[2]) for k in entries), key=lambda b: b[1])
    metrics = _ordered(k[3] for k in entries)
    scales = {b[1] for b in blocks}
    rows: list[Row] = []
    footnotes: list[str] = []
    for dataset, scale in blocks:
        label = titles.get(dataset, dataset) + (f" ×{scale}" if len(scales) > 1 else "")
        for metric in metrics:
            present = [entries.get((m, dataset, scale, metric)) for m in models]
            if all(e is None for e in present):
                continue
            info = metric_info.get(metric, {"label": metric, "higher_is_better": True, "decimals": 4})
            cells = _rank_row(present, info)
            for e in present:
                if e is not None and not e.reliable and e.note and e.note not in footnotes:
                    footnotes.append(e.note)
            arrow = "↑" if info["higher_is_better"] else "↓"
            rows.append(Row(label, f"{info['label']} {arrow}", cells, dataset, scale, metric))
    trained = training_note(summaries)
    if trained:
        warnings.append(trained)
    if len(scales) == 1 and blocks:
        warnings.insert(0, f"scale ×{blocks[0][1]}")
    warnings[1 if len(scales) == 1 and blocks else 0 : 0] = list(protocol_notes.values())
    protocols = tuple(protocol_notes[g].split(":")[0] for g in sorted(protocol_notes)) if mixed else ()
    return Table(tuple(models), tuple(rows), tuple(footnotes), tuple(_ordered(warnings)), protocols)


def training_note(summaries: Sequence[Summary]) -> str:
    """One note naming every checkpoint model that is not a finished paper-preset training (a smoke
    preset, or a run stopped early): its preset and iterations trained of planned, so a 40-iteration
    smoke model, a killed run and a shipped demo model are told apart in any table."""
    found: dict[str, str] = {}
    for s in summaries:
        for label, prov in s.provenance.get("models", {}).items():
            if not isinstance(prov, dict) or prov.get("kind") != "checkpoint":
                continue
            preset, step, planned = prov.get("preset"), prov.get("step"), prov.get("iterations")
            if preset == "paper" and (step is None or planned is None or step >= planned):
                continue
            what = f"{preset} preset, {step}/{planned} iterations"
            found[label] = what + (" (shipped demo model)" if prov.get("source") == "shipped zoo" else "")
    if not found:
        return ""
    listed = "; ".join(f"{label}: {what}" for label, what in found.items())
    return f"not the papers' models (preset, iterations trained/planned): {listed}"


def _tiling_note(summary: Summary) -> str:
    """The note of a run whose networks ran on tiles (``--tile``), which can change their numbers."""
    tile, overlap = summary.config.get("tile") or 0, summary.config.get("tile_overlap") or 0
    if not isinstance(tile, int) or tile <= 0:
        return ""
    return f"networks run on {tile}×{tile} input tiles, overlap {overlap} (--tile, --tile-overlap)"


def _ordered(items) -> list:
    return list(dict.fromkeys(items))


def _format(value: float, decimals: int) -> str:
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.{decimals}f}"


def _rank_row(present: list[SummaryEntry | None], info: dict) -> tuple[Cell, ...]:
    decimals = int(info["decimals"])
    shown = [None if e is None or math.isnan(e.value) else round(e.value, decimals) for e in present]
    distinct = sorted({v for v in shown if v is not None}, reverse=bool(info["higher_is_better"]))
    ranks = {v: i + 1 for i, v in enumerate(distinct[:2])} if len(distinct) > 1 else {}
    cells = []
    for e, v in zip(present, shown, strict=True):
        if e is None:
            cells.append(Cell("–", 0))
        else:
            cells.append(
                Cell(_format(e.value, decimals), ranks.get(v, 0) if v is not None else 0, not e.reliable)
            )
    return tuple(cells)


def markdown_escape(text: str) -> str:
    """A label as one Markdown table cell: ``|`` escaped (``\\|``), line breaks as spaces; a label
    (``--rename 'S=a|b'``) otherwise adds a column or ends the row."""
    return " ".join(str(text).replace("|", "\\|").splitlines()) if text else text


def md_cell(c: Cell, plain: bool = False) -> str:
    """A Markdown cell: best ``**bold**``, second best ``<ins>underlined</ins>`` (``_italic_`` and
    ``(ns)`` instead of HTML when ``plain``)."""
    if plain:
        t = c.text + (DAGGER if c.unreliable else "") + (f" ({c.mark})" if c.mark else "")
        return f"**{t}**" if c.rank == 1 else f"_{t}_" if c.rank == 2 else t
    t = c.text + (DAGGER if c.unreliable else "") + (f"<sup>{c.mark}</sup>" if c.mark else "")
    return f"**{t}**" if c.rank == 1 else f"<ins>{t}</ins>" if c.rank == 2 else t


def md_legend(plain: bool) -> str:
    return "Best in **bold**, second best " + ("_italic_." if plain else "<ins>underlined</ins>.")


def to_markdown(table: Table, plain: bool = False) -> str:
    """The table as a pipe table; ``plain``: no HTML (second best in italics)."""

    def md(c: Cell) -> str:
        return md_cell(c, plain)

    body, last = [], None
    for r in table.rows:
        block = markdown_escape(r.block) if r.block != last else ""
        body.append([block, markdown_escape(r.metric_label), *(md(c) for c in r.cells)])
        last = r.block
    text = tabulate(
        body,
        headers=["Dataset", "Metric", *map(markdown_escape, table.models)],
        tablefmt="pipe",
        colalign=("left", "left", *("right",) * len(table.models)),
        disable_numparse=True,
    )
    notes = [f"_{w}_" for w in table.notes] + [f"{DAGGER} {n}" for n in table.footnotes]
    notes.append(md_legend(plain))
    return text + "\n\n" + "\n".join(notes) + "\n"


def latex_escape(text: str) -> str:
    """``text`` as LaTeX pdflatex accepts (:func:`srbench_eval.reports.latex.tex_text`)."""
    return tex_text(text)


_latex_text = latex_escape


def caption(table: Table) -> str:
    """The LaTeX caption: the datasets, the metrics with their directions and the marks."""
    datasets = _ordered(r.block.split(" ×")[0] for r in table.rows)
    metrics = _ordered(r.metric_label for r in table.rows)
    return (
        f"{tex_text(', '.join(metrics))} on {tex_text(', '.join(datasets))}. "
        r"Best in \textbf{bold}, second best \underline{underlined}."
    )


def to_latex(table: Table) -> str:
    """The table as a booktabs ``tabular`` in a ``table`` environment, notes below it."""

    def tex(c: Cell) -> str:
        t = _latex_text(c.text) + (r"$^\dagger$" if c.unreliable else "")
        t += rf"$^{{\mathrm{{{c.mark}}}}}$" if c.mark else ""
        return rf"\textbf{{{t}}}" if c.rank == 1 else rf"\underline{{{t}}}" if c.rank == 2 else t

    lines = [
        r"\begin{tabular}{ll" + "c" * len(table.models) + "}",
        r"\toprule",
        " & ".join(["Dataset", "Metric", *(latex_escape(m) for m in table.models)]) + r" \\",
    ]
    last = None
    for r in table.rows:
        if r.block != last:
            lines.append(r"\midrule")
        first = _latex_text(r.block) if r.block != last else ""
        lines.append(" & ".join([first, _latex_text(r.metric_label), *(tex(c) for c in r.cells)]) + r" \\")
        last = r.block
    lines += [r"\bottomrule", r"\end{tabular}"]
    notes = [_latex_text(n) for n in table.notes] + [r"$^\dagger$ " + _latex_text(n) for n in table.footnotes]
    return table_environment(lines, notes, caption(table), "tab:srbench-results")
