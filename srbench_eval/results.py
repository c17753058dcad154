"""Run results on disk: ``results.csv`` (long form), ``summary.json`` (means + provenance).

``results.csv`` has one row per model x dataset x image x metric with the columns
``model,dataset,scale,image,metric,value``; set-level metrics (FID) have one row per model x dataset
with an empty ``image``. ``summary.json`` holds one :class:`SummaryEntry` per model x dataset x
metric (the mean of the per-image values, or the set-level value) and the run's provenance.

Everything is written atomically, and a run directory is only created complete (see
:func:`finished_run_dir`), so a failed run never leaves results that look complete.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from srbench_eval import __version__
from srbench_eval.data.images import write_bytes_atomic
from srbench_eval.errors import SrbenchError

CSV_COLUMNS = ("model", "dataset", "scale", "image", "metric", "value")
SUMMARY_FORMAT = 1


@dataclass(frozen=True)
class ImageValue:
    """One row of ``results.csv``."""

    model: str
    dataset: str
    scale: int
    image: str
    metric: str
    value: float


@dataclass(frozen=True)
class SummaryEntry:
    """A metric's value for one model on one dataset, as tables and regression checks use it."""

    model: str
    dataset: str
    scale: int
    metric: str
    value: float
    n_samples: int
    reliable: bool = True
    note: str = ""


@dataclass
class Summary:
    """The content of ``summary.json``."""

    entries: list[SummaryEntry]
    metrics: dict[str, dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    statistics: dict[str, Any] = field(default_factory=dict)  # see srbench_eval.stats.statistics_json

    def to_json(self) -> str:
        doc = {
            "format": SUMMARY_FORMAT,
            "config": self.config,
            "metrics": self.metrics,
            "results": [_entry_to_json(e) for e in self.entries],
            "provenance": self.provenance,
        }
        if self.statistics:
            doc["statistics"] = self.statistics
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "summary.json") -> Summary:
        try:
            doc = json.loads(text)
            entries = [_entry_from_json(e) for e in doc["results"]]
            return cls(
                entries,
                doc["metrics"],
                doc.get("provenance", {}),
                doc.get("config", {}),
                doc.get("statistics", {}),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise SrbenchError(f"{source}: not a srbench-eval summary ({e})") from None


def _entry_to_json(e: SummaryEntry) -> dict[str, Any]:
    d = asdict(e)
    # JSON has no inf/nan: PSNR of identical images is +inf.
    if not math.isfinite(e.value):
        d["value"] = str(e.value)
    return d


def _entry_from_json(d: dict[str, Any]) -> SummaryEntry:
    d = dict(d)
    d["value"] = float(d["value"])
    return SummaryEntry(**d)


def csv_text(rows: Sequence[ImageValue]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([r.model, r.dataset, r.scale, r.image, r.metric, repr(float(r.value))])
    return buf.getvalue()


def read_csv(path: Path) -> list[ImageValue]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise SrbenchError(f"{path}: expected columns {','.join(CSV_COLUMNS)}")
        return [
            ImageValue(r["model"], r["dataset"], int(r["scale"]), r["image"], r["metric"], float(r["value"]))
            for r in reader
        ]


def load_summary(run_dir: Path) -> Summary:
    """Read ``RUN_DIR/summary.json`` (or a summary/baseline file given directly)."""
    path = run_dir / "summary.json" if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise SrbenchError(f"{run_dir}: no summary.json (not a finished srbench-eval run directory)")
    return Summary.from_json(path.read_text(encoding="utf-8"), str(path))


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def finished_run_dir(out: Path) -> Iterator[Path]:
    """Yield a hidden staging folder beside ``out``; rename it to ``out`` only when the block succeeds.

    A run that fails or is interrupted leaves no ``out`` folder (the staging folder is removed), so
    nothing incomplete ever looks like a finished run.
    """
    if out.exists():
        raise SrbenchError(f"{out}: output folder already exists; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    try:
        yield staging
        os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_commit() -> str:
    """The commit of the srbench-eval checkout, with ``-dirty`` when it has local changes."""
    src = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=src,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def environment_provenance(device: str) -> dict[str, Any]:
    """Versions and machine facts that a published number must carry."""
    import numpy
    import torch

    info: dict[str, Any] = {
        "tool": "srbench-eval",
        "tool_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "device": device,
        "command": " ".join(["srbench-eval", *sys.argv[1:]]) if sys.argv else "",
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["device_name"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    return info
