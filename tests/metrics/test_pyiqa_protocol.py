"""The ``pyiqa`` and ``pyiqa-ycbcr`` profiles against pyiqa's own per-image values.

``tests/data/pyiqa_reference.json`` holds what pyiqa 0.1.16's ``PSNR(test_y_channel=True,
color_space=cs)`` and ``SSIM(color_space=cs)`` gave on float32 tensors of RCAN's Set5 x4 images,
RDN's BD Set5 x3 images and bicubic Set14 x4 images (``benchmarks/check_pyiqa.py`` made it from the
unzipped wheel; pyiqa is not installed here). ``run`` reproduces every SSIM bit for bit and every
PSNR to pyiqa's float32 round-off (``psnr64``: pyiqa's PSNR of the same tensors in float64).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from srbench_eval.cli import main
from srbench_eval.color import luma, pyiqa_luma
from srbench_eval.explain.conventions import candidates
from srbench_eval.metrics import MetricSettings
from srbench_eval.metrics.fidelity import PSNR, SSIM
from srbench_eval.metrics.fidelity_pyiqa import pyiqa_window
from srbench_eval.protocol import resolve
from tests.conftest import SHARED

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "pyiqa_reference.json"
BENCH = SHARED / "benchmarks"
PUBLISHED = SHARED / "oracles" / "published_sr"
requires_pairs = pytest.mark.skipif(
    not (PUBLISHED / "RCAN").is_dir() or not BENCH.is_dir(),
    reason=f"{SHARED} is absent (benchmark HR mirror and published SR images)",
)
PSNR_FLOAT32 = 5e-6  # pyiqa's float32 MSE mean and log10: up to 2.3e-6 dB measured
PSNR_FLOAT64 = 5e-7  # pyiqa in float64 takes Y in float64 of the float32 inputs: up to 2.2e-7 dB
SSIM_EXACT = 1e-9  # measured equal to the last bit


def _reference() -> dict:
    return json.loads(REFERENCE.read_text())


def _run(args: list[str], out: Path) -> dict[str, dict[str, float]]:
    assert main(["run", "--quiet", "--device", "cpu", "--out", str(out), *args]) == 0
    scores: dict[str, dict[str, float]] = {}
    with open(out / "results.csv", newline="") as f:
        for row in csv.DictReader(f):
            scores.setdefault(row["image"], {})[row["metric"]] = float(row["value"])
    return scores


def _cases(tmp: Path) -> dict[str, list[str]]:
    hr = tmp / "Set14" / "HR"
    hr.mkdir(parents=True)
    for name in _reference()["values"]["pyiqa"]["bicubic/Set14/x4"]:
        shutil.copy(BENCH / "Set14" / "HR" / f"{name}.png", hr / f"{name}.png")
    set5 = str(BENCH / "Set5" / "HR")
    return {
        "RCAN/Set5/x4": ["--models", f"RCAN={PUBLISHED / 'RCAN' / 'x4'}", "--datasets", set5, "--scale", "4"],
        "RDN-BD/Set5/x3": [
            "--models",
            f"RDN={PUBLISHED / 'RDN-BD' / 'x3'}",
            "--datasets",
            set5,
            "--scale",
            "3",
        ],
        "bicubic/Set14/x4": ["--models", "bicubic", "--datasets", str(hr), "--scale", "4"],
    }


def test_the_reference_records_its_source() -> None:
    data = _reference()
    assert data["pyiqa_version"] == "0.1.16" and data["color_space"] == {
        "pyiqa": "yiq",
        "pyiqa-ycbcr": "ycbcr",
    }
    counts = [len(images) for images in data["values"]["pyiqa"].values()]
    assert counts == [5, 5, 4]


@requires_pairs
@pytest.mark.parametrize("profile", ["pyiqa", "pyiqa-ycbcr"])
def test_run_equals_pyiqa_per_image(profile: str, tmp_path: Path) -> None:
    reference = _reference()["values"][profile]
    seen = 0
    for case, args in _cases(tmp_path).items():
        ours = _run([*args, "--protocol", profile], tmp_path / case.replace("/", "-"))
        for image, theirs in reference[case].items():
            assert ours[image]["ssim"] == pytest.approx(theirs["ssim"], abs=SSIM_EXACT), (case, image)
            assert ours[image]["psnr"] == pytest.approx(theirs["psnr"], abs=PSNR_FLOAT32), (case, image)
            assert ours[image]["psnr"] == pytest.approx(theirs["psnr64"], abs=PSNR_FLOAT64), (case, image)
            seen += 1
    assert seen == 14


def _pair(case: str, image: str) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    model, _, scale = case.split("/")
    sr = np.asarray(Image.open(PUBLISHED / model / scale / f"{image}_{model.split('-')[0]}_{scale}.png"))
    hr = np.asarray(Image.open(BENCH / "Set5" / "HR" / f"{image}.png"))[: sr.shape[0], : sr.shape[1]]
    return tuple(np.ascontiguousarray(a.transpose(2, 0, 1)[None], dtype=np.float64) for a in (sr, hr))


@requires_pairs
def test_what_each_pyiqa_detail_is_worth() -> None:
    """Each of pyiqa's details moves a value past the tolerances above: the float32 Y plane (SSIM's
    ties of ``Y * 255``), the eps of its PSNR, and the +1.3 dB of YIQ's Y over BT.601's."""
    reference = _reference()["values"]
    sr, hr = _pair("RCAN/Set5/x4", "bird")
    theirs = reference["pyiqa"]["RCAN/Set5/x4"]["bird"]

    def score(metric: type, *sets: str) -> float:
        return float(metric(MetricSettings(4, resolve("pyiqa", list(sets)))).score(sr, hr)[0])

    assert score(SSIM) == pytest.approx(theirs["ssim"], abs=SSIM_EXACT)
    assert abs(score(SSIM, "y=yiq") - theirs["ssim"]) > 5e-7  # exact YIQ rounds ties otherwise: 8.8e-7
    assert abs(score(PSNR, "psnr=plain") - theirs["psnr"]) > 5e-5  # no eps: 8e-5 dB higher
    assert abs(score(SSIM, "ssim=wang") - theirs["ssim"]) > 1e-4  # unrounded Y, Wang's window
    ycbcr = reference["pyiqa-ycbcr"]["RCAN/Set5/x4"]["bird"]["psnr"]
    assert 1.2 < ycbcr - theirs["psnr"] < 1.4


def test_pyiqa_luma_is_255_times_float32_y() -> None:
    rng = np.random.default_rng(22)
    x = rng.integers(0, 256, (1, 3, 17, 19)).astype(np.float64)
    yiq, ycbcr = pyiqa_luma(x, "pyiqa-yiq"), pyiqa_luma(x, "pyiqa-ycbcr")
    assert yiq.shape == (1, 1, 17, 19) and yiq.dtype == np.float64
    assert np.abs(yiq - luma(x, "yiq")).max() < 1e-4  # the float64 YIQ Y, up to float32 round-off
    assert np.abs(ycbcr - luma(x, "float")).max() < 1e-4
    v = (x.astype(np.float32) / np.float32(255)).astype(np.float32)
    assert np.array_equal(yiq / 255.0, (yiq / 255.0).astype(np.float32))  # a float32 value times 255
    assert np.abs(yiq / 255.0 - (v[:, 0] * 0.299 + v[:, 1] * 0.587 + v[:, 2] * 0.114)[:, None]).max() < 1e-6
    assert np.array_equal(pyiqa_luma(x[:, :1], "pyiqa-yiq"), x[:, :1])  # grey: its own Y


def test_pyiqa_window_and_psnr_eps() -> None:
    w = pyiqa_window()
    assert w.shape == (11, 11) and np.array_equal(w, w.astype(np.float32))
    assert abs(w.sum() - 1.0) < 1e-7 and w[5, 5] == w.max()
    x = np.full((1, 3, 16, 16), 100.0)
    settings = MetricSettings(4, resolve("pyiqa"))
    assert float(PSNR(settings).score(x, x)[0]) == pytest.approx(80.0, abs=1e-12)  # 10 log10(1 / 1e-8)
    assert float(PSNR(MetricSettings(4, resolve("pyiqa", ["psnr=plain"]))).score(x, x)[0]) == np.inf
    assert float(SSIM(settings).score(x, x)[0]) == pytest.approx(1.0, abs=1e-12)


def test_explain_tries_both_pyiqa_profiles() -> None:
    names = [c.name for c in candidates(4, runs_model=False)]
    assert "pyiqa" in names and "pyiqa-ycbcr" in names
    assert resolve("pyiqa").describe(4).endswith("crop 0, PSNR with pyiqa's eps 1e-8")
