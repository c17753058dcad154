"""A run's files: ``results.csv``, ``summary.json``, ``table.md``, ``table.tex`` (:func:`write_run_files`)
and, with ``--save-sr``, the SR images (:func:`save_sr_image`, ``OUT/sr/MODEL/DATASET/IMAGE.png``)."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from srbench_eval.compiled import is_tensor
from srbench_eval.data.degrade.bicubic import round_uint8
from srbench_eval.data.io.images import write_image
from srbench_eval.digests import sha256_text
from srbench_eval.files import write_text_atomic
from srbench_eval.reports.grid_text import grid_latex, grid_markdown
from srbench_eval.reports.layouts import paper_grid
from srbench_eval.reports.tables import build_table
from srbench_eval.runs.results import RESULTS_CSV, ImageValue, Summary, csv_text, inside

if TYPE_CHECKING:
    from srbench_eval.data.degrade.bicubic import Image


def default_out_dir(root: Path = Path("results/runs")) -> Path:
    return root / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def to_uint8_image(t: Image) -> np.ndarray:
    """The ``(H, W)`` or ``(H, W, 3)`` uint8 image of a ``(1, C, H, W)`` SR batch (rounded: a float SR,
    ``sr_quantisation=none``, is saved rounded)."""
    values = t[0].double().cpu().numpy() if is_tensor(t) else np.asarray(t[0], np.float64)
    arr = round_uint8(values).astype(np.uint8)
    return arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)


def save_sr_image(staging: Path, model: str, dataset: str, image: str, sr: Image) -> None:
    """``--save-sr``: the SR image as ``staging/sr/MODEL/DATASET/IMAGE.png``."""
    write_image(inside(staging, "sr", model, dataset, f"{image}.png"), to_uint8_image(sr))


def write_run_files(staging: Path, rows: list[ImageValue], summary: Summary) -> None:
    """A run's files in its staging folder: ``results.csv`` (its SHA-256 recorded in the summary's
    provenance, so ``table`` and ``check`` notice an edited copy), ``summary.json`` and the tables."""
    results_csv = csv_text(rows)
    summary.provenance["results_csv_sha256"] = sha256_text(results_csv)
    table = build_table([summary])
    grid = paper_grid(table, [summary])  # the SR papers' layout: methods in rows, datasets in columns
    write_text_atomic(inside(staging, RESULTS_CSV), results_csv)
    write_text_atomic(inside(staging, "summary.json"), summary.to_json())
    write_text_atomic(inside(staging, "table.md"), grid_markdown(grid))
    write_text_atomic(inside(staging, "table.tex"), grid_latex(grid))
