"""Regression checks: compare a run's summary with a committed baseline, metric by metric.

A baseline file (``results/baselines/NAME.json``) holds the run settings that produced it, the
per-metric absolute tolerances, and the expected set-level values. Any value that moved by more
than its tolerance, in either direction, is a failure (for a fixed model a PSNR that *rises* means
the protocol changed just as surely as one that falls), and so is any expected value the run lacks.
The default tolerance of a metric is its ``tolerance`` attribute, else ``10 ** -(decimals + 1)``:
one tenth of the last printed digit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import get_metric
from srbench_eval.reports.mergeable import conventions
from srbench_eval.runs.results import (
    Summary,
    SummaryEntry,
    _entry_to_json,
    entries_from_json,
    get_field,
    parse_json_object,
)

BASELINE_KIND = "srbench-eval baseline"


@dataclass(frozen=True)
class Baseline:
    run: dict[str, Any]
    tolerances: dict[str, float]
    entries: list[SummaryEntry]
    provenance: dict[str, Any]
    source: str = field(default="", compare=False)  # the file it was read from, for error messages

    def run_settings(self) -> dict[str, Any]:
        """The ``run`` settings a fresh run repeats, each field checked (one-line error naming it)."""
        run, source = self.run, self.source or "baseline"
        out: dict[str, Any] = {}
        for key in ("models", "datasets", "metrics"):
            items = get_field(run, key, "list", source, "run")
            if not items or not all(isinstance(v, str) for v in items):
                raise SrbenchError(f"{source}: field 'run.{key}' should be a non-empty list of names")
            out[key] = tuple(items)
        scale = get_field(run, "scale", "number|list", source, "run")  # a list: a multi-scale run
        scales = scale if isinstance(scale, list) else [scale]
        if not scales or not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in scales):
            raise SrbenchError(f"{source}: field 'run.scale' should be a number or a list of numbers")
        out["scales"] = tuple(scales)
        out["crop_border"] = get_field(run, "crop_border", "integer|null", source, "run", default=None)
        out["checkpoints"] = get_field(run, "checkpoints", "text|null", source, "run", default=None)
        out["protocol"] = get_field(run, "protocol", "text", source, "run", default="matlab")
        for key in ("weights", "metric_options", "protocol_set"):
            items = get_field(run, key, "list", source, "run", default=[])
            if not all(isinstance(v, str) for v in items):
                raise SrbenchError(f"{source}: field 'run.{key}' should be a list of text")
            out[key] = tuple(items)
        return out

    def to_json(self) -> str:
        doc = {
            "kind": BASELINE_KIND,
            "format": 1,
            "run": self.run,
            "tolerances": self.tolerances,
            "results": [_entry_to_json(e) for e in self.entries],
            "provenance": self.provenance,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Comparison:
    key: tuple[str, str, int, str]  # model, dataset, scale, metric
    expected: float
    actual: float | None
    tolerance: float

    @property
    def diff(self) -> float | None:
        if self.actual is None:
            return None
        if math.isinf(self.expected) and self.actual == self.expected:
            return 0.0
        return self.actual - self.expected

    @property
    def status(self) -> str:
        if self.actual is None or math.isnan(self.actual):
            return "MISSING"
        d = self.diff
        return "ok" if d is not None and abs(d) <= self.tolerance else "CHANGED"


def default_tolerance(metric: str) -> float:
    cls = get_metric(metric)
    return float(getattr(cls, "tolerance", 10.0 ** -(cls.decimals + 1)))


def baseline_from_summary(summary: Summary) -> Baseline:
    metrics = sorted({e.metric for e in summary.entries})
    return Baseline(
        summary.config,
        {m: default_tolerance(m) for m in metrics},
        list(summary.entries),
        {k: v for k, v in summary.provenance.items() if k not in ("command", "results_csv_sha256")},
    )


def check_baseline_target(path: Path, run_dir: Path) -> None:
    """Refuse to write a baseline (``check --update``) over a file of the run it is made from, or over
    an existing file that is not a baseline (a run's or a study's ``summary.json``, say)."""
    base = (run_dir if run_dir.is_dir() else run_dir.parent).resolve()
    if base == path.resolve().parent or base in path.resolve().parents:
        raise SrbenchError(f"--baseline {path}: is inside the run {run_dir}; write the baseline elsewhere")
    if path.is_dir():
        raise SrbenchError(f"--baseline {path}: is a folder; give a file name, e.g. {path / 'base.json'}")
    if path.exists():
        try:
            kind = json.loads(path.read_text(encoding="utf-8")).get("kind")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            kind = None
        if kind != BASELINE_KIND:
            raise SrbenchError(
                f"--baseline {path}: exists and is not a srbench-eval baseline; refusing to overwrite it"
            )


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file; a missing or mistyped field, or one without any value to check, is a
    one-line error naming the file and the field."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SrbenchError(f"{path}: baseline file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SrbenchError(f"{path}: cannot read the baseline ({e})") from None
    doc = parse_json_object(text, source, "a srbench-eval baseline")
    if doc.get("kind") != BASELINE_KIND:
        raise SrbenchError(f"{path}: not a srbench-eval baseline (field 'kind' is not '{BASELINE_KIND}')")
    run = get_field(doc, "run", "object", source)
    tolerances = get_field(doc, "tolerances", "object", source)
    for metric in tolerances:
        get_field(tolerances, metric, "number", source, "tolerances")
    entries = entries_from_json(get_field(doc, "results", "list", source), source)
    if not entries:
        raise SrbenchError(
            f"{path}: field 'results' is empty: the baseline checks nothing; write it from a run with "
            f"'srbench-eval check --baseline {path} --update RUN_DIR'"
        )
    return Baseline(
        run,
        {k: float(v) for k, v in tolerances.items()},
        entries,
        get_field(doc, "provenance", "object", source, default={}),
        source,
    )


def same_protocol(baseline: Baseline, summary: Summary) -> None:
    """Refuse a run made under another protocol than the baseline (a protocol field or the crop
    differs), naming the field, as ``table`` refuses to merge such runs
    (:func:`srbench_eval.reports.mergeable.conventions`): its numbers are not comparable, whether
    they happen to match or not. A baseline from before protocols had names recorded the default's."""
    base = conventions(Summary([], {}, baseline.provenance, baseline.run)).values
    run = conventions(summary).values
    for key, expected in base.items():
        if (key.startswith("protocol ") or key == "crop_border") and key in run and run[key] != expected:
            raise SrbenchError(
                f"{baseline.source or 'baseline'}: made with {key} {expected}, the run with {run[key]}: "
                "its numbers are not comparable; check a run made under the baseline's protocol"
            )


def compare(baseline: Baseline, summary: Summary) -> list[Comparison]:
    """Every value of the baseline against the run's (after :func:`same_protocol`)."""
    same_protocol(baseline, summary)
    actual = {(e.model, e.dataset, e.scale, e.metric): e.value for e in summary.entries}
    return [
        Comparison(
            (e.model, e.dataset, e.scale, e.metric),
            e.value,
            actual.get((e.model, e.dataset, e.scale, e.metric)),
            baseline.tolerances.get(e.metric, default_tolerance(e.metric)),
        )
        for e in baseline.entries
    ]


def format_comparisons(comparisons: list[Comparison]) -> str:
    rows = [
        [
            *c.key[:2],
            f"×{c.key[2]}",
            c.key[3],
            f"{c.expected:.6f}",
            "–" if c.actual is None else f"{c.actual:.6f}",
            "–" if c.diff is None else f"{c.diff:+.2e}",
            f"{c.tolerance:.0e}",
            c.status,
        ]
        for c in comparisons
    ]
    return tabulate(
        rows,
        headers=["model", "dataset", "scale", "metric", "baseline", "run", "diff", "tol", "status"],
        tablefmt="simple",
        disable_numparse=True,
    )
