"""Fault injection on `table`, `compare` and `check`, second pass (issue 27): a results.csv edited with
its hash updated or its hash deleted, a reference that is the only model, a baseline made under
another protocol, labels that would break a Markdown table.

Every case asserts the exit status, a one-line message naming the file (and line or field), no
traceback, and that the run folders read are left byte for byte as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srbench_eval.cli import main
from srbench_eval.digests import sha256_text
from tests.faults import cli_error


def _run(out: Path, *args: str) -> Path:
    assert (
        main(["run", "--quiet", "--out", str(out), "--datasets", "demo", "--metrics", "psnr,ssim", *args])
        == 0
    )
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two finished demo runs: ``plain`` (bicubic) and ``crop0`` (bicubic, ``--crop-border 0``)."""
    root = tmp_path_factory.mktemp("runs")
    _run(root / "plain", "--models", "bicubic")
    _run(root / "crop0", "--models", "bicubic", "--crop-border", "0")
    return root


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _copy(run: Path, dest: Path) -> Path:
    dest.mkdir()
    for p in run.iterdir():
        if p.is_file():
            (dest / p.name).write_bytes(p.read_bytes())
    return dest


@pytest.mark.parametrize(
    ("column", "bad", "expected"),
    [("value", "abc", "value 'abc' is not a number"), ("scale", "x", "scale 'x' is not a number")],
)
def test_results_csv_with_garbage_and_its_hash_updated(
    runs: Path, tmp_path: Path, capsys, column: str, bad: str, expected: str
) -> None:
    copy = _copy(runs / "plain", tmp_path / "copy")
    lines = (copy / "results.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index(column)] = bad
    lines[2] = ",".join(cells)
    text = "\n".join(lines) + "\n"
    (copy / "results.csv").write_text(text)
    summary = json.loads((copy / "summary.json").read_text())
    summary["provenance"]["results_csv_sha256"] = sha256_text(text)
    (copy / "summary.json").write_text(json.dumps(summary))
    before = _snapshot(copy)
    for argv in (["table", str(copy)], ["compare", str(copy), "--reference", "bicubic"]):
        err = cli_error(capsys, argv)
        assert f"{copy / 'results.csv'}, line 3: {expected}" in err
    assert _snapshot(copy) == before


def test_results_csv_whose_hash_was_deleted_is_refused(runs: Path, tmp_path: Path, capsys) -> None:
    copy = _copy(runs / "plain", tmp_path / "copy")
    lines = (copy / "results.csv").read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",99.0"
    (copy / "results.csv").write_text("\n".join(lines) + "\n")
    summary = json.loads((copy / "summary.json").read_text())
    del summary["provenance"]["results_csv_sha256"]
    (copy / "summary.json").write_text(json.dumps(summary))
    before = _snapshot(copy)
    for argv in (["table", str(copy)], ["compare", str(copy), str(runs / "crop0"), "--reference", "bicubic"]):
        err = cli_error(capsys, argv)
        assert f"{copy / 'summary.json'}: provenance.results_csv_sha256 is missing" in err
    assert _snapshot(copy) == before


def test_compare_with_the_reference_as_the_only_model(runs: Path, capsys) -> None:
    before = _snapshot(runs / "plain")
    err = cli_error(capsys, ["compare", str(runs / "plain"), "--reference", "bicubic"])
    assert "--reference bicubic: the only model of" in err and str(runs / "plain") in err
    assert _snapshot(runs / "plain") == before


def test_check_against_a_baseline_made_under_another_protocol(runs: Path, tmp_path: Path, capsys) -> None:
    baseline = tmp_path / "baseline.json"
    assert main(["check", "--baseline", str(baseline), "--update", str(runs / "plain")]) == 0
    assert main(["check", "--baseline", str(baseline), str(runs / "plain")]) == 0
    capsys.readouterr()
    kept = baseline.read_bytes(), _snapshot(runs / "crop0")
    err = cli_error(capsys, ["check", "--baseline", str(baseline), str(runs / "crop0")])
    assert err == (
        f"error: {baseline}: made with crop_border scale, the run with 0: its numbers are not comparable; "
        "check a run made under the baseline's protocol"
    )
    assert (baseline.read_bytes(), _snapshot(runs / "crop0")) == kept


@pytest.mark.parametrize("layout", ["blocks", "paper"])
def test_markdown_tables_escape_pipes_and_newlines_in_labels(runs: Path, capsys, layout: str) -> None:
    argv = ["table", str(runs / "plain"), "--layout", layout, "--rename", "bicubic=a|b\nc"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("|")]
    assert rows and any("a\\|b c" in row for row in rows), out
    widths = {row.replace("\\|", "").count("|") for row in rows}
    assert len(widths) == 1, out


def test_compare_out_never_writes_into_a_finished_run(runs: Path, capsys) -> None:
    before = _snapshot(runs / "plain")
    for target in ("summary.json", "notes.md"):
        out = runs / "plain" / target
        argv = [
            "compare",
            str(runs / "plain"),
            str(runs / "crop0"),
            "--reference",
            "bicubic",
            "--out",
            str(out),
        ]
        err = cli_error(capsys, argv)
        assert (
            err == f"error: --out {out}: inside the finished run or study {runs / 'plain'}; write elsewhere"
        )
    assert _snapshot(runs / "plain") == before


def test_report_out_with_a_name_too_long(runs: Path, tmp_path: Path, capsys) -> None:
    long = tmp_path / ("画" * 100)
    err = cli_error(capsys, ["report", str(runs / "plain"), "--out", str(long / "html")])
    assert "画" * 40 in err and "too long" in err
    assert list(tmp_path.iterdir()) == []
