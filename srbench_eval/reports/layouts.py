"""Table layouts of ``srbench-eval table --layout``: one ranked :class:`~srbench_eval.reports.tables.Table`,
arranged four ways.

* ``blocks`` (default): one block per dataset, one row per metric, one column per model
  (:func:`srbench_eval.reports.tables.to_markdown`);
* ``paper``: one row per model, one column per dataset, each cell the chosen metrics
  ``PSNR/SSIM/LPIPS``; rows grouped by scale when the runs hold several (DP-loss paper, Tables 1-2);
* ``sweep``: the rows are named by the values of the recipe overrides that distinguish the models
  (``dp.mu = 0.2 ... 20``), sorted by those values;
* ``ablation``: one check-mark column per loss term of the models' recipes (DP-loss paper, Table 6).

The ranks (best bold, second best underlined, compared at display precision), the daggers and the
notes all come from :func:`~srbench_eval.reports.tables.build_table`, so every layout marks the same cells.
:func:`select` renames, orders and filters before the table is built; :func:`mark_not_significant`
adds an ``ns`` mark to the cells whose paired difference from a reference model is not significant.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.registry import Registry
from srbench_eval.reports.grid_text import CHECK, Grid, GridRow, grid_latex, grid_markdown
from srbench_eval.reports.statistics import Comparison
from srbench_eval.reports.tables import Cell, Table, column_model, group_of, to_latex, to_markdown
from srbench_eval.runs.results import Summary

NOT_SIGNIFICANT = "ns"


def parse_rename(items: Sequence[str]) -> dict[str, str]:
    """``("rrdb (smoke)=RRDB",)`` -> ``{"rrdb (smoke)": "RRDB"}``."""
    out: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise SrbenchError(f"--rename '{item}': expected OLD=NEW, e.g. --rename 'rrdb (smoke)=RRDB'")
        out[old.strip()] = new.strip()
    return out


def select(
    summaries: Sequence[Summary],
    rename: dict[str, str] | None = None,
    order: Sequence[str] = (),
    metrics: Sequence[str] = (),
) -> list[Summary]:
    """The summaries with models renamed, models put in ``order`` (the others follow in their order)
    and only ``metrics`` kept; unknown names are one-line errors with a suggestion."""
    rename = rename or {}
    models = list(dict.fromkeys(e.model for s in summaries for e in s.entries))
    for old in rename:
        if old not in models:
            raise unknown_name("model in --rename", old, models)
    names = [rename.get(m, m) for m in models]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise SrbenchError(f"--rename: two models would both be called '{twice}'")
    for m in order:
        if m not in names:
            raise unknown_name("model in --order", m, names)
    known_metrics = list(dict.fromkeys(e.metric for s in summaries for e in s.entries))
    for m in metrics:
        if m not in known_metrics:
            raise unknown_name("metric in --metrics", m, known_metrics)
    rank = {m: i for i, m in enumerate([*order, *(n for n in names if n not in order)])}
    out = []
    for s in summaries:
        entries = [replace(e, model=rename.get(e.model, e.model)) for e in s.entries]
        entries = [e for e in entries if not metrics or e.metric in metrics]
        entries.sort(key=lambda e: rank[e.model])
        prov = dict(s.provenance)
        if "models" in prov:
            prov["models"] = {rename.get(k, k): v for k, v in prov["models"].items()}
        info = {k: v for k, v in s.metrics.items() if not metrics or k in metrics}
        out.append(replace(s, entries=entries, metrics=info, provenance=prov))
    if metrics:  # metric rows in the order given
        pos = {m: i for i, m in enumerate(metrics)}
        for s in out:
            s.entries.sort(key=lambda e: (rank[e.model], pos[e.metric]))
    return out


def mark_not_significant(table: Table, comparisons: Sequence[Comparison], alpha: float) -> Table:
    """Mark ``ns`` on every cell whose paired difference from the comparisons' reference is not
    significant at ``alpha`` (both tests; :meth:`~srbench_eval.reports.statistics.Comparison.significant`).
    A column is found by its model name (a BD run's ``srcnn (BD)`` is model ``srcnn``)."""
    verdict = {(c.model, c.dataset, c.scale, c.metric): c for c in comparisons}
    rows = []
    for row in table.rows:
        cells = []
        for model, cell in zip(table.models, row.cells, strict=True):
            c = verdict.get((column_model(model), row.dataset, row.scale, row.metric))
            ns = c is not None and c.p_wilcoxon is not None and not c.significant(alpha)
            cells.append(replace(cell, mark=NOT_SIGNIFICANT) if ns else cell)
        rows.append(replace(row, cells=tuple(cells)))
    reference = comparisons[0].reference if comparisons else ""
    note = (
        f"{NOT_SIGNIFICANT}: not significantly different from {reference} at α = {alpha:g} "
        "(Wilcoxon signed-rank and paired bootstrap over images)"
    )
    return replace(table, rows=tuple(rows), notes=(*table.notes, note) if comparisons else table.notes)


PUBLISHED_ARROW = "→"


def mark_published(table: Table, summaries: Sequence[Summary]) -> Table:
    """``table --published``: every cell of a published model (``NAME@pub``) whose paper printed a
    number for that dataset, scale and metric becomes ``published → measured`` (``32.75 → 32.749``:
    the paper's digits, then ours with one more), ranks unchanged. A note names the protocol of
    each such model's paper when the runs used another one (then the cells compare conventions,
    not networks)."""
    from srbench_eval.models.published import build as published

    runs_protocol = {str((s.config or {}).get("protocol") or "matlab") for s in summaries}
    decimals = {k: v.get("decimals", 4) for s in summaries for k, v in s.metrics.items()}
    rows, notes = [], []
    for row in table.rows:
        cells = []
        for model, cell in zip(table.models, row.cells, strict=True):
            ref = published.paper_score(model, row.dataset, row.scale)
            paper = None if ref is None else {"psnr": ref.psnr, "ssim": ref.ssim}.get(row.metric)
            if ref is None or paper is None or cell.text == "–":
                cells.append(cell)
                continue
            digits = int(decimals.get(row.metric, 4))
            measured = _measured(summaries, model, row)
            text = f"{paper:.{digits}f} {PUBLISHED_ARROW} {measured:.{digits + 1}f}"
            cells.append(replace(cell, text=text))
            whose = f"{row.dataset} x{row.scale} as printed by {ref.by}" if ref.by else "its paper"
            if runs_protocol != {ref.protocol}:
                used = ", ".join(sorted(runs_protocol))
                notes.append(f"{model}: {whose} used protocol {ref.protocol}; these runs: {used}")
            elif ref.by:
                notes.append(f"{model}: {row.dataset} x{row.scale} is the number printed by {ref.by}")
        rows.append(replace(row, cells=tuple(cells)))
    note = f"published {PUBLISHED_ARROW} measured: the paper's number, then this run's (NAME@pub models)"
    return replace(table, rows=tuple(rows), notes=(*table.notes, note, *dict.fromkeys(notes)))


def _measured(summaries: Sequence[Summary], model: str, row: Any) -> float:
    """The value of ``model`` in ``row`` (later runs win, as in the table)."""
    for s in reversed(summaries):
        for e in s.entries:
            if (e.model, e.dataset, e.scale, e.metric) == (model, row.dataset, row.scale, row.metric):
                return e.value
    raise KeyError(model)  # pragma: no cover - the table was built from these entries


# ----------------------------------------------------------------------------- models as rows


def _recipe(summaries: Sequence[Summary], model: str) -> dict[str, Any] | None:
    for s in reversed(summaries):
        prov = s.provenance.get("models", {}).get(model)
        if isinstance(prov, dict) and isinstance(prov.get("recipe"), dict):
            return prov["recipe"]
    return None


_LABEL_OVERRIDES = re.compile(r"^(?P<name>[^\[]+)\[(?P<overrides>[^\]]*)\]")


def overrides_of(summaries: Sequence[Summary], model: str) -> tuple[str, dict[str, str]]:
    """``(recipe name, {key: value})`` of the overrides a model was trained with: from the recipe in
    its provenance, else parsed from a label like ``esrgan-dp[dp.mu=1]``; keys lose ``loss.``."""
    recipe = _recipe(summaries, model)
    items: list[str] = []
    name = model
    if recipe is not None:
        items = list(recipe.get("overrides", []))
        name = recipe.get("name", model)
    else:
        m = _LABEL_OVERRIDES.match(model)
        if m:
            name, items = m["name"], [o for o in m["overrides"].split(",") if "=" in o]
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key.removeprefix("loss.")] = value.replace("/", ",")
    return name, out


def _recipe_value(recipe: dict[str, Any] | None, key: str) -> str | None:
    node: Any = recipe
    for part in ("loss." + key if recipe and key.split(".")[0] in recipe.get("loss", {}) else key).split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if isinstance(node, dict | list) else f"{node:g}" if isinstance(node, float) else str(node)


def _sort_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, math.inf, value)


def _grid(table: Table, summaries: Sequence[Summary], prefix_of, prefix: tuple[str, ...], sort=None) -> Grid:
    titles: dict[str, str] = {}
    for s in summaries:
        for name, info in s.provenance.get("datasets", {}).items():
            titles[name] = info.get("title", name)
    datasets = list(dict.fromkeys(r.dataset for r in table.rows))
    metrics = list(dict.fromkeys(r.metric for r in table.rows))
    labels = {r.metric: r.metric_label for r in table.rows}
    scales = list(dict.fromkeys(r.scale for r in table.rows))
    by_key = {(r.dataset, r.scale, r.metric): r for r in table.rows}
    missing = Cell("–", 0)
    sections = []
    for scale in scales:
        rows = []
        for i, model in enumerate(table.models):
            cells = []
            for d in datasets:
                group = []
                for m in metrics:
                    row = by_key.get((d, scale, m))
                    group.append(row.cells[i] if row is not None else missing)
                cells.append(tuple(group))
            if all(c.text == "–" for g in cells for c in g):
                continue
            group = table.protocols[group_of(model)] if table.protocols else ""
            rows.append(GridRow(prefix_of(model), tuple(cells), model, group))
        if sort is not None:
            rows.sort(key=sort)
        if table.protocols:  # mixed runs: one group of rows per protocol, under its header
            rows.sort(key=lambda r: group_of(r.model))
        sections.append((scale, tuple(rows)))
    return Grid(
        prefix,
        tuple(titles.get(d, d) for d in datasets),
        tuple(labels[m] for m in metrics),
        tuple(sections),
        tuple(n for n in table.notes if not (len(scales) == 1 and n == f"scale ×{scales[0]}")),
        table.footnotes,
    )


def paper_grid(table: Table, summaries: Sequence[Summary]) -> Grid:
    return _grid(table, summaries, lambda m: (m,), ("Method",))


def sweep_grid(table: Table, summaries: Sequence[Summary]) -> Grid:
    found = {m: overrides_of(summaries, m) for m in table.models}
    keys = list(dict.fromkeys(k for _, ov in found.values() for k in ov))
    varying = [k for k in keys if len({ov.get(k) for _, ov in found.values()}) > 1] or keys
    if not varying:
        raise SrbenchError(
            "--layout sweep: no model of these runs was trained with recipe overrides "
            "(checkpoints of `srbench-eval train --set KEY=VALUE` record them); use --layout paper"
        )
    bases = {re.sub(r"\[[^\]]*\]", "", m) for m in table.models}

    def prefix_of(model: str) -> tuple[str, ...]:
        _, ov = found[model]
        recipe = _recipe(summaries, model)
        values = tuple(ov.get(k) or _recipe_value(recipe, k) or "–" for k in varying)
        # the model's own name without the bracketed overrides the other columns show
        return (re.sub(r"\[[^\]]*\]", "", model),) + values if len(bases) > 1 else values

    def sort(row: GridRow) -> tuple:
        has = bool(found[row.model][1])
        return (has, *(_sort_key(v) for v in row.prefix[-len(varying) :]))

    prefix = (("Method",) if len(bases) > 1 else ()) + tuple(varying)
    return _grid(table, summaries, prefix_of, prefix, sort)


def ablation_grid(table: Table, summaries: Sequence[Summary]) -> Grid:
    recipes = {m: _recipe(summaries, m) for m in table.models}
    terms = list(dict.fromkeys(t for r in recipes.values() if r for t in r.get("loss", {})))
    if not terms:
        raise SrbenchError(
            "--layout ablation: no model of these runs records a recipe with loss terms "
            "(checkpoints of `srbench-eval train` do); use --layout paper"
        )

    def prefix_of(model: str) -> tuple[str, ...]:
        recipe = recipes[model]
        if recipe is None:
            return (model, *("–" for _ in terms))
        loss = recipe.get("loss", {})
        on = [t in loss and float(loss[t].get("weight", 1.0)) != 0.0 for t in terms]
        return (model, *(CHECK if x else "" for x in on))

    return _grid(table, summaries, prefix_of, ("Method", *terms))


GRIDS = {"paper": paper_grid, "sweep": sweep_grid, "ablation": ablation_grid}


LAYOUTS: Registry[Callable[[Table, Sequence[Summary], str], str]] = Registry("layout")
"""Table layouts by name: ``(table, summaries, fmt) -> text``."""


@LAYOUTS.register("blocks")
def _blocks(table: Table, summaries: Sequence[Summary], fmt: str) -> str:
    return to_latex(table) if fmt == "latex" else to_markdown(table, plain=fmt == "md-plain")


def _grid_text(grid: Grid, fmt: str, layout: str) -> str:
    return grid_latex(grid, layout) if fmt == "latex" else grid_markdown(grid, plain=fmt == "md-plain")


for _name, _make in GRIDS.items():
    LAYOUTS.add(_name, lambda t, s, f, g=_make, n=_name: _grid_text(g(t, s), f, n))


def render(table: Table, summaries: Sequence[Summary], layout: str, fmt: str) -> str:
    """The table in ``layout`` (:data:`LAYOUTS`) as Markdown (``md``; ``md-plain`` without HTML) or
    LaTeX (``latex``, a ``table`` environment)."""
    return LAYOUTS.get(layout)(table, summaries, fmt)


@dataclass(frozen=True)
class TableOptions:
    """What ``srbench-eval table`` (and the HTML report) asks of a table."""

    layout: str = "blocks"
    fmt: str = "md"  # md | latex
    rename: tuple[str, ...] = ()  # OLD=NEW
    order: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    reference: str | None = None  # mark cells not significantly different from this model
    alpha: float = 0.05
    allow_mixed: bool = False  # merge runs of different protocols (columns marked, one footnote each)
    published: bool = False  # NAME@pub cells: the paper's number beside ours (mark_published)
    markdown: str = "html"  # html: <ins>/<sup> marks; plain: no HTML (second best in italics)


def ranked_table(runs: Sequence[Any], options: TableOptions) -> tuple[Table, list[Summary]]:
    """The ranked table of finished runs (:class:`~srbench_eval.runs.finished.FinishedRun`) after renaming,
    ordering and filtering, with ``ns`` marks when ``options.reference`` is set."""
    from srbench_eval.reports import statistics as stats
    from srbench_eval.reports.tables import build_table
    from srbench_eval.runs.finished import all_values

    LAYOUTS.get(options.layout)  # an unknown layout fails before the runs are read
    if not 0 < options.alpha < 1:
        raise SrbenchError(f"--alpha {options.alpha}: must be between 0 and 1")
    rename = parse_rename(options.rename)
    summaries = select([r.summary for r in runs], rename, options.order, options.metrics)
    table = build_table(summaries, allow_mixed=options.allow_mixed, order=options.order)
    if options.reference is not None:
        values = [replace(v, model=rename.get(v.model, v.model)) for v in all_values(runs)]
        if not values:
            raise SrbenchError("--reference needs run folders with results.csv (per-image values)")
        reference = column_model(options.reference)
        if reference not in {column_model(m) for m in table.models}:
            raise unknown_name("reference model", options.reference, table.models)
        per_image = {k: bool(v.get("per_image", True)) for s in summaries for k, v in s.metrics.items()}
        table = mark_not_significant(table, stats.paired(values, reference, per_image), options.alpha)
    if options.published:
        table = mark_published(table, summaries)
    return table, summaries


def table_text(runs: Sequence[Any], options: TableOptions) -> str:
    if options.markdown not in ("html", "plain"):
        raise SrbenchError(f"--markdown {options.markdown}: use html or plain")
    table, summaries = ranked_table(runs, options)
    fmt = "md-plain" if options.fmt == "md" and options.markdown == "plain" else options.fmt
    return render(table, summaries, options.layout, fmt)
