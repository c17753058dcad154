"""Baseline comparison: tolerances, changes in either direction, missing values, round trips."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from srbench_eval.errors import SrbenchError
from srbench_eval.reports.regression import baseline_from_summary, compare, format_comparisons, load_baseline
from srbench_eval.runs.results import Summary, SummaryEntry

METRICS = {"psnr": {"label": "PSNR", "higher_is_better": True, "per_image": True, "decimals": 2}}


def _summary(**values: float) -> Summary:
    entries = [SummaryEntry("bicubic", d, 4, "psnr", v, 5) for d, v in values.items()]
    return Summary(entries, METRICS, {"git_commit": "abc"}, {"models": ["bicubic"], "scale": 4})


def test_round_trip_and_default_tolerance(tmp_path: Path) -> None:
    base = baseline_from_summary(_summary(set5=28.42, set14=math.inf))
    assert base.tolerances == {"psnr": 1e-3}  # a tenth of the last printed digit
    path = tmp_path / "b.json"
    path.write_text(base.to_json())
    again = load_baseline(path)
    assert again.entries == base.entries and again.run == base.run


@pytest.mark.parametrize(("value", "status"), [(28.4205, "ok"), (28.4189, "CHANGED"), (28.4215, "CHANGED")])
def test_change_in_either_direction_fails(value: float, status: str) -> None:
    base = baseline_from_summary(_summary(set5=28.42))
    (c,) = compare(base, _summary(set5=value))
    assert c.status == status


def test_missing_and_infinite_values() -> None:
    base = baseline_from_summary(_summary(set5=28.42, set14=math.inf))
    comps = compare(base, _summary(set14=math.inf))
    assert [c.status for c in comps] == ["MISSING", "ok"]
    assert "MISSING" in format_comparisons(comps)


def test_bad_baseline_file_is_one_line_error(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(SrbenchError, match="not a srbench-eval baseline"):
        load_baseline(p)
    with pytest.raises(SrbenchError, match="not found"):
        load_baseline(tmp_path / "missing.json")
