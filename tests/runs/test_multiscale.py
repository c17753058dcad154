"""`run --scale 2,3,4`: one folder, one complete run per scale, merged results and tables."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest

from srbench_eval.cli import main
from srbench_eval.reports import statistics as stats

REPO = Path(__file__).resolve().parents[2]


def test_multi_scale_run_matches_the_single_scale_baselines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ms"
    args = [
        "run",
        "--quiet",
        "--models",
        "bicubic",
        "--datasets",
        "demo",
        "--scale",
        "2,4",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert "| Demo ×2   | PSNR ↑" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "results.csv").read_text().splitlines()))
    assert {r["scale"] for r in rows} == {"2", "4"} and len(rows) == 2 * 5 * 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["scale"] == [2, 4]
    assert {e["scale"] for e in summary["statistics"]["entries"]} == {2, 4}
    assert summary["statistics"]["bootstrap"]["seed"] == stats.SEED
    for e in summary["statistics"]["entries"]:  # std and interval of the per-image values of results.csv
        vals = [
            float(r["value"]) for r in rows if (r["scale"], r["metric"]) == (str(e["scale"]), e["metric"])
        ]
        assert e["n"] == 5 and e["std"] == pytest.approx(statistics.stdev(vals), rel=1e-12)
        assert e["ci_low"] < statistics.fmean(vals) < e["ci_high"]
    assert set(summary["provenance"]["per_scale"]) == {"x2", "x4"}
    for s in (2, 4):  # each scale is a complete run, equal to the committed single-scale baseline
        assert (
            main(
                [
                    "check",
                    "--baseline",
                    str(REPO / f"results/baselines/bicubic-demo-x{s}.json"),
                    str(out / f"x{s}"),
                ]
            )
            == 0
        )
    baseline = tmp_path / "ms.json"
    assert main(["check", "--baseline", str(baseline), "--update", str(out)]) == 0
    assert main(["check", "--baseline", str(baseline)]) == 0  # a fresh multi-scale run
    assert "all 4 values match" in capsys.readouterr().out


def test_bad_scale_lists_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for value, msg in (("2,x", "expected a number (2, 1.5), a comma list"), ("2,2", "listed twice")):
        out = tmp_path / "bad"
        assert (
            main(
                [
                    "run",
                    "--quiet",
                    "--models",
                    "bicubic",
                    "--datasets",
                    "demo",
                    "--scale",
                    value,
                    "--out",
                    str(out),
                ]
            )
            == 2
        )
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and msg in err and not out.exists()
    assert list(tmp_path.iterdir()) == []
