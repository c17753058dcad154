"""``run --protocol realsr`` end to end (issue 22): RealSR's ``Test/Test.m`` on synthetic captured
pairs (LR registered at the HR's size), PSNR/SSIM averaged over ``im2patch``'s 1200x1200 patches
(stride 800) of every image, checked against a transcription of ``Test.m`` + ``Cal_PSNRSSIM.m``; and
LPIPS, DISTS and NIQE on such pairs (stand-in weights, the published NIQE model)."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from srbench_eval import weights
from srbench_eval.color import luma
from srbench_eval.data.io.images import read_image, write_image
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation import RunConfig
from srbench_eval.evaluation.loop import run_evaluation
from srbench_eval.metrics import MetricSettings, get_metric
from srbench_eval.metrics.fidelity import ssim
from srbench_eval.protocol import PROFILES
from srbench_eval.reports.tables import build_table
from tests.data.test_paired import _patch_location
from tests.metrics.oracles import IQA

RNG = np.random.default_rng(1200)
PRISTINE = IQA / "niqe_pris_params.npz"


def _smooth(h: int, w: int) -> np.ndarray:
    """An image with structure (so SSIM is not ~0): a blurred random field plus a ramp."""
    base = RNG.normal(0, 1, (h // 8 + 2, w // 8 + 2, 3))
    up = np.kron(base, np.ones((8, 8, 1)))[:h, :w]
    ramp = np.linspace(0, 60, w)[None, :, None]
    return np.clip(128 + 40 * up + ramp - 30, 0, 255).round().astype(np.uint8)


def _noisy(img: np.ndarray, sigma: float) -> np.ndarray:
    return np.clip(img + RNG.normal(0, sigma, img.shape), 0, 255).round().astype(np.uint8)


def _pairs(root: Path, sizes: dict[str, tuple[int, int]]) -> tuple[Path, Path, Path]:
    """RealSR-style folders: HR ``NAME_HR.png``, LR ``NAME_LR4.png`` at the HR's size, SR files."""
    hr_dir, lr_dir, sr_dir = root / "HR", root / "LR", root / "SR"
    for d in (hr_dir, lr_dir, sr_dir):
        d.mkdir(parents=True)
    for name, (h, w) in sizes.items():
        hr = _smooth(h, w)
        write_image(hr_dir / f"{name}_HR.png", hr)
        write_image(lr_dir / f"{name}_LR4.png", _noisy(hr, 9))
        write_image(sr_dir / f"{name}_HR.png", _noisy(hr[: h // 4 * 4, : w // 4 * 4], 4))  # HR-sized SR
    return hr_dir, lr_dir, sr_dir


def _rgb2ycbcr_uint8(img: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2ycbcr`` of a ``uint8`` image, Y plane: the harness's ``rounded`` rule (checked
    against MATLAB's own output in the srcnn/selfexsr protocol tests)."""
    return luma(img.transpose(2, 0, 1)[None].astype(np.float64), "rounded")[0, 0]


def _test_m(hr: np.ndarray, lr: np.ndarray, sr: np.ndarray) -> list[tuple[float, float]]:
    """``Test.m``'s loop body for one image: modcrop(4), Y planes, ``im2patch`` when the LR is over
    1200 in both sides, ``Cal_PSNRSSIM(HR, SR, 0, 0)`` per patch (PSNR by hand, SSIM Wang's)."""
    hr, lr, sr = (x[: x.shape[0] // 4 * 4, : x.shape[1] // 4 * 4] for x in (hr, lr, sr))
    hr_y, sr_y = _rgb2ycbcr_uint8(hr), _rgb2ycbcr_uint8(sr)
    if lr.shape[0] > 1200 and lr.shape[1] > 1200:
        loc, n = _patch_location(lr.shape[:2], (1200, 1200), (800, 800))
        hr_p, sr_p = (y.flatten(order="F")[loc - 1] for y in (hr_y, sr_y))
    else:
        hr_p, sr_p, n = hr_y[:, :, None], sr_y[:, :, None], 1
    out = []
    for k in range(n):
        a, b = hr_p[:, :, k], sr_p[:, :, k]
        mse = np.mean((a - b) ** 2)
        out.append((10 * math.log10(255**2 / mse), float(ssim(b[None, None], a[None, None], 0)[0])))
    return out


def _rows(out: Path) -> dict[tuple[str, str, str], float]:
    rows = csv.DictReader((out / "results.csv").open())
    return {(r["model"], r["image"], r["metric"]): float(r["value"]) for r in rows}


def test_realsr_protocol_averages_over_im2patch_patches_end_to_end(tmp_path: Path) -> None:
    # 1250x2002: modcrop(4) 1248x2000, patch tops [0, 48], lefts [0, 800, 800] (the repeat kept)
    sizes = {"Canon_001": (1250, 2002), "Canon_002": (60, 72)}
    hr_dir, lr_dir, sr_dir = _pairs(tmp_path, sizes)
    config = RunConfig(
        models=(f"mine={sr_dir}",),
        datasets=(f"real={hr_dir}::{lr_dir}",),
        scale=4,
        metrics=("psnr", "ssim"),
        protocol="realsr",
    )
    summary = run_evaluation(config, tmp_path / "out", progress=False)
    assert summary.provenance["protocol"]["average"] == "realsr-patches"
    assert summary.provenance["protocol"]["lr_source"] == "given"
    expected = {}
    for name in sizes:
        files = (hr_dir / f"{name}_HR.png", lr_dir / f"{name}_LR4.png", sr_dir / f"{name}_HR.png")
        expected[name] = _test_m(*(read_image(f) for f in files))
    assert [len(v) for v in expected.values()] == [6, 1]
    rows = _rows(tmp_path / "out")
    for index, metric in enumerate(("psnr", "ssim")):
        every = [s[index] for scores in expected.values() for s in scores]
        entry = next(e for e in summary.entries if e.metric == metric)
        assert entry.n_samples == 7
        assert entry.value == pytest.approx(np.mean(every), abs=1e-9)  # mean(PSNRs) over all patches
        for name, scores in expected.items():
            mean = np.mean([s[index] for s in scores])  # the image's row: the mean of its patches
            assert rows[("mine", f"{name}_HR", metric)] == pytest.approx(mean, abs=1e-9)
    assert build_table([summary]).models == ("mine (LR given)",)  # the column says the LR was given
    per_image = np.mean([rows[("mine", f"{n}_HR", "psnr")] for n in sizes])
    assert abs(per_image - next(e.value for e in summary.entries if e.metric == "psnr")) > 1e-3


def test_realsr_profile_is_tests_m_conventions() -> None:
    p = PROFILES["realsr"]
    assert (p.y, p.crop(4), p.crop(2), p.ssim, p.lr_source, p.average) == (
        "rounded",
        0,
        0,
        "wang",
        "given",
        "realsr-patches",
    )
    assert "1200x1200 patches" in p.describe(4)
    metric = get_metric("psnr")(MetricSettings(4, p))
    metric.add_samples([30.0, 32.0, 34.0])
    metric.add_samples([40.0])
    assert metric.compute().value == 34.0 and metric.compute().n_samples == 4
    with pytest.raises(SrbenchError, match="sharded run .* cannot average over patches"):
        metric.set_values([32.0, 40.0])


def test_lpips_dists_niqe_on_same_size_pairs_under_realsr(tmp_path: Path, stand_in_weights) -> None:
    if not PRISTINE.is_file():
        pytest.skip(f"{PRISTINE} is absent")
    shutil.copyfile(PRISTINE, stand_in_weights("alexnet", "vgg16") / weights.get("niqe-pris").filename)
    hr_dir, lr_dir, sr_dir = _pairs(tmp_path, {"Nikon_001": (132, 140), "Nikon_002": (120, 128)})
    config = RunConfig(
        models=(f"mine={sr_dir}",),
        datasets=(f"real={hr_dir}::{lr_dir}",),
        scale=4,
        metrics=("psnr", "ssim", "lpips", "dists", "niqe"),
        protocol="realsr",
    )
    summary = run_evaluation(config, tmp_path / "out", progress=False)
    got = {e.metric: e for e in summary.entries}
    assert set(got) == {"psnr", "ssim", "lpips", "dists", "niqe"}
    assert all(math.isfinite(e.value) and e.n_samples == 2 for e in got.values())
    rows = _rows(tmp_path / "out")
    assert len(rows) == 10
    # the SR files are HR + noise: every full-reference metric sees a near, not equal, pair
    assert 30 < got["psnr"].value < 45
    assert got["lpips"].value > 0 and got["dists"].value > 0
