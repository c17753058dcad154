"""``srbench-eval report``: one static, self-contained HTML page of finished runs.

The page (``OUT/index.html``) holds the ranked table (paper and blocks layouts), the statistics
(mean, standard deviation and 95% bootstrap interval per model x dataset x metric; paired
comparisons with a reference model), every figure of :mod:`srbench_eval.reports.figures` as an embedded PNG,
the per-image values (a pandas pivot), the provenance of every run, and an image viewer showing the
same region of HR and every model with synchronised zoom and pan. Images are ``data:`` URIs, CSS and
JavaScript are inline: no server, no CDN, the file can be mailed. The template is
``templates/report.html.j2`` (Jinja2, autoescaped).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.files import write_text_atomic
from srbench_eval.reports import figures
from srbench_eval.reports import statistics as stats
from srbench_eval.reports.layouts import TableOptions, paper_grid, parse_rename, ranked_table
from srbench_eval.reports.tables import Cell, Table
from srbench_eval.runs.finished import FinishedRun, all_values
from srbench_eval.runs.results import utc_now


@dataclass(frozen=True)
class ReportOptions:
    reference: str | None = None  # default: bicubic when present, else the first model
    alpha: float = 0.05
    crop: figures.Crop | None = None
    train_dirs: tuple[Path, ...] = ()
    title: str = "srbench-eval report"
    table: TableOptions = field(default_factory=TableOptions)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def image_uri(img: np.ndarray) -> str:
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:  # pragma: no cover - cv2 encodes any uint8 image
        raise SrbenchError("cannot encode an image for the report")
    return data_uri(buf.tobytes())


def _cell(c: Cell) -> dict[str, Any]:
    return {"text": c.text, "rank": c.rank, "dagger": c.unreliable, "mark": c.mark}


def _blocks(table: Table) -> list[dict[str, Any]]:
    rows, last = [], None
    for r in table.rows:
        rows.append(
            {
                "block": r.block if r.block != last else "",
                "metric": r.metric_label,
                "cells": [_cell(c) for c in r.cells],
            }
        )
        last = r.block
    return rows


def _num(v: float | None, decimals: int) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:.{decimals}f}"


def _dataset_namer(runs: Sequence[FinishedRun]):
    """``(dataset, scale) -> "Set5"`` (``"Set5 ×4"`` when the runs hold several scales): the datasets
    named as the results table names them."""
    titles: dict[str, str] = {}
    for r in runs:
        for name, d in r.summary.provenance.get("datasets", {}).items():
            titles[name] = d.get("title", name)
    scales = {e.scale for r in runs for e in r.summary.entries}

    def name(dataset: str, scale: int) -> str:
        return titles.get(dataset, dataset) + (f" ×{scale}" if len(scales) > 1 else "")

    return name


def _statistics(runs: Sequence[FinishedRun], info: dict[str, dict]) -> list[dict[str, Any]]:
    out = []
    named = _dataset_namer(runs)
    for run in runs:
        for d in run.descriptions():
            dec = int(info.get(d.metric, {}).get("decimals", 4))
            ci = "–" if d.ci_low is None else f"[{_num(d.ci_low, dec)}, {_num(d.ci_high, dec)}]"
            out.append(
                {
                    "model": d.model,
                    "dataset": named(d.dataset, d.scale),
                    "metric": info.get(d.metric, {}).get("label", d.metric),
                    "n": d.n,
                    "mean": _num(d.mean, dec),
                    "std": _num(d.std, dec + 1),
                    "ci": ci,
                    "note": d.note,
                }
            )
    return out


def _comparisons(
    values, reference: str, info: dict[str, dict], alpha: float, named=lambda d, s: f"{d} ×{s}"
) -> tuple[list[dict], list[str]]:
    per_image = {k: bool(v.get("per_image", True)) for k, v in info.items()}
    rows, notes = [], []
    for c in stats.paired(values, reference, per_image):
        label = info.get(c.metric, {}).get("label", c.metric)
        if c.note == stats.SET_LEVEL_NOTE:
            if f"{label}: {c.note}" not in notes:
                notes.append(f"{label}: {c.note}")
            continue
        dec = int(info.get(c.metric, {}).get("decimals", 4)) + 1
        rows.append(
            {
                "dataset": named(c.dataset, c.scale),
                "metric": label,
                "model": c.model,
                "n": c.n,
                "diff": _num(c.mean_diff, dec),
                "ci": "–" if c.ci_low is None else f"[{_num(c.ci_low, dec)}, {_num(c.ci_high, dec)}]",
                "p_w": "–" if c.p_wilcoxon is None else f"{c.p_wilcoxon:.3g}",
                "p_b": "–" if c.p_bootstrap is None else f"{c.p_bootstrap:.3g}",
                "significant": c.significant(alpha),
                "note": c.note,
            }
        )
    return rows, notes


def _per_image_html(values) -> str:
    """Per-image values, one row per dataset x image, one column per metric x model (pandas pivot)."""
    import pandas as pd

    rows = [v for v in values if v.image]
    if not rows:
        return ""
    frame = pd.DataFrame(
        [(v.dataset, v.scale, v.image, v.metric, v.model, v.value) for v in rows],
        columns=["dataset", "scale", "image", "metric", "model", "value"],
    )
    wide = frame.pivot_table(
        index=["dataset", "scale", "image"], columns=["metric", "model"], values="value", sort=False
    )
    return wide.to_html(float_format=lambda x: f"{x:.4f}", classes="values", border=0, na_rep="–")


MAX_VIEWER_IMAGES = 12
"""Images per dataset the viewer embeds (each one as a PNG per model): the first is the image whose
PSNR differs most across the models, the others follow in the dataset's order."""


def _viewer_image(runs: Sequence[FinishedRun], dataset: str, image: str | None, labels: list[str] | None):
    panels = figures.sr_panels(runs, dataset, image)
    if panels is None:
        return None
    h, w = panels.images[0].shape[:2]
    srcs = {lab: image_uri(img) for lab, img in zip(panels.labels, panels.images, strict=True)}
    order = labels if labels is not None else list(panels.labels)
    return {
        "name": panels.image,
        "scale": panels.scale,
        "width": w,
        "height": h,
        "note": panels.missing,
        "labels": order,
        "srcs": [srcs.get(lab, "") for lab in order],
    }


def _viewers(runs: Sequence[FinishedRun]) -> tuple[list[dict[str, Any]], str]:
    """One viewer per dataset with ``--save-sr`` images; a menu switches between its images."""
    values = all_values(runs)
    datasets = list(dict.fromkeys(v.dataset for v in values if v.image))
    viewers, missing = [], ""
    for dataset in datasets:
        first = _viewer_image(runs, dataset, None, None)
        if first is None:
            continue
        names = list(dict.fromkeys(v.image for v in values if v.dataset == dataset and v.image))
        others = [
            n
            for n in names
            if n != first["name"]
            and any(r.sr_image(m, dataset, n, first["scale"]) for r in runs for m in first["labels"])
        ]
        shown = [first] + [
            img
            for n in others[: MAX_VIEWER_IMAGES - 1]
            if (img := _viewer_image(runs, dataset, n, first["labels"])) is not None
        ]
        viewers.append(
            {
                "dataset": dataset,
                "first": first,
                "images": shown,
                "total": 1 + len(others),
                "panes": [
                    {"label": lab, "src": src}
                    for lab, src in zip(first["labels"], first["srcs"], strict=True)
                ],
            }
        )
    if not viewers:
        missing = "the runs kept no SR images (run with --save-sr): no image viewer and no crop grid"
    return viewers, missing


def _jinja_env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("srbench_eval", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(runs: Sequence[FinishedRun], options: ReportOptions) -> str:
    """The HTML page of ``runs`` (a pure function of what the runs wrote, plus the local HR images)."""
    table, summaries = ranked_table(runs, replace(options.table, reference=None))
    rename = parse_rename(options.table.rename)
    values = [replace(v, model=rename.get(v.model, v.model)) for v in all_values(runs)]
    models = list(table.models)
    reference = options.reference
    if reference is None and values:
        reference = "bicubic" if "bicubic" in models else models[0]
    elif reference is not None and reference not in models:
        raise unknown_name("reference model", reference, models)
    if values and reference is not None:  # the tables mark ns against the same reference
        marked = replace(options.table, reference=reference, alpha=options.alpha)
        table, summaries = ranked_table(runs, marked)
    grid = paper_grid(table, summaries)
    info: dict[str, dict] = {}
    for s in summaries:
        info.update(s.metrics)
    comparisons, set_level = (
        _comparisons(values, reference, info, options.alpha, _dataset_namer(runs))
        if values and reference
        else ([], [])
    )
    figs = figures.all_figures(runs, options.crop, options.train_dirs)
    viewers, viewer_missing = _viewers(runs)
    context = {
        "title": options.title,
        "generated": utc_now(),
        "runs": [
            {
                "name": r.name,
                "path": str(r.path),
                "config": json.dumps(r.summary.config, indent=2, ensure_ascii=False),
                "provenance": json.dumps(r.summary.provenance, indent=2, ensure_ascii=False),
                "bootstrap": r.summary.statistics.get("bootstrap") or stats.bootstrap_method(),
            }
            for r in runs
        ],
        "models": models,
        "blocks": _blocks(table),
        "notes": list(table.notes),
        "footnotes": list(table.footnotes),
        "grid": {
            "prefix": list(grid.prefix),
            "datasets": list(grid.datasets),
            "metrics": " / ".join(grid.metric_labels),
            "sections": [
                {
                    "scale": scale,
                    "rows": [
                        {"prefix": list(r.prefix), "cells": [[_cell(c) for c in g] for g in r.cells]}
                        for r in rows
                    ],
                }
                for scale, rows in grid.sections
            ],
        },
        "statistics": _statistics(runs, info),
        "reference": reference,
        "alpha": options.alpha,
        "comparisons": comparisons,
        "set_level": set_level,
        "no_values": ""
        if values
        else "the runs have no results.csv (per-image values): no statistics or tests",
        "figures": [
            {
                "name": f.name,
                "title": f.title,
                "src": data_uri(f.png_bytes()) if f.plot is not None else "",
                "missing": f.missing,
                "optional": f.optional,
            }
            for f in figs
        ],
        "per_image": _per_image_html(values),
        "viewers": viewers,
        "viewer_missing": viewer_missing,
    }
    return _jinja_env().get_template("report.html.j2").render(**context)


def write_report(runs: Sequence[FinishedRun], out: Path, options: ReportOptions) -> Path:
    """Write ``out/index.html`` atomically and return its path."""
    if out.exists() and not out.is_dir():
        raise SrbenchError(f"{out}: exists and is not a folder; choose another --out")
    page = out / "index.html"
    write_text_atomic(page, render_report(runs, options))
    page.chmod(0o644)  # a page to share (temporary files are created private)
    return page
