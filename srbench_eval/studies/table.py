"""The study's table: per-seed means, paired comparisons against the reference variant, and the
files ``table.md``, ``per_seed.csv`` and ``summary.json`` (the statistics are those of the package
docstring)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from srbench_eval.files import write_text_atomic
from srbench_eval.reports import statistics as stats
from srbench_eval.runs.results import ImageValue, read_csv
from srbench_eval.studies.members import is_finished
from srbench_eval.studies.spec import Member, Study, members, variants


@dataclass(frozen=True)
class SeedSummary:
    """A variant on a dataset and metric: the mean over images of each seed, and over the seeds."""

    variant: str
    dataset: str
    metric: str
    per_seed: dict[int, float]
    mean: float
    std: float | None


@dataclass
class StudyResult:
    summaries: list[SeedSummary]
    comparisons: list[stats.Comparison]
    missing: list[Member] = field(default_factory=list)
    bicubic: dict[tuple[str, str], float] = field(default_factory=dict)
    table: str = ""


def collect(study: Study, root: Path) -> tuple[dict[tuple[str, int], list[ImageValue]], list[Member]]:
    """The per-image rows of every finished member, keyed by (variant, seed), relabelled with the
    variant (a run made from ``--plan`` names its column by the checkpoint); and the unfinished."""
    rows: dict[tuple[str, int], list[ImageValue]] = {}
    missing = []
    for m in members(study):
        csv_path = m.folder(root) / "run" / "results.csv"
        if not is_finished(study, m, root) or not csv_path.is_file():
            missing.append(m)
            continue
        rows[(m.variant, m.seed)] = [replace(r, model=m.variant) for r in read_csv(csv_path)]
    return rows, missing


def seed_summaries(rows: dict[tuple[str, int], list[ImageValue]], order: Sequence[str]) -> list[SeedSummary]:
    """``mean_s(m_s) +- std_s(m_s)`` per variant x dataset x metric, ``m_s`` the seed's image mean."""
    means: dict[tuple[str, str, str], dict[int, float]] = {}
    for (variant, seed), values in rows.items():
        groups: dict[tuple[str, str], list[float]] = {}
        for r in values:
            groups.setdefault((r.dataset, r.metric), []).append(r.value)
        for (dataset, metric), xs in groups.items():
            means.setdefault((variant, dataset, metric), {})[seed] = float(np.mean(xs))
    out = []
    for (variant, dataset, metric), per_seed in sorted(
        means.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1:])
    ):
        x = np.array([per_seed[s] for s in sorted(per_seed)])
        std = float(x.std(ddof=1)) if len(x) > 1 else None
        out.append(
            SeedSummary(variant, dataset, metric, dict(sorted(per_seed.items())), float(x.mean()), std)
        )
    return out


def comparison_pairs(study: Study, order: Sequence[str]) -> list[tuple[str, str]]:
    """(variant, reference) pairs to compare: ``study.pairs`` (``recipe:reference`` by recipe name,
    every variant of each) or else every variant against the first."""
    if not study.pairs:
        return [(v, order[0]) for v in order[1:]]
    by_recipe = {m.variant: m.recipe for m in members(study)}
    out = []
    for item in study.pairs:  # checked by Study.check
        name, _, ref = item.partition(":")
        refs = [v for v in order if by_recipe[v] == ref]
        out += [(v, refs[i % len(refs)]) for i, v in enumerate(x for x in order if by_recipe[x] == name)]
    return out


def paired_comparisons(
    rows: dict[tuple[str, int], list[ImageValue]],
    order: Sequence[str],
    pairs: Sequence[tuple[str, str]] | None = None,
) -> list[stats.Comparison]:
    """Each (variant, reference) of ``pairs`` (default: every variant against ``order[0]``),
    pooling the (seed, image) pairs of the seeds both finished."""
    if pairs is None:
        pairs = [(v, order[0]) for v in order[1:]]
    by_key: dict[tuple[str, str, str], dict[tuple[int, str], float]] = {}
    scale_of: dict[tuple[str, str], int] = {}
    for (variant, seed), values in rows.items():
        for r in values:
            by_key.setdefault((variant, r.dataset, r.metric), {})[(seed, r.image)] = r.value
            scale_of[(r.dataset, r.metric)] = r.scale
    out = []
    for variant, reference in pairs:
        for (v, dataset, metric), values in sorted(by_key.items()):
            ref = by_key.get((reference, dataset, metric))
            if v != variant or ref is None:
                continue
            common = sorted(k for k in values if k in ref)
            diffs = [values[k] - ref[k] for k in common]
            mean, lo, hi, p_w, p_b, note = stats.paired_differences(diffs)
            out.append(
                stats.Comparison(
                    variant,
                    reference,
                    dataset,
                    scale_of[(dataset, metric)],
                    metric,
                    len(common),
                    mean,
                    lo,
                    hi,
                    p_w,
                    p_b,
                    note,
                )
            )
    return out


def _fmt(x: float | None, digits: int) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _digits(metric: str) -> int:
    return 2 if metric.lower() == "psnr" else 4


def render_table(study: Study, result: StudyResult, seeds: Sequence[int]) -> str:
    lines = [f"# Study: {', '.join(study.recipes)}", ""]
    scale = study.scale or 4
    lines.append(
        f"Preset {study.preset}, x{scale}, trained on {study.data}"
        + (f" for {study.iterations} iterations" if study.iterations else "")
        + f", seeds {', '.join(map(str, study.seeds))}; protocol {study.protocol}"
        + (f" ({', '.join(study.protocol_set)})" if study.protocol_set else "")
        + "."
    )
    if study.overrides:
        lines.append(f"Settings: {' '.join('--set ' + o for o in study.overrides)}.")
    if result.missing:
        shown = ", ".join(f"{m.variant} seed {m.seed}" for m in result.missing)
        lines.append(f"**Unfinished members (not in the table): {shown}.**")
    lines += ["", "## Mean +- std over seeds (each seed: mean over the images)", ""]
    seed_cols = [f"seed {s}" for s in seeds]
    lines.append("| variant | dataset | metric | mean +- std | " + " | ".join(seed_cols) + " |")
    lines.append("|" + "---|" * (4 + len(seed_cols)))
    for (dataset, metric), value in sorted(result.bicubic.items()):
        d = _digits(metric)
        blank = " | ".join("" for _ in seeds)
        lines.append(f"| bicubic | {dataset} | {metric} | {_fmt(value, d)} | {blank} |")
    for s in result.summaries:
        d = _digits(s.metric)
        one = len(s.per_seed) == 1  # one seed: no spread to show (not "+- -")
        spread = f"{_fmt(s.mean, d)} (1 seed)" if one else f"{_fmt(s.mean, d)} +- {_fmt(s.std, d)}"
        cells = " | ".join(_fmt(s.per_seed.get(seed), d) for seed in seeds)
        lines.append(f"| {s.variant} | {s.dataset} | {s.metric} | {spread} | {cells} |")
    if result.comparisons:
        lines += [
            "",
            f"## Paired differences, variant - reference (seeds x images; 95% percentile bootstrap CI, "
            f"{stats.RESAMPLES} resamples, seed {stats.SEED})",
            "",
            "| variant | reference | dataset | metric | pairs | mean diff | 95% CI | p (Wilcoxon) "
            "| p (bootstrap) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for c in result.comparisons:
            d = _digits(c.metric) + 1
            ci = f"[{_fmt(c.ci_low, d)}, {_fmt(c.ci_high, d)}]" if c.ci_low is not None else c.note or "-"
            p_w = "-" if c.p_wilcoxon is None else f"{c.p_wilcoxon:.3g}"
            p_b = "-" if c.p_bootstrap is None else f"{c.p_bootstrap:.3g}"
            lines.append(
                f"| {c.model} | {c.reference} | {c.dataset} | {c.metric} | "
                f"{c.n} | {c.mean_diff:+.{d}f} | {ci} | {p_w} | {p_b} |"
            )
    return "\n".join(lines) + "\n"


def _bicubic_means(root: Path) -> dict[tuple[str, str], float]:
    path = root / "bicubic" / "results.csv"
    if not path.is_file():
        return {}
    groups: dict[tuple[str, str], list[float]] = {}
    for r in read_csv(path):
        groups.setdefault((r.dataset, r.metric), []).append(r.value)
    return {k: float(np.mean(v)) for k, v in groups.items()}


def write_table(study: Study, root: Path) -> StudyResult:
    """Compute the study's statistics from its finished members and write its files."""
    order = variants(study)
    rows, missing = collect(study, root)
    pairs = comparison_pairs(study, order)
    result = StudyResult(seed_summaries(rows, order), paired_comparisons(rows, order, pairs), missing)
    result.bicubic = _bicubic_means(root)
    result.table = render_table(study, result, study.seeds)
    write_text_atomic(root / "table.md", result.table)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["variant", "seed", "dataset", "metric", "mean"])
    for s in result.summaries:
        for seed, value in s.per_seed.items():
            w.writerow([s.variant, seed, s.dataset, s.metric, repr(value)])
    write_text_atomic(root / "per_seed.csv", buf.getvalue())
    summary = {
        "study": study.to_json(),
        "bootstrap": stats.bootstrap_method(),
        "pairing": "(seed, image) pairs of the seeds both variants finished",
        "summaries": [asdict(s) for s in result.summaries],
        "comparisons": [asdict(c) for c in result.comparisons],
        "missing": [asdict(m) for m in missing],
        "bicubic": [{"dataset": d, "metric": m, "mean": v} for (d, m), v in sorted(result.bicubic.items())],
    }
    write_text_atomic(root / "summary.json", json.dumps(summary, indent=2, default=_json_default) + "\n")
    return result


def _json_default(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(type(value).__name__)
