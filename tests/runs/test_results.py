"""Result files: CSV/JSON round trips and the all-or-nothing run folder."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from srbench_eval.errors import SrbenchError
from srbench_eval.runs.results import (
    ImageValue,
    Summary,
    SummaryEntry,
    csv_text,
    finished_run_dir,
    inside,
    load_summary,
    read_csv,
)


def test_csv_round_trip_is_exact(tmp_path: Path) -> None:
    rows = [
        ImageValue("bicubic", "set5", 4, "baby", "psnr", 31.780960128367534),
        ImageValue("bicubic", "set5", 4, "", "fid", math.inf),
    ]
    p = tmp_path / "results.csv"
    p.write_text(csv_text(rows))
    assert p.read_text().splitlines()[0] == "model,dataset,scale,image,metric,value"
    assert read_csv(p) == rows


def test_summary_round_trip_with_infinity(tmp_path: Path) -> None:
    info = {"psnr": {"label": "PSNR", "higher_is_better": True, "decimals": 2}}
    s = Summary([SummaryEntry("m", "d", 2, "psnr", math.inf, 1)], info, {"x": 1}, {})
    (tmp_path / "summary.json").write_text(s.to_json())
    assert load_summary(tmp_path).entries == s.entries
    with pytest.raises(SrbenchError, match="no summary.json"):
        load_summary(tmp_path / "nope")


def test_failed_run_leaves_no_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(RuntimeError), finished_run_dir(out) as staging:
        (staging / "results.csv").write_text("partial")
        raise RuntimeError("boom")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with finished_run_dir(out) as staging:
        (staging / "results.csv").write_text("ok")
    assert (out / "results.csv").read_text() == "ok"
    with pytest.raises(SrbenchError, match="already exists"), finished_run_dir(out):
        pass


def test_inside_keeps_every_path_in_the_run_folder(tmp_path: Path) -> None:
    root = tmp_path / "run"
    root.mkdir()
    expected = root.resolve() / "sr" / "srcnn (smoke)" / "set5" / "baby.png"
    assert inside(root, "sr", "srcnn (smoke)", "set5", "baby.png") == expected
    for parts in (("..", "x"), ("sr", "../../x"), ("/tmp/x",), ()):
        with pytest.raises(SrbenchError, match="outside the run folder"):
            inside(root, *parts)
    (root / "sr").symlink_to(tmp_path)  # a link inside the run that points out of it
    with pytest.raises(SrbenchError, match="outside the run folder"):
        inside(root, "sr", "x.png")
