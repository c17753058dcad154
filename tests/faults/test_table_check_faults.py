"""Fault injection on `srbench-eval table` and `check` (issue 10): baselines that check nothing,
summaries and baselines with missing or mistyped fields, and a results.csv changed after its run.

Every case asserts the exit status, a one-line message naming the file (and field), no traceback,
and that the files read are left as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srbench_eval.cli import main
from tests.faults import cli_error


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    args = ["run", "--quiet", "--out", str(out), "--models", "bicubic", "--datasets", "demo"]
    assert main([*args, "--metrics", "psnr,ssim"]) == 0
    return out


@pytest.fixture
def baseline(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "baseline.json"
    assert main(["check", "--baseline", str(path), "--update", str(run_dir)]) == 0
    capsys.readouterr()
    return path


def _copy_run(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in run_dir.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    return copy


def _edit(path: Path, change) -> str:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return path.read_text()


def test_baseline_without_results_fails(baseline: Path, run_dir: Path, capsys) -> None:
    before = _edit(baseline, lambda d: d.update(results=[]))
    for run in ([str(run_dir)], []):  # a finished run, and a fresh one
        err = cli_error(capsys, ["check", "--baseline", str(baseline), *run])
        assert str(baseline) in err and "field 'results' is empty" in err
    assert baseline.read_text() == before


def test_baseline_with_no_value_of_the_run_fails(baseline: Path, run_dir: Path, capsys) -> None:
    _edit(baseline, lambda d: [e.update(model="other") for e in d["results"]])
    assert main(["check", "--baseline", str(baseline), str(run_dir)]) == 1
    captured = capsys.readouterr()
    assert "2 of 2 values differ" in captured.err and "MISSING" in captured.out
    assert "all" not in captured.out.splitlines()[-1]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("tolerances"), "field 'tolerances' is missing"),
        (lambda d: d["results"][1].update(value="abc"), "field 'results[1].value' should be a number"),
        (lambda d: d["results"][0].update(scale="4"), "field 'results[0].scale' should be number, not text"),
        (lambda d: d["results"][0].pop("metric"), "field 'results[0].metric' is missing"),
        (lambda d: d["tolerances"].update(psnr=None), "field 'tolerances.psnr' should be number, not null"),
        (lambda d: d.update(results={}), "field 'results' should be list, not object"),
    ],
    ids=["no-tolerances", "value-text", "scale-text", "no-metric", "tolerance-null", "results-object"],
)
def test_baseline_field_missing_or_mistyped(baseline: Path, run_dir: Path, capsys, change, field) -> None:
    before = _edit(baseline, change)
    err = cli_error(capsys, ["check", "--baseline", str(baseline), str(run_dir)])
    assert str(baseline) in err and field in err
    assert baseline.read_text() == before


def test_baseline_run_settings_are_checked_for_a_fresh_run(baseline: Path, capsys) -> None:
    _edit(baseline, lambda d: d["run"].update(scale="four"))
    err = cli_error(capsys, ["check", "--baseline", str(baseline)])
    assert str(baseline) in err and "field 'run.scale' should be number or list, not text" in err
    _edit(baseline, lambda d: d["run"].pop("models"))
    assert "field 'run.models' is missing" in cli_error(capsys, ["check", "--baseline", str(baseline)])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("metrics"), "field 'metrics' is missing"),
        (lambda d: d["metrics"]["psnr"].pop("decimals"), "field 'metrics.psnr.decimals' is missing"),
        (lambda d: d["results"][0].update(n_samples=2.5), "field 'results[0].n_samples' should be integer"),
        (lambda d: d["results"][0].update(reliable="yes"), "'results[0].reliable' should be true/false"),
        (lambda d: d["provenance"].update(datasets=[]), "field 'provenance.datasets' should be object"),
    ],
    ids=["no-metrics", "no-decimals", "float-count", "text-flag", "datasets-list"],
)
def test_summary_field_missing_or_mistyped(run_dir: Path, tmp_path: Path, capsys, change, field: str) -> None:
    copy = _copy_run(run_dir, tmp_path)
    summary = copy / "summary.json"
    _edit(summary, change)
    update = ["check", "--baseline", str(tmp_path / "b.json"), "--update", str(copy)]
    for argv in (["table", str(copy)], update):
        err = cli_error(capsys, argv)
        assert str(summary) in err and field in err
    assert not (tmp_path / "b.json").exists()


def test_summary_that_is_not_an_object(run_dir: Path, tmp_path: Path, capsys) -> None:
    copy = _copy_run(run_dir, tmp_path)
    (copy / "summary.json").write_text("[1, 2]")
    err = cli_error(capsys, ["table", str(copy)])
    assert str(copy / "summary.json") in err and "not an object" in err


@pytest.mark.parametrize("damage", ["edited", "deleted"])
def test_results_csv_that_no_longer_matches_its_summary(
    run_dir: Path, baseline: Path, tmp_path: Path, capsys, damage: str
) -> None:
    copy = _copy_run(run_dir, tmp_path)
    csv = copy / "results.csv"
    assert main(["table", str(copy)]) == 0 and main(["check", "--baseline", str(baseline), str(copy)]) == 0
    capsys.readouterr()
    if damage == "edited":
        lines = csv.read_text().splitlines()
        lines[1] = lines[1].rsplit(",", 1)[0] + ",99.0"
        csv.write_text("\n".join(lines) + "\n")
    else:
        csv.unlink()
    table_out = tmp_path / "t.md"
    for argv in (
        ["table", str(copy), "--out", str(table_out)],
        ["check", "--baseline", str(baseline), str(copy)],
    ):
        err = cli_error(capsys, argv)
        assert str(csv) in err and ("does not match" in err if damage == "edited" else "missing" in err)
    assert not table_out.exists()
