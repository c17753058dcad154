"""A paper's protocol quirks, measured: which evaluation convention a printed row is consistent with.

``srbench_eval/papers/<paper>_quirks.yaml`` (format ``srbench-eval-paper-quirks/1``) holds, for one
deterministic row of a paper's table (the DP paper's bicubic row), the row's values measured under a
set of candidate conventions (protocol profiles and single-field variants of the stated protocol),
written by ``benchmarks/dp_bicubic_quirks.py``. A candidate is *consistent* with a printed cell when
its mean rounds to the cell at the printed precision: ``round(x, decimals) == printed``.
:func:`footnote` turns that into the study table's footnote.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from srbench_eval.errors import SrbenchError
from srbench_eval.papers.loader import load
from srbench_eval.papers.records import Cell
from srbench_eval.protocol import resolve
from srbench_eval.yamlio import safe_load

FORMAT = "srbench-eval-paper-quirks/1"
QUIRKS_FILE = Path(str(importlib.resources.files("srbench_eval.papers").joinpath("dp_loss_quirks.yaml")))


@dataclass(frozen=True)
class Candidate:
    """One convention (a profile and its ``FIELD=VALUE`` settings) and the row's means under it,
    ``values[dataset][metric]``. ``channels``: ``y`` (the protocol's Y channel) or ``rgb``, a
    convention outside the protocol record: PSNR of one MSE over R, G and B, SSIM the mean of the
    three channels' (Wang et al.'s Gaussian window), grey images replicated to RGB."""

    protocol: str
    sets: tuple[str, ...]
    values: Mapping[str, Mapping[str, float]]
    channels: str = "y"

    @property
    def label(self) -> str:
        label = self.protocol + (f" ({', '.join(self.sets)})" if self.sets else "")
        return label + (" on RGB" if self.channels == "rgb" else "")


@dataclass(frozen=True)
class Quirks:
    """The measured candidates for ``paper``'s ``table``/``row``; ``stated``: the paper's own protocol
    (``protocol`` with ``stated_sets``), which is the first candidate."""

    paper: str
    table: str
    row: str
    protocol: str
    stated_sets: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    source: str = "benchmarks/dp_bicubic_quirks.py"


def consistent(quirks: Quirks, cell: Cell, dataset: str, metric: str) -> list[str]:
    """The labels of the candidates whose ``dataset``/``metric`` mean rounds to ``cell``."""
    return [
        c.label
        for c in quirks.candidates
        if dataset in c.values
        and round(c.values[dataset][metric], cell.decimals) == round(cell.value, cell.decimals)
    ]


def closest(quirks: Quirks, cell: Cell, dataset: str, metric: str) -> tuple[Candidate, float]:
    """The candidate nearest to the printed cell, and its difference (measured - printed)."""
    best = min(quirks.candidates, key=lambda c: abs(c.values[dataset][metric] - cell.value))
    return best, best.values[dataset][metric] - cell.value


def dump(quirks: Quirks) -> str:
    """The YAML text of ``quirks`` (values to 6 decimals: well below any printed precision)."""
    lines = [
        "# Measured by benchmarks/dp_bicubic_quirks.py (read by srbench_eval/papers/quirks.py): the bicubic",
        "# column's mean PSNR (dB, Y) and SSIM per dataset at x4 under each candidate convention.",
        f'format: "{FORMAT}"',
        f'paper: "{quirks.paper}"',
        f'table: "{quirks.table}"',
        f'row: "{quirks.row}"',
        f'protocol: "{quirks.protocol}"',
        f"stated_sets: [{', '.join(repr(s) for s in quirks.stated_sets)}]",
        f'source: "{quirks.source}"',
        "candidates:",
    ]
    for c in quirks.candidates:
        lines.append(f'  - protocol: "{c.protocol}"')
        lines.append(f"    sets: [{', '.join(repr(s) for s in c.sets)}]")
        lines.append(f'    channels: "{c.channels}"')
        lines.append("    values:")
        for dataset, metrics in c.values.items():
            cells = ", ".join(f"{m}: {v:.6f}" for m, v in metrics.items())
            lines.append(f"      {dataset}: {{{cells}}}")
    return "\n".join(lines) + "\n"


def _error(file: str, message: str) -> SrbenchError:
    return SrbenchError(f"{file}: {message}")


def parse_quirks(data: object, file: str) -> Quirks:
    """The quirks of a parsed YAML document, validated: the paper's table and row exist, every
    candidate is a valid protocol and has a number for every dataset and metric of the first."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _error(file, f"format: not {FORMAT}")
    paper = load(str(data.get("paper")))
    row = paper.table(str(data.get("table"))).row(str(data.get("row")))
    raw = data.get("candidates")
    if not isinstance(raw, list) or not raw:
        raise _error(file, "candidates: expected a list of measured conventions")
    out = []
    for i, c in enumerate(raw):
        if not isinstance(c, dict) or not isinstance(c.get("values"), dict):
            raise _error(file, f"candidates[{i}]: expected protocol, sets and values")
        sets = tuple(str(s) for s in c.get("sets") or ())
        try:
            resolve(str(c.get("protocol")), sets)
        except SrbenchError as e:
            raise _error(file, f"candidates[{i}]: {e}") from None
        values: dict[str, dict[str, float]] = {}
        for dataset, metrics in c["values"].items():
            if dataset not in row.cells or not isinstance(metrics, dict):
                raise _error(file, f"candidates[{i}].values: '{dataset}' is not a dataset of row {row.id}")
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in metrics.values()):
                raise _error(file, f"candidates[{i}].values.{dataset}: expected numbers")
            values[dataset] = {m: float(v) for m, v in metrics.items()}
        if out and {d: set(m) for d, m in values.items()} != {d: set(m) for d, m in out[0].values.items()}:
            raise _error(file, f"candidates[{i}]: measures other datasets or metrics than the first")
        channels = str(c.get("channels", "y"))
        if channels not in ("y", "rgb"):
            raise _error(file, f"candidates[{i}].channels: '{channels}' is not y or rgb")
        out.append(Candidate(str(c["protocol"]), sets, values, channels))
    return Quirks(
        paper.name,
        str(data["table"]),
        row.id,
        out[0].protocol,
        out[0].sets,
        tuple(out),
        str(data.get("source", "")),
    )


def load_quirks(path: Path = QUIRKS_FILE) -> Quirks:

    try:
        return parse_quirks(safe_load(path.read_text(encoding="utf-8")), path.name)
    except OSError as e:
        raise SrbenchError(f"{path}: cannot read the measured quirks ({e.strerror or e})") from None


def footnote(quirks: Quirks) -> list[str]:
    """The study table's footnote: per dataset, the printed cells, the stated protocol's values
    and which candidates (of how many) are consistent with each cell, or the closest one."""
    row = load(quirks.paper).table(quirks.table).row(quirks.row)
    stated = quirks.candidates[0]
    n = len(quirks.candidates)
    lines = [
        f"Protocol of the paper's {row.label} row ({quirks.table}), measured by {quirks.source} "
        f"over {n} conventions (the protocol profiles, single-field variants of the stated "
        f"{stated.label}, and PSNR/SSIM on RGB):"
    ]
    for dataset, metrics in stated.values.items():
        parts = []
        for metric in metrics:
            cell = row.cell(dataset, metric)
            found = consistent(quirks, cell, dataset, metric)
            x = stated.values[dataset][metric]
            text = f"{metric} printed {cell.text}, stated protocol {x:.{cell.decimals}f}"
            if found:
                text += f"; consistent with {', '.join(found)}"
            else:
                best, diff = closest(quirks, cell, dataset, metric)
                text += f"; consistent with none (closest {best.label}: {diff:+.{cell.decimals}f})"
            parts.append(text)
        lines.append(f"- {dataset}: " + "; ".join(parts))
    return lines
