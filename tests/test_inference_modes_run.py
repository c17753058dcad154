"""Inference modes through `run` and `table`: recorded in the config, the label and the footnote;
`table` refuses to merge runs made in different modes; networks only (bicubic and folders keep theirs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from srbench_eval.cli import main

BASE = ["run", "--quiet", "--datasets", "demo", "--scale", "4", "--metrics", "psnr", "--device", "cpu"]
BASE += ["--checkpoints", "zoo"]


def _run(out: Path, *extra: str, models: str = "bicubic,srcnn") -> dict:
    assert main([*BASE, "--models", models, "--out", str(out), *extra]) == 0
    return json.loads((out / "summary.json").read_text())


def test_self_ensemble_and_precision_are_recorded_labelled_and_footnoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _run(tmp_path / "plain")
    plus = _run(tmp_path / "plus", "--self-ensemble", "--precision", "bf16", models="bicubic,srcnn")
    assert plus["config"]["self_ensemble"] is True and plus["config"]["precision"] == "bf16"
    models = {e["model"] for e in plus["results"]}
    assert models == {"bicubic", "srcnn (smoke)+ [bf16]"}  # bicubic runs no network: unchanged
    assert plus["provenance"]["models"]["srcnn (smoke)+ [bf16]"]["inference"]["self_ensemble"] is True
    bicubic = [e["value"] for s in (plain, plus) for e in s["results"] if e["model"] == "bicubic"]
    assert bicubic[0] == bicubic[1]
    srcnn = [e["value"] for s in (plain, plus) for e in s["results"] if e["model"].startswith("srcnn")]
    assert srcnn[0] != srcnn[1]
    capsys.readouterr()
    assert main(["table", str(tmp_path / "plain"), str(tmp_path / "plus")]) == 2
    assert "differs from run 1 in inference" in capsys.readouterr().err
    assert main(["table", str(tmp_path / "plain"), str(tmp_path / "plus"), "--allow-mixed"]) == 0
    assert "inference self-ensemble x8 (+), bf16, whole images" in capsys.readouterr().out


def test_a_bad_tile_or_precision_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--models", "srcnn", "--out", str(tmp_path / "a"), "--tile", "big"]) == 2
    assert main([*BASE, "--models", "srcnn", "--out", str(tmp_path / "b"), "--precision", "fp8"]) == 2


def test_tile_auto_runs_and_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget small enough to force tiles: with overlap 8 (above srcnn's receptive radius) the
    numbers are those of whole images."""
    whole = _run(tmp_path / "whole", models="srcnn")
    monkeypatch.setenv("SRBENCH_TILE_BUDGET_MB", "1")
    auto = _run(tmp_path / "auto", "--tile", "auto", "--tile-overlap", "8", models="srcnn")
    assert auto["config"]["tile"] == -1
    assert [e["value"] for e in auto["results"]] == pytest.approx(
        [e["value"] for e in whole["results"]], abs=1e-9
    )
