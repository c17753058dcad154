"""``srbench-eval run --scale 2,3,4``: one run folder holding several scales.

Each scale is a complete run of :func:`~srbench_eval.evaluation.run_evaluation` in ``OUT/x<scale>/``
(its own results, summary, tables and ``--save-sr`` images, each checkable on its own); ``OUT/``
holds the merged ``results.csv``, ``summary.json`` and tables, whose blocks (or, in the paper
layout, row groups) are the scales. The folder appears only when every scale has finished.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from srbench_eval.errors import SrbenchError
from srbench_eval.options import split_list
from srbench_eval.runs.results import (
    RESULTS_CSV,
    Summary,
    finished_run_dir,
    read_csv,
)


def parse_scales(text: str) -> tuple[int, ...]:
    """``"2,3,4"`` -> ``(2, 3, 4)``; one-line errors for anything else."""
    try:
        scales = tuple(int(s) for s in split_list(text))
    except ValueError:
        raise SrbenchError(f"--scale '{text}': expected an integer or a comma list such as 2,3,4") from None
    if not scales:
        raise SrbenchError(f"--scale '{text}': expected an integer or a comma list such as 2,3,4")
    if len(set(scales)) != len(scales):
        raise SrbenchError(f"--scale '{text}': a scale is listed twice")
    return scales


def merge_summaries(summaries: Sequence[Summary], scales: Sequence[int]) -> Summary:
    """One summary of the per-scale runs: every entry and statistic, the shared provenance with
    each scale's protocol and models under ``per_scale``."""
    first, last = summaries[0], summaries[-1]
    metrics: dict[str, Any] = {}
    for s in summaries:
        metrics.update(s.metrics)
    provenance = dict(last.provenance)
    provenance["started"] = first.provenance.get("started")
    provenance["models"] = {k: v for s in summaries for k, v in s.provenance.get("models", {}).items()}
    provenance["per_scale"] = {
        f"x{scale}": {"protocol": s.provenance.get("protocol"), "models": s.provenance.get("models")}
        for scale, s in zip(scales, summaries, strict=True)
    }
    if isinstance(provenance.get("protocol"), dict):
        provenance["protocol"] = {
            **provenance["protocol"],
            "scale": list(scales),
            "crop_border": [s.config.get("crop_border") for s in summaries],
        }
    config = {**first.config, "scale": list(scales)}
    statistics = dict(first.statistics)
    if statistics:
        statistics["entries"] = [e for s in summaries for e in s.statistics.get("entries", [])]
    entries = [e for s in summaries for e in s.entries]
    return Summary(entries, metrics, provenance, config, statistics)


def run_scales(config: Any, scales: Sequence[int], out: Path, progress: bool = True) -> Summary:
    """Evaluate ``config`` (a :class:`~srbench_eval.evaluation.RunConfig`) at every scale into ``out``."""
    from srbench_eval.evaluation import run_evaluation, write_run_files

    with finished_run_dir(out) as staging:
        summaries = [run_evaluation(replace(config, scale=s), staging / f"x{s}", progress) for s in scales]
        rows = [r for s in scales for r in read_csv(staging / f"x{s}" / RESULTS_CSV)]
        summary = merge_summaries(summaries, scales)
        summary.config["crop_border"] = config.crop_border  # None: each scale's own (crop = scale)
        write_run_files(staging, rows, summary)
    return summary
