"""``srbench-eval compare``: every model against a reference, per dataset and metric, as a table.

The numbers come from :func:`srbench_eval.reports.statistics.paired` on the per-image values of finished runs;
a row is marked significant when both the Wilcoxon signed-rank test and the paired bootstrap reject
"no difference" at ``alpha``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict

from tabulate import tabulate

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.reports import statistics as stats
from srbench_eval.runs.finished import FinishedRun, all_values


def metric_info(runs: Sequence[FinishedRun]) -> dict[str, dict]:
    info: dict[str, dict] = {}
    for run in runs:
        info.update(run.summary.metrics)
    return info


def compare_runs(
    runs: Sequence[FinishedRun], reference: str, metrics: Sequence[str] = ()
) -> list[stats.Comparison]:
    """Paired comparisons of every model of ``runs`` with ``reference`` (one-line errors when the runs
    have no per-image values or no such model)."""
    values = all_values(runs)
    if not values:
        names = ", ".join(str(r.path) for r in runs)
        raise SrbenchError(
            f"{names}: no results.csv with per-image values; compare needs finished run folders"
        )
    models = list(dict.fromkeys(v.model for v in values))
    if reference not in models:
        raise unknown_name("reference model", reference, models)
    if len(models) == 1:
        raise SrbenchError(
            f"--reference {reference}: the only model of {', '.join(str(r.path) for r in runs)}; "
            "compare needs at least one other model"
        )
    if metrics:
        known = list(dict.fromkeys(v.metric for v in values))
        for m in metrics:
            if m not in known:
                raise unknown_name("metric", m, known)
        values = [v for v in values if v.metric in metrics]
    per_image = {k: bool(v.get("per_image", True)) for k, v in metric_info(runs).items()}
    return stats.paired(values, reference, per_image)


def _num(v: float | None, decimals: int, signed: bool = False) -> str:
    if v is None or math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:+.{decimals}f}" if signed else f"{v:.{decimals}f}"


def _p(v: float | None) -> str:
    return "–" if v is None else f"{v:.3g}" if v >= 0.001 else f"{v:.1e}"


def dataset_titles(runs: Sequence[FinishedRun]) -> dict[str, str]:
    return {k: v.get("title", k) for r in runs for k, v in r.summary.provenance.get("datasets", {}).items()}


def to_markdown(
    comparisons: Sequence[stats.Comparison],
    info: dict[str, dict],
    alpha: float,
    titles: dict[str, str] | None = None,
) -> str:
    """One row per dataset x metric x model: Δ, its interval, both p-values and the verdict."""
    titles = titles or {}
    rows, notes = [], []
    for c in comparisons:
        meta = info.get(c.metric, {"label": c.metric, "decimals": 4, "higher_is_better": True})
        d = int(meta.get("decimals", 4)) + 1
        if c.note == stats.SET_LEVEL_NOTE:
            line = f"{meta['label']}: {c.note}"
            if line not in notes:
                notes.append(line)
            continue
        ci = "–" if c.ci_low is None else f"[{_num(c.ci_low, d, True)}, {_num(c.ci_high, d, True)}]"
        verdict = "yes" if c.significant(alpha) else ("no" if c.p_wilcoxon is not None else c.note)
        better = ""
        if c.significant(alpha):
            up = c.mean_diff > 0
            better = " (better)" if up == bool(meta.get("higher_is_better", True)) else " (worse)"
        rows.append(
            [
                f"{titles.get(c.dataset, c.dataset)} ×{c.scale}",
                meta["label"],
                c.model,
                c.n,
                _num(c.mean_diff, d, True),
                ci,
                _p(c.p_wilcoxon),
                _p(c.p_bootstrap),
                verdict + better,
            ]
        )
    reference = comparisons[0].reference if comparisons else ""
    text = tabulate(
        rows,
        headers=[
            "Dataset",
            "Metric",
            "Model",
            "n",
            f"Δ vs {reference}",
            "95% CI",
            "p (Wilcoxon)",
            "p (bootstrap)",
            f"significant (α={alpha:g})",
        ],
        tablefmt="pipe",
        disable_numparse=True,
    )
    method = stats.bootstrap_method()
    foot = [
        f"Δ = model − {reference} per image, averaged; CI: paired percentile bootstrap "
        f"({method['resamples']} resamples, seed {method['seed']}); significant: both two-sided tests "
        f"(Wilcoxon signed-rank, paired bootstrap) give p < {alpha:g}.",
        *notes,
    ]
    return text + "\n\n" + "\n".join(foot) + "\n"


def to_json(comparisons: Sequence[stats.Comparison], alpha: float) -> str:
    doc = {
        "alpha": alpha,
        "bootstrap": stats.bootstrap_method(),
        "comparisons": [
            {
                **{
                    k: (str(v) if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in asdict(c).items()
                },
                "significant": c.significant(alpha),
            }
            for c in comparisons
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
