"""The ``liif`` profile against transcriptions of LIIF's test code (yinboc/liif ``test.py``,
``utils.calc_psnr``, ``datasets/wrappers.py`` ``SRImplicitDownsampled``/``resize_fn``), written here
from that code, not from the library's: sizes on odd images, the LR (Pillow's bicubic, checked against
torchvision's ``Resize`` where torchvision is importable), the paired scales, and the score."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from srbench_eval.cli import main
from srbench_eval.data.degrade.bicubic import quantise_sr
from srbench_eval.data.degrade.pil import pil_bicubic
from srbench_eval.data.pairs import make_pair
from srbench_eval.metrics import MetricSettings
from srbench_eval.metrics.fidelity import PSNR
from srbench_eval.protocol import resolve


def _png(tmp_path: Path, shape: tuple[int, ...], seed: int, name: str = "odd.png") -> Path:
    """A smooth-ish random RGB (or grey) image written as PNG."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    img = cv2.GaussianBlur(img, (5, 5), 1.0)
    path = tmp_path / name
    cv2.imwrite(str(path), img[..., ::-1] if img.ndim == 3 else img)
    return path


def liif_downsampled(img: np.ndarray, s: float) -> tuple[np.ndarray, tuple[int, int]]:
    """``SRImplicitDownsampled.__getitem__`` with ``inp_size = None``: the HR crop and the LR size."""
    h_lr = math.floor(img.shape[0] / s + 1e-9)
    w_lr = math.floor(img.shape[1] / s + 1e-9)
    return img[: round(h_lr * s), : round(w_lr * s)], (h_lr, w_lr)


def calc_psnr(sr: torch.Tensor, hr: torch.Tensor, scale: int) -> float:
    """``utils.calc_psnr(sr, hr, dataset='benchmark', scale=scale, rgb_range=1)``, (1, 3, H, W) in [0, 1]."""
    diff = sr - hr
    convert = diff.new_tensor([65.738, 129.057, 25.064]).view(1, 3, 1, 1) / 256
    diff = diff.mul(convert).sum(dim=1)
    valid = diff[..., scale:-scale, scale:-scale]
    return float(-10 * torch.log10(valid.pow(2).mean()))


@pytest.mark.parametrize(
    ("height", "width", "scale"), [(37, 29, 2.5), (41, 40, 6), (33, 35, 3.5), (50, 47, 8)]
)
def test_liif_pairs_on_odd_sizes(tmp_path: Path, height: int, width: int, scale: float) -> None:
    """Outside x2-x4: the HR cut to round(floor(h / s + 1e-9) s), the LR Pillow's bicubic of that cut."""
    path = _png(tmp_path, (height, width, 3), height * width)
    img = cv2.imread(str(path))[..., ::-1]
    crop, (h_lr, w_lr) = liif_downsampled(img, scale)
    pair = make_pair(path, scale, resolve("liif"), "cpu", host_arrays=True)
    assert pair.hr.shape[-2:] == crop.shape[:2] and pair.lr.shape[-2:] == (h_lr, w_lr)
    assert np.array_equal(pair.hr[0].transpose(1, 2, 0), crop)
    want = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((w_lr, h_lr), Image.BICUBIC))
    assert np.array_equal(pair.lr[0].transpose(1, 2, 0), want)


def test_pil_bicubic_is_torchvision_resize_fn() -> None:
    """``resize_fn`` (ToPILImage of ``uint8 / 255``, ``Resize(size, BICUBIC)``, ToTensor) equals Pillow's
    resize of the 8-bit image: ``float32(v / 255) * 255`` truncates back to ``v`` for every ``v``."""
    transforms = pytest.importorskip("torchvision.transforms")
    values = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(values.float().div(255).mul(255).byte(), values)
    rng = np.random.default_rng(5)
    for shape, size in (((37, 29, 3), (14, 11)), ((40, 41, 3), (6, 6)), ((25, 33, 3), (16, 22))):
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        t = transforms.ToTensor()(Image.fromarray(img))
        resized = transforms.Resize(size, transforms.InterpolationMode.BICUBIC)(transforms.ToPILImage()(t))
        ref = (transforms.ToTensor()(resized) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        assert np.array_equal(pil_bicubic(img, size), ref)


def test_paired_scales_take_the_matlab_lr(tmp_path: Path) -> None:
    """At x2/x3/x4 LIIF reads EDSR's MATLAB LR files: the ``matlab`` LR of the mod-cropped HR."""
    path = _png(tmp_path, (37, 29, 3), 7)
    for scale in (2, 3, 4):
        ours = make_pair(path, scale, resolve("liif"), "cpu", host_arrays=True)
        matlab = make_pair(path, scale, resolve("matlab"), "cpu", host_arrays=True)
        assert np.array_equal(ours.hr, matlab.hr) and np.array_equal(ours.lr, matlab.lr)
    assert resolve("liif").scale_rule(6) == "liif" and resolve("liif").scale_rule(2.5) == "liif"
    assert resolve("matlab").scale_rule(2.5) == "metasr" and resolve("metasr").scale_rule(2) == "metasr"


@pytest.mark.parametrize("scale", [2, 4, 6])
def test_score_is_liif_calc_psnr(scale: int) -> None:
    """PSNR under ``liif`` = ``calc_psnr(pred.clamp(0, 1), gt, 'benchmark', scale)``: Y weights
    65.738/129.057/25.064 over 256 of the difference, ``shave = scale``, the SR kept in float."""
    rng = np.random.default_rng(scale)
    hr = rng.integers(0, 256, (1, 3, 48, 40)).astype(np.float64)
    pred = (hr + rng.normal(0, 12, hr.shape)) / 255.0  # overshoots [0, 1]: the clamp matters
    protocol = resolve("liif")
    sr = quantise_sr(torch.from_numpy(pred * 255.0), protocol)
    metric = PSNR(MetricSettings(scale, protocol))
    hr32 = hr.astype(np.float32)
    ours = float(metric.score(sr.numpy(), hr32, metric.reference(hr32))[0])
    want = calc_psnr(torch.from_numpy(pred).clamp(0, 1), torch.from_numpy(hr / 255.0), scale)
    assert ours == pytest.approx(want, abs=1e-9)
    assert ours != pytest.approx(
        calc_psnr(torch.from_numpy(pred), torch.from_numpy(hr / 255.0), scale), abs=1e-3
    )


def test_run_bicubic_under_liif(tmp_path: Path) -> None:
    """``run --protocol liif`` at x2.5 and x6 on odd sizes: one results row per image, the HR LIIF cuts."""
    folder = tmp_path / "hr"
    folder.mkdir()
    for i, shape in enumerate(((61, 53, 3), (58, 67))):
        _png(folder, shape, 20 + i, f"im{i}.png")
    out = tmp_path / "run"
    argv = ["run", "--models", "bicubic", "--datasets", str(folder), "--scale", "2.5,6", "--protocol", "liif"]
    assert main([*argv, "--metrics", "psnr", "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2 and all(math.isfinite(float(r.split(",")[-1])) for r in rows[1:])
    assert "crop 3 at ×2.5, 6 at ×6, LIIF sizes" in (out / "table.md").read_text()  # the comma kept
