"""A finished run as reports read it: ``summary.json``, ``results.csv`` and the ``--save-sr`` images.

Tables, statistics, figures and the HTML page are pure functions of these files, so a report can be
rebuilt anywhere a run folder is copied. A summary or baseline JSON file given alone is a run without
per-image values or images; whatever needs those says so instead of failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from srbench_eval.reports import statistics as stats
from srbench_eval.runs.results import ImageValue, Summary, load_summary, read_csv


@dataclass(frozen=True)
class FinishedRun:
    path: Path
    summary: Summary
    values: tuple[ImageValue, ...]  # results.csv; empty for a summary or baseline file

    @property
    def name(self) -> str:
        return self.path.name

    def sr_image(self, model: str, dataset: str, image: str, scale: int) -> Path | None:
        """The ``--save-sr`` image of ``model`` (``sr/`` or, in a multi-scale run, ``x<scale>/sr/``)."""
        if not self.path.is_dir():
            return None
        for root in (self.path / f"x{scale}" / "sr", self.path / "sr"):
            p = root / model / dataset / f"{image}.png"
            if p.is_file():
                return p
        return None

    def per_image(self) -> dict[str, bool]:
        return {name: bool(info.get("per_image", True)) for name, info in self.summary.metrics.items()}

    def descriptions(self) -> list[stats.Description]:
        """The run's statistics: from ``summary.json`` when it has them, else from ``results.csv``."""
        entries = self.summary.statistics.get("entries")
        if entries:
            return [stats.Description(**{k: _float(k, v) for k, v in e.items()}) for e in entries]
        return stats.describe(self.values, self.per_image())


def _float(key: str, v: object) -> object:
    return float(v) if isinstance(v, str) and key in ("mean", "std", "ci_low", "ci_high") else v


def load_run(path: Path) -> FinishedRun:
    """Read a run folder (or a summary/baseline JSON file); one-line errors for anything else."""
    path = Path(path)
    summary = load_summary(path)
    csv_path = path / "results.csv"
    values = tuple(read_csv(csv_path)) if path.is_dir() and csv_path.is_file() else ()
    return FinishedRun(path, summary, values)


def load_runs(paths: Sequence[Path]) -> list[FinishedRun]:
    return [load_run(p) for p in paths]


def all_values(runs: Sequence[FinishedRun]) -> list[ImageValue]:
    """The per-image rows of every run; a later run's rows replace an earlier run's for the same
    model x dataset x scale x metric (as in merged tables)."""
    merged: dict[tuple[str, str, int, str], list[ImageValue]] = {}
    for run in runs:
        fresh: dict[tuple[str, str, int, str], list[ImageValue]] = {}
        for v in run.values:
            fresh.setdefault((v.model, v.dataset, v.scale, v.metric), []).append(v)
        merged.update(fresh)
    return [v for rows in merged.values() for v in rows]


#: The files that make a folder a finished run (``summary.json``) or a study (``study.json``).
