"""A study cell of one seed reads ``21.11 (1 seed)``, not ``21.11 +- -``."""

from __future__ import annotations

from pathlib import Path

from srbench_eval.runs.results import ImageValue
from srbench_eval.studies.table import StudyResult, render_table, seed_summaries
from tests.test_study import tiny_study


def test_one_seed_cell_has_no_spread(tmp_path: Path) -> None:
    rows = {("srcnn", 0): [ImageValue("srcnn", "d", 4, f"i{k}", "psnr", 21.0 + 0.11 * k) for k in range(3)]}
    rows[("srcnn-fdl", 0)] = [ImageValue("srcnn-fdl", "d", 4, "i0", "psnr", 22.0)]
    rows[("srcnn-fdl", 1)] = [ImageValue("srcnn-fdl", "d", 4, "i0", "psnr", 23.0)]
    summaries = seed_summaries(rows, ["srcnn", "srcnn-fdl"])
    table = render_table(tiny_study(tmp_path), StudyResult(summaries, []), [0, 1])
    assert "| srcnn | d | psnr | 21.11 (1 seed) |" in table and "+- -" not in table
    assert "| srcnn-fdl | d | psnr | 22.50 +- 0.71 |" in table
