"""The registered RealSR V3 entries in their archive's layout (issue 22): ``RealSR(V3)/Canon/Test/4``
holds ``Canon_NNN_HR.png`` beside ``Canon_NNN_LR4.png``; V3's LR is at the LR resolution (the
authors' README), a V1/V2-style copy has it at the HR's size: both run under ``--protocol realsr``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from srbench_eval.data.io.images import read_image, write_image
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation import RunConfig
from srbench_eval.evaluation.loop import run_evaluation

RNG = np.random.default_rng(3)


def _mirror(root: Path, lr_at_hr_size: bool) -> Path:
    folder = root / "RealSR(V3)" / "Canon" / "Test" / "4"
    folder.mkdir(parents=True)
    for k in (1, 2):
        hr = RNG.integers(0, 256, (98, 121, 3), dtype=np.uint8)  # mod-crop 4: 96x120
        write_image(folder / f"Canon_00{k}_HR.png", hr)
        lr = hr if lr_at_hr_size else hr[:96:4, :120:4]
        write_image(folder / f"Canon_00{k}_LR4.png", lr)
    return folder


def _config(mirror: Path, models: tuple[str, ...], scale: int = 4) -> RunConfig:
    return RunConfig(
        models=models,
        datasets=("realsr-canon-x4",),
        scale=scale,
        metrics=("psnr", "ssim"),
        protocol="realsr",
        mirror=str(mirror),
    )


def test_v3_layout_hr_and_lr_side_by_side(tmp_path: Path) -> None:
    _mirror(tmp_path / "m", lr_at_hr_size=False)
    summary = run_evaluation(_config(tmp_path / "m", ("bicubic",)), tmp_path / "out", progress=False)
    rows = (tmp_path / "out" / "results.csv").read_text().splitlines()[1:]
    assert sorted({r.split(",")[3] for r in rows}) == ["Canon_001_HR", "Canon_002_HR"]  # no LR4 as HR
    assert {e.n_samples for e in summary.entries} == {2}
    with pytest.raises(
        SrbenchError, match=r"realsr-canon-x4 provides no LR images at x2 \(its LR scales: x4\)"
    ):
        run_evaluation(_config(tmp_path / "m", ("bicubic",), 2), tmp_path / "x2", progress=False)


def test_a_copy_with_lr_at_the_hr_size_is_registered_at_one_size(tmp_path: Path) -> None:
    folder = _mirror(tmp_path / "m", lr_at_hr_size=True)
    sr = tmp_path / "sr"
    sr.mkdir()
    for k in (1, 2):  # a size-keeping "model": the LR itself, mod-cropped
        lr = read_image(folder / f"Canon_00{k}_LR4.png")
        write_image(sr / f"Canon_00{k}_HR.png", lr[:96, :120])
    summary = run_evaluation(_config(tmp_path / "m", (f"lr={sr}",)), tmp_path / "out", progress=False)
    assert {e.n_samples for e in summary.entries} == {2}
    psnr = next(e.value for e in summary.entries if e.metric == "psnr")
    assert psnr == float("inf")  # SR = LR = HR here: identical planes
    with pytest.raises(
        SrbenchError, match=r"model .bicubic. returned \(1, 3, 384, 480\) .* expected \(1, 3, 96, 120\)"
    ):
        run_evaluation(_config(tmp_path / "m", ("bicubic",)), tmp_path / "bic", progress=False)
