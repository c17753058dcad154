"""Statistics of finished runs against SciPy and a bootstrap written out independently here."""

from __future__ import annotations

import json
import random
import re
import statistics
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import wilcoxon

from srbench_eval.cli import main
from srbench_eval.digests import sha256_text
from srbench_eval.files import write_text_atomic
from srbench_eval.reports import statistics as stats
from srbench_eval.runs.results import ImageValue, Summary, SummaryEntry, csv_text

PSNR_A = [30.1, 28.4, 33.0, 25.2, 27.7, 31.9, 29.3, 26.6, 24.8, 32.2, 28.8, 30.6]
PSNR_B = [30.0, 28.6, 32.5, 25.0, 27.9, 31.1, 29.0, 26.1, 24.9, 31.5, 28.2, 30.5]


def _independent_bootstrap(values: list[float], resamples: int = 20000, seed: int = 7) -> list[float]:
    """Resampled means with the standard library: a different generator, a plain loop."""
    rng = random.Random(seed)
    n = len(values)
    return sorted(statistics.fmean(rng.choices(values, k=n)) for _ in range(resamples))


def _quantile(sorted_values: list[float], q: float) -> float:
    return float(np.quantile(sorted_values, q))


def test_describe_mean_std_and_bootstrap_interval() -> None:
    rows = [ImageValue("a", "set14", 4, f"im{i}", "psnr", v) for i, v in enumerate(PSNR_A)]
    (d,) = stats.describe(rows)
    assert d.n == 12 and d.mean == pytest.approx(statistics.fmean(PSNR_A), abs=1e-12)
    assert d.std == pytest.approx(statistics.stdev(PSNR_A), abs=1e-12)
    boot = _independent_bootstrap(PSNR_A)
    width = d.ci_high - d.ci_low
    assert d.ci_low == pytest.approx(_quantile(boot, 0.025), abs=0.05 * width)
    assert d.ci_high == pytest.approx(_quantile(boot, 0.975), abs=0.05 * width)
    # seeded: the same rows give the same interval
    assert stats.describe(rows) == [d]


def test_paired_difference_against_scipy_wilcoxon_and_independent_bootstrap() -> None:
    rows = [ImageValue("a", "set14", 4, f"im{i}", "psnr", v) for i, v in enumerate(PSNR_A)]
    rows += [ImageValue("ref", "set14", 4, f"im{i}", "psnr", v) for i, v in enumerate(PSNR_B)]
    rows.reverse()  # pairing is by image name, not by row order
    (c,) = stats.paired(rows, "ref")
    diffs = [a - b for a, b in zip(PSNR_A, PSNR_B, strict=True)]
    assert c.model == "a" and c.n == 12
    assert c.mean_diff == pytest.approx(statistics.fmean(diffs), abs=1e-12)
    assert c.p_wilcoxon == pytest.approx(float(wilcoxon(diffs).pvalue), rel=1e-12)
    boot = _independent_bootstrap(diffs)
    width = c.ci_high - c.ci_low
    assert c.ci_low == pytest.approx(_quantile(boot, 0.025), abs=0.05 * width)
    assert c.ci_high == pytest.approx(_quantile(boot, 0.975), abs=0.05 * width)
    mean = statistics.fmean(diffs)
    null = [m - mean for m in boot]  # resampled means of d - mean(d)
    p_independent = (1 + sum(abs(m) >= abs(mean) for m in null)) / (1 + len(null))
    assert c.p_bootstrap == pytest.approx(p_independent, abs=0.01)


def test_small_sets_are_not_significant_and_identical_models_give_p_one() -> None:
    five = [
        ImageValue(m, "set5", 4, f"im{i}", "psnr", 30.0 + i + (0.02 if m == "a" else 0.0))
        for m in "ab"
        for i in range(5)
    ]
    (c,) = stats.paired(five, "b")
    # 5 images all 0.02 dB better: Wilcoxon's exact two-sided p cannot go below 2/2^5
    assert c.p_wilcoxon == pytest.approx(0.0625) and not c.significant(0.05)
    same = [ImageValue(m, "set5", 4, f"im{i}", "psnr", 30.0 + i) for m in "ab" for i in range(5)]
    (c,) = stats.paired(same, "b")
    assert c.mean_diff == 0 and c.p_wilcoxon == 1.0 and c.p_bootstrap == 1.0


def test_set_level_metrics_say_why_there_is_no_interval() -> None:
    rows = [ImageValue("a", "set5", 4, "", "fid", 40.0), ImageValue("b", "set5", 4, "", "fid", 50.0)]
    (d, _) = stats.describe(rows)
    assert d.ci_low is None and "per-image Inception features" in d.note
    (c,) = stats.paired(rows, "b")
    assert c.mean_diff == -10.0 and c.p_wilcoxon is None and c.note == stats.SET_LEVEL_NOTE


def _write_run(folder: Path, rows: list[ImageValue]) -> Path:
    info = {"label": "PSNR", "higher_is_better": True, "per_image": True, "decimals": 2}
    means = {}
    for r in rows:
        means.setdefault((r.model, r.dataset, r.metric), []).append(r.value)
    entries = [
        SummaryEntry(m, d, 4, metric, statistics.fmean(v), len(v)) for (m, d, metric), v in means.items()
    ]
    folder.mkdir(parents=True)
    write_text_atomic(folder / "results.csv", csv_text(rows))
    prov = {"results_csv_sha256": sha256_text(csv_text(rows))}
    write_text_atomic(folder / "summary.json", Summary(entries, {"psnr": info}, prov).to_json())
    return folder


def test_compare_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [ImageValue("a", "set14", 4, f"im{i}", "psnr", v) for i, v in enumerate(PSNR_A)]
    rows += [ImageValue("ref", "set14", 4, f"im{i}", "psnr", v) for i, v in enumerate(PSNR_B)]
    run = _write_run(tmp_path / "run", rows)
    assert main(["compare", str(run), "--reference", "ref"]) == 0
    out = capsys.readouterr().out
    p = float(wilcoxon([a - b for a, b in zip(PSNR_A, PSNR_B, strict=True)]).pvalue)
    assert f"| {p:.3g} " in out and "Δ vs ref" in out
    assert main(["compare", str(run), "--reference", "ref", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["bootstrap"]["seed"] == stats.SEED and doc["comparisons"][0]["p_wilcoxon"] == pytest.approx(p)
    assert main(["compare", str(run), "--reference", "rf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'ref'" in err


def test_compare_needs_per_image_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _write_run(tmp_path / "run", [ImageValue("a", "set5", 4, "x", "psnr", 30.0)])
    (run / "results.csv").unlink()  # a summary alone, as one written without its results.csv
    summary = (run / "summary.json").read_text()
    (run / "summary.json").write_text(re.sub(r'\s*"results_csv_sha256": "\w+",?', "", summary))
    assert main(["compare", str(run), "--reference", "a"]) == 2
    assert "no results.csv" in capsys.readouterr().err
