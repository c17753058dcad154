"""``run --scale 1.1:4.0:0.1``: one progress bar over every scale's images (not one per scale or per
dataset), whose total is scales x images; a resumed sweep counts the kept scale folders as done."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import cv2
import numpy as np

from srbench_eval.evaluation import RunConfig
from srbench_eval.evaluation.progress import SweepProgress, progress_steps
from srbench_eval.runs.multiscale import parse_scales, run_scales


def _folder(path: Path, n: int) -> Path:
    path.mkdir()
    rng = np.random.default_rng(n)
    for i in range(n):
        cv2.imwrite(str(path / f"im{i}.png"), rng.integers(0, 256, (30 + i, 34, 3), dtype=np.uint8))
    return path


def _sweep(out: Path, scales: tuple, datasets: str, runs: int) -> SweepProgress:
    bar = SweepProgress(runs, file=io.StringIO())
    config = RunConfig(
        models=("bicubic",),
        datasets=tuple(datasets.split(",")),
        scale=scales[0],
        metrics=("psnr",),
        device="cpu",
    )
    run_scales(config, scales, out, bar)
    return bar


def test_one_bar_over_every_scale_and_dataset(tmp_path: Path) -> None:
    a, b = _folder(tmp_path / "a", 3), _folder(tmp_path / "b", 2)
    scales = parse_scales("1.1:1.5:0.1")
    bar = _sweep(tmp_path / "sweep", scales, f"{a},{b}", len(scales))
    assert bar.bar.total == 5 * 5 and bar.bar.n == 25  # 5 scales x (3 + 2) images, one bar
    assert "25/25" in bar.file.getvalue()
    # interrupted: two scale folders and the merged files gone; the rerun's bar opens at x1.2 with
    # x1.1's 5 steps done, counts x1.3 and x1.4 as done when it reaches them, and computes 10 steps
    out = tmp_path / "sweep"
    for name in ("summary.json", "results.csv", "table.md", "table.tex"):
        (out / name).unlink()
    shutil.rmtree(out / "x1.2")
    shutil.rmtree(out / "x1.5")
    again = _sweep(out, scales, f"{a},{b}", len(scales))
    assert again.bar.total == 25 and again.bar.n == 25 and again.bar.initial == 5


def test_a_sweep_that_only_resumes_shows_no_bar(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", 2)
    out = tmp_path / "sweep"
    _sweep(out, (1.5, 2), str(a), 2)
    for name in ("summary.json", "results.csv", "table.md", "table.tex"):
        (out / name).unlink()
    assert _sweep(out, (1.5, 2), str(a), 2).bar is None  # nothing computed: no bar opened


def test_dataset_bars_outside_a_sweep() -> None:
    assert list(progress_steps(range(3), "set5 x4", False)) == [0, 1, 2]
    assert list(progress_steps(range(3), "set5 x4", True, shown=False)) == [0, 1, 2]
    sweep = SweepProgress(2, file=io.StringIO())
    sweep.begin(3, "x2")
    assert list(progress_steps(range(3), "set5 x2", sweep)) == [0, 1, 2] and sweep.bar.n == 3
    sweep.skip()
    assert sweep.bar.n == 6 == sweep.bar.total
