"""What a difference between two models is worth: per-image statistics of finished runs.

Everything here is a pure function of the per-image values of ``results.csv``.

* :func:`describe`: per model x dataset x scale x metric the mean, the sample standard deviation
  ``s = sqrt(sum (x_i - mean)^2 / (n - 1))`` and a percentile bootstrap confidence interval of the
  mean: resample the n images with replacement ``B`` times (seeded), take the ``(1-level)/2`` and
  ``(1+level)/2`` quantiles of the ``B`` resampled means (Efron & Tibshirani 1993, ch. 13).
* :func:`paired` (``srbench-eval compare``): for images i common to a model and the reference,
  ``d_i = x_i - ref_i``; the mean difference, its percentile bootstrap interval (the images resampled
  as pairs), the two-sided Wilcoxon signed-rank p-value (``scipy.stats.wilcoxon``: zero differences
  dropped, exact distribution for small n without ties, else the normal approximation) and the
  two-sided paired bootstrap p-value ``p = (1 + #{b: |mean(d*_b - mean(d))| >= |mean(d)|}) / (1 + B)``
  (resampling the differences centred on zero, i.e. under the null of no mean difference;
  Efron & Tibshirani 1993, 16.4).

Set-level metrics (FID) have one value per set: there is nothing to resample in ``results.csv``. A
bootstrap over images would need each image's Inception features, which runs do not store (and one
2048x2048 matrix square root per resample); :data:`SET_LEVEL_NOTE` says so wherever they appear.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from srbench_eval.runs.results import ImageValue

SEED = 20240601
RESAMPLES = 2000
LEVEL = 0.95

SET_LEVEL_NOTE = (
    "set-level metric: one value per set, so no bootstrap or paired test (a bootstrap over images "
    "needs per-image Inception features, which runs do not store)"
)


@dataclass(frozen=True)
class Description:
    """Mean, standard deviation and bootstrap interval of one model x dataset x scale x metric."""

    model: str
    dataset: str
    scale: int
    metric: str
    n: int
    mean: float
    std: float | None
    ci_low: float | None
    ci_high: float | None
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    """The paired difference ``model - reference`` over the images both were scored on."""

    model: str
    reference: str
    dataset: str
    scale: int
    metric: str
    n: int
    mean_diff: float
    ci_low: float | None
    ci_high: float | None
    p_wilcoxon: float | None
    p_bootstrap: float | None
    note: str = ""

    def significant(self, alpha: float) -> bool:
        """Both tests reject ``no difference`` at level ``alpha``."""
        return (
            self.p_wilcoxon is not None
            and self.p_bootstrap is not None
            and self.p_wilcoxon < alpha
            and self.p_bootstrap < alpha
        )


def bootstrap_method(resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL) -> dict[str, Any]:
    """What ``summary.json`` records about the bootstrap, so every interval can be repeated."""
    return {
        "method": "percentile bootstrap of the mean over images",
        "resamples": resamples,
        "seed": seed,
        "level": level,
        "generator": "numpy.random.default_rng(seed).integers(0, n, (resamples, n))",
    }


def resample_indices(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """``(resamples, n)`` image indices drawn with replacement; the same for every entry of size n."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_ci(
    values: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``."""
    x = np.asarray(values, dtype=np.float64)
    means = x[resample_indices(len(x), resamples, seed)].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _finite(x: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(x)))


def describe_values(
    values: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL
) -> tuple[float, float | None, float | None, float | None, str]:
    """``(mean, std, ci_low, ci_high, note)`` of one set of per-image values."""
    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if not _finite(x):
        return mean, None, None, None, "non-finite values (e.g. PSNR of identical images): no spread"
    if len(x) < 2:
        return mean, None, None, None, "one image: no spread"
    lo, hi = bootstrap_ci(x, resamples, seed, level)
    return mean, float(x.std(ddof=1)), lo, hi, ""


def _grouped(rows: Iterable[ImageValue]) -> dict[tuple[str, str, int, str], dict[str, float]]:
    groups: dict[tuple[str, str, int, str], dict[str, float]] = {}
    for r in rows:
        groups.setdefault((r.model, r.dataset, r.scale, r.metric), {})[r.image] = r.value
    return groups


def describe(
    rows: Iterable[ImageValue],
    per_image: dict[str, bool] | None = None,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> list[Description]:
    """A :class:`Description` per model x dataset x scale x metric of ``results.csv`` rows.

    Rows with an empty image name are set-level values (FID), as are metrics ``per_image`` marks
    ``False``: they are described with ``n = 1`` and :data:`SET_LEVEL_NOTE`.
    """
    out = []
    for (model, dataset, scale, metric), by_image in _grouped(rows).items():
        set_level = "" in by_image or (per_image is not None and not per_image.get(metric, True))
        if set_level:
            value = next(iter(by_image.values()))
            out.append(Description(model, dataset, scale, metric, 1, value, None, None, None, SET_LEVEL_NOTE))
            continue
        mean, std, lo, hi, note = describe_values(list(by_image.values()), resamples, seed, level)
        out.append(Description(model, dataset, scale, metric, len(by_image), mean, std, lo, hi, note))
    return out


def _json_number(v: float | None) -> float | str | None:
    return v if v is None or math.isfinite(v) else str(v)


def statistics_json(descriptions: Sequence[Description], **method: Any) -> dict[str, Any]:
    """The ``statistics`` section of ``summary.json``: the bootstrap settings and every description."""
    return {
        "bootstrap": bootstrap_method(**method),
        "entries": [
            {k: _json_number(v) if isinstance(v, float) else v for k, v in asdict(d).items()}
            for d in descriptions
        ],
    }


def wilcoxon_p(diffs: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (1.0 when all are zero)."""
    from scipy.stats import wilcoxon

    if not np.any(diffs != 0):
        return 1.0
    return float(wilcoxon(diffs).pvalue)


def paired_differences(
    diffs: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL
) -> tuple[float, float | None, float | None, float | None, float | None, str]:
    """``(mean, ci_low, ci_high, p_wilcoxon, p_bootstrap, note)`` of paired differences ``d_i``."""
    d = np.asarray(diffs, dtype=np.float64)
    if len(d) == 0:
        return math.nan, None, None, None, None, "no image in common"
    mean = float(d.mean())
    if not _finite(d):
        return mean, None, None, None, None, "non-finite values (e.g. PSNR of identical images)"
    if len(d) < 2:
        return mean, None, None, None, None, "one image: no test"
    idx = resample_indices(len(d), resamples, seed)
    means = d[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    null_means = means - mean  # the same resamples of d - mean(d)
    extreme = int(np.count_nonzero(np.abs(null_means) >= abs(mean) - 1e-12 * max(1.0, abs(mean))))
    p_boot = (1 + extreme) / (1 + resamples)
    return mean, float(lo), float(hi), wilcoxon_p(d), float(p_boot), ""


def paired(
    rows: Iterable[ImageValue],
    reference: str,
    per_image: dict[str, bool] | None = None,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> list[Comparison]:
    """Every model against ``reference``, per dataset x scale x metric, paired by image name."""
    groups = _grouped(rows)
    out = []
    for (model, dataset, scale, metric), by_image in groups.items():
        if model == reference:
            continue
        ref = groups.get((reference, dataset, scale, metric))
        if ref is None:
            continue
        set_level = "" in by_image or (per_image is not None and not per_image.get(metric, True))
        if set_level:
            diff = next(iter(by_image.values())) - next(iter(ref.values()))
            out.append(
                Comparison(
                    model, reference, dataset, scale, metric, 1, diff, None, None, None, None, SET_LEVEL_NOTE
                )
            )
            continue
        common = [name for name in by_image if name in ref]
        diffs = [by_image[name] - ref[name] for name in common]
        mean, lo, hi, p_w, p_b, note = paired_differences(diffs, resamples, seed, level)
        out.append(
            Comparison(model, reference, dataset, scale, metric, len(common), mean, lo, hi, p_w, p_b, note)
        )
    return out
