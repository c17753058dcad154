"""The training log of a run folder: ``log.jsonl``, ``train.csv``, ``val.csv`` and TensorBoard.

``log.jsonl`` holds one JSON object per line: ``{"kind": "train", "step": ..., "lr": ..., "loss":
..., <each term>: ..., <each part>: ..., "d_loss": ..., "it_per_s": ...}`` (the terms unweighted,
averaged over the logging interval; parts such as ``dp.l_vgg``, ``dp.l_res``, ``dp.zeta`` and
``dp.res_weight`` show the dual perceptual weighting), ``{"kind": "val", "step": ..., "psnr": ...,
"ssim": ..., "bicubic_psnr": ...}`` and ``{"kind": "event", ...}`` records (start, resume, end).
The two CSV files repeat the train and val rows with the columns of their first row. When
TensorBoard is installed, the same scalars go to ``tb/`` as well.

A resumed run first drops every record after the step it resumes from, so the log of an
interrupted-and-resumed run reads like that of an uninterrupted one.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from srbench_eval.errors import SrbenchError, os_error
from srbench_eval.files import write_bytes_atomic


def _number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


class TrainLog:
    """Append-only writer of a run's logs (only rank 0 makes one)."""

    def __init__(self, run_dir: Path, resume_step: int | None = None, tensorboard: bool = True) -> None:
        self.dir = run_dir
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _log_error(run_dir, e) from None
        self.jsonl = run_dir / "log.jsonl"
        self.csv = {"train": run_dir / "train.csv", "val": run_dir / "val.csv"}
        self.columns: dict[str, list[str]] = {}
        if resume_step is None:
            for p in (self.jsonl, *self.csv.values()):
                p.unlink(missing_ok=True)
        else:
            self._truncate(resume_step)
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional
                pass
            else:
                self.tb = SummaryWriter(str(run_dir / "tb"), purge_step=resume_step)

    def _truncate(self, step: int) -> None:
        """Keep only the records up to ``step`` (the checkpoint being resumed)."""
        if self.jsonl.is_file():
            keep = [
                line
                for line in self.jsonl.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= step
            ]
            _rewrite(self.jsonl, ("\n".join(keep) + "\n" if keep else "").encode())
        for kind, path in self.csv.items():
            if not path.is_file():
                continue
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                columns = list(reader.fieldnames or [])
                rows = [r for r in reader if int(r["step"]) <= step]
            self.columns[kind] = columns
            buf = io.StringIO()
            w = csv.DictWriter(buf, columns, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
            _rewrite(path, buf.getvalue().encode())

    def write(self, kind: str, step: int, values: dict[str, Any]) -> None:
        """One record of ``kind`` (``train``, ``val`` or ``event``) at ``step``."""
        record = {"kind": kind, "step": step, **{k: _number(v) for k, v in values.items()}}
        _append(self.jsonl, json.dumps(record) + "\n")
        if kind in self.csv:
            path = self.csv[kind]
            row = {"step": step, **values}
            if kind not in self.columns:
                self.columns[kind] = list(row)
            buf = io.StringIO()
            w = csv.DictWriter(buf, self.columns[kind], extrasaction="ignore", lineterminator="\n")
            if not path.is_file() or path.stat().st_size == 0:
                w.writeheader()
            w.writerow(row)
            _append(path, buf.getvalue())
        if self.tb is not None and kind in self.csv:
            for k, v in values.items():
                if isinstance(v, int | float):
                    self.tb.add_scalar(f"{kind}/{k}", v, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def _append(path: Path, text: str) -> None:
    try:
        with open(path, "a", newline="") as f:
            f.write(text)
    except OSError as e:
        raise _log_error(path, e) from None


def _rewrite(path: Path, data: bytes) -> None:
    """Replace a log file atomically, with the permissions the umask gives (as when appended to)."""
    try:
        write_bytes_atomic(path, data)
    except OSError as e:
        raise _log_error(path, e) from None


def _log_error(path: Path | str, e: OSError) -> SrbenchError:
    return os_error(path, e, "write the training log")


def read_log(run_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The records of ``run_dir/log.jsonl`` (only those of ``kind`` when given)."""
    path = run_dir / "log.jsonl"
    if not path.is_file():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if kind is None or r["kind"] == kind]
