"""``srbench-eval run --scale 2,3,4`` (or ``1.1:4.0:0.1``): one run folder holding several scales.

Each scale is a complete run of :func:`~srbench_eval.evaluation.run_evaluation` in ``OUT/x<scale>/``
(``x2/``, ``x1.5/``: its own results, summary, tables and ``--save-sr`` images, each checkable on its
own, each written atomically when it finishes); ``OUT/`` holds the merged ``results.csv``,
``summary.json`` and tables, whose blocks (or, in the paper layout, row groups) are the scales,
written when every scale has finished, with one progress bar over every scale's images
(:class:`~srbench_eval.evaluation.progress.SweepProgress`). The sweep is resumable per scale: rerun
the same command with the same ``--out`` and every scale folder that holds a finished run is kept,
not recomputed; an ``OUT/`` that already holds a merged ``summary.json`` is a finished sweep and is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srbench_eval.data.degrade.scale_rule import matlab_colon
from srbench_eval.defaults import SCALE_DECIMALS, as_scale
from srbench_eval.errors import SrbenchError
from srbench_eval.options import split_list
from srbench_eval.protocol import from_json
from srbench_eval.runs.results import (
    RESULTS_CSV,
    Summary,
    load_summary,
    read_csv,
)

if TYPE_CHECKING:
    from srbench_eval.evaluation.progress import SweepProgress

_USE = "expected a number (2, 1.5), a comma list such as 2,3,4 or a range START:STOP:STEP such as 1.1:4.0:0.1"


def _number(text: str, item: str) -> float:
    try:
        value = float(item)
    except ValueError:
        raise SrbenchError(f"--scale '{text}': {_USE}") from None
    if not math.isfinite(value):
        raise SrbenchError(f"--scale '{text}': {_USE}")
    return value


def scale_range(text: str) -> tuple[int | float, ...]:
    """``START:STOP:STEP`` -> the scales ``START, START + STEP, ..., STOP`` (inclusive, MATLAB's
    ``start:step:stop`` order of arguments aside: :func:`~srbench_eval.data.degrade.scale_rule.matlab_colon`),
    rounded to :data:`~srbench_eval.defaults.SCALE_DECIMALS` decimals; the step must divide
    ``STOP - START`` exactly (within ``1e-9`` steps), else a one-line error."""
    parts = text.split(":")
    if len(parts) != 3:
        raise SrbenchError(f"--scale '{text}': a range is START:STOP:STEP, e.g. 1.1:4.0:0.1")
    start, stop, step = (_number(text, p.strip()) for p in parts)
    if step <= 0 or stop < start:
        raise SrbenchError(f"--scale '{text}': a range needs STOP >= START and a positive STEP")
    steps = (stop - start) / step
    if abs(steps - round(steps)) > 1e-9:
        raise SrbenchError(
            f"--scale '{text}': the step {step:g} does not divide {stop:g} - {start:g} = "
            f"{round(stop - start, SCALE_DECIMALS):g}; choose a step that does"
        )
    return tuple(as_scale(s) for s in matlab_colon(start, step, stop))


def parse_scales(text: str) -> tuple[int | float, ...]:
    """``"2,3,4"`` -> ``(2, 3, 4)``, ``"1.5"`` -> ``(1.5,)``, ``"1.5:3.5:1"`` -> ``(1.5, 2.5, 3.5)``
    (comma items may be ranges); whole scales are ``int`` (integer runs are recorded as before).
    One-line errors for anything else, a scale listed twice included."""
    items = split_list(text)
    if not items:
        raise SrbenchError(f"--scale '{text}': {_USE}")
    scales: list[int | float] = []
    for item in items:
        scales += scale_range(item) if ":" in item else [as_scale(_number(text, item))]
    if len(set(scales)) != len(scales):
        raise SrbenchError(f"--scale '{text}': a scale is listed twice")
    return tuple(scales)


def merge_summaries(summaries: Sequence[Summary], scales: Sequence[int | float]) -> Summary:
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
            "description": from_json(provenance["protocol"]).describe(),  # crop: per scale, not the last's
        }
    config = {**first.config, "scale": list(scales)}
    statistics = dict(first.statistics)
    if statistics:
        statistics["entries"] = [e for s in summaries for e in s.statistics.get("entries", [])]
    entries = [e for s in summaries for e in s.entries]
    return Summary(entries, metrics, provenance, config, statistics)


_SCALE_FOLDER = re.compile(r"^\.?x[0-9.]+(\.partial)?$")  # x2, x1.5 and their staging folders


def _sweep_folder(out: Path) -> None:
    """Create ``out`` for a sweep, or accept the folder of an unfinished one (no merged summary)."""
    if (out / "summary.json").exists():
        raise SrbenchError(f"{out}: output folder already holds a finished run; choose another --out")
    if out.exists() and not out.is_dir():
        raise SrbenchError(f"{out}: not a folder; choose another --out")
    foreign = sorted(p.name for p in out.iterdir() if not _SCALE_FOLDER.match(p.name)) if out.is_dir() else []
    if foreign:
        raise SrbenchError(f"{out}: output folder already exists (holds {foreign[0]}); choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SrbenchError(f"{out}: cannot create the run folder ({e.strerror or e})") from None


def _scale_run(config: Any, scale: int | float, folder: Path, progress: SweepProgress | None) -> Summary:
    """The finished run of one scale: read back when ``folder`` holds one, else computed into it."""
    from srbench_eval.evaluation import run_evaluation

    if (folder / "summary.json").is_file():
        done = load_summary(folder)
        if list(done.config.get("models", [])) == list(config.models):
            if progress is not None:
                progress.skip()
            return done
        raise SrbenchError(f"{folder}: holds a run of other models; choose another --out")
    return run_evaluation(replace(config, scale=scale), folder, progress if progress is not None else False)


def run_scales(
    config: Any, scales: Sequence[int | float], out: Path, progress: bool | SweepProgress = True
) -> Summary:
    """Evaluate ``config`` (a :class:`~srbench_eval.evaluation.RunConfig`) at every scale into
    ``out/x<scale>`` (a finished scale folder is kept: resumable), then merge them into ``out``.
    ``progress``: one bar over every scale's images (:class:`SweepProgress`; ``True`` makes one)."""
    from srbench_eval.evaluation import write_run_files
    from srbench_eval.evaluation.progress import SweepProgress

    _sweep_folder(out)
    bar = SweepProgress(len(scales)) if progress is True else progress or None
    try:
        summaries = [_scale_run(config, s, out / f"x{s}", bar) for s in scales]
    finally:
        if bar is not None:
            bar.close()
    rows = [r for s in scales for r in read_csv(out / f"x{s}" / RESULTS_CSV)]
    summary = merge_summaries(summaries, scales)
    summary.config["crop_border"] = config.crop_border  # None: each scale's own (crop = scale)
    write_run_files(out, rows, summary)
    return summary


__all__ = ["merge_summaries", "parse_scales", "run_scales", "scale_range"]
