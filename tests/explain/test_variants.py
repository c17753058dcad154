"""The new single-field variants (``y=yiq``, ``y=bt601-64.738``, ``y=rgb``) against transcriptions of
each tool's formula, written here from the tools' code, not from the library's."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from srbench_eval.color import luma
from srbench_eval.metrics import MetricSettings
from srbench_eval.metrics.fidelity import PSNR, SSIM
from srbench_eval.protocol import resolve


def _images(seed: int = 0, shape: tuple[int, int] = (48, 40)) -> tuple[np.ndarray, np.ndarray]:
    """A (1, 3, H, W) float32 HR batch of 0..255 integers and a noisy, rounded SR of it."""
    rng = np.random.default_rng(seed)
    hr = rng.integers(0, 256, (1, 3, *shape)).astype(np.float32)
    sr = np.clip(hr + rng.normal(0, 9, hr.shape), 0, 255).round().astype(np.float32)
    return sr, hr


def _score(metric: type, sets: list[str], sr: np.ndarray, hr: np.ndarray, scale: int = 4) -> float:
    m = metric(MetricSettings(scale, resolve("matlab", sets)))
    return float(m.score(sr, hr, m.reference(hr))[0])


def _hwc(x: np.ndarray) -> np.ndarray:
    return x[0].transpose(1, 2, 0).astype(np.float64)


def pyiqa_psnry(sr: np.ndarray, hr: np.ndarray) -> float:
    """pyiqa ``psnr(x, y, test_y_channel=True, data_range=1.0, eps=1e-8, color_space='yiq')``:
    images in [0, 1], ``rgb2yiq`` (``x @ [[0.299, 0.587, 0.114], ...]^T``), channel 0, no crop,
    ``10 log10(1 / (mse + eps))``."""
    yiq = np.array([[0.299, 0.587, 0.114], [0.5959, -0.2746, -0.3213], [0.2115, -0.5227, 0.3112]])
    a, b = (_hwc(x) / 255.0 @ yiq.T for x in (sr, hr))
    mse = np.mean((a[..., 0] - b[..., 0]) ** 2)
    return float(10 * np.log10(1.0 / (mse + 1e-8)))


def super_image_psnr(sr: np.ndarray, hr: np.ndarray, scale: int) -> float:
    """super-image ``convert_rgb_to_y`` (``16 + (64.738 R + 129.057 G + 25.064 B) / 256`` on 0..255) and
    ``calc_psnr`` (``10 log10(255^2 / mean((a - b)^2))``) on the ``scale``-cropped images."""

    def y(x: np.ndarray) -> np.ndarray:
        img = _hwc(x)
        return 16.0 + (64.738 * img[..., 0] + 129.057 * img[..., 1] + 25.064 * img[..., 2]) / 256.0

    a, b = (y(x)[scale:-scale, scale:-scale] for x in (sr, hr))
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


def rgb_psnr(sr: np.ndarray, hr: np.ndarray, crop: int) -> float:
    """PSNR over the three channels (mmagic's EDSR table, NTIRE 2017 with ``crop = scale + 6``)."""
    a, b = (_hwc(x)[crop:-crop, crop:-crop] if crop else _hwc(x) for x in (sr, hr))
    return float(10 * np.log10(255.0**2 / np.mean((a - b) ** 2)))


def test_yiq_is_pyiqa_psnry() -> None:
    """pyiqa's eps (1e-8 on [0, 1]) is the only difference: below 1e-4 dB at these errors."""
    sr, hr = _images()
    ours = _score(PSNR, ["y=yiq", "crop_border=0"], sr, hr)
    assert ours == pytest.approx(pyiqa_psnry(sr, hr), abs=1e-4)
    assert ours != pytest.approx(_score(PSNR, ["crop_border=0"], sr, hr), abs=0.1)  # not the BT.601 Y


def test_bt601_64738_is_super_image() -> None:
    sr, hr = _images(1)
    assert _score(PSNR, ["y=bt601-64.738"], sr, hr) == pytest.approx(super_image_psnr(sr, hr, 4), abs=1e-10)
    plane = luma(hr, "bt601-64.738")
    assert plane.shape == (1, 1, *hr.shape[-2:])
    assert float(plane[0, 0, 0, 0]) == pytest.approx(
        16 + (64.738 * hr[0, 0, 0, 0] + 129.057 * hr[0, 1, 0, 0] + 25.064 * hr[0, 2, 0, 0]) / 256, abs=1e-12
    )


@pytest.mark.parametrize("crop", [0, 4, 10])
def test_rgb_psnr_is_over_the_three_channels(crop: int) -> None:
    sr, hr = _images(2)
    assert _score(PSNR, ["y=rgb", f"crop_border={crop}"], sr, hr) == pytest.approx(
        rgb_psnr(sr, hr, crop), abs=1e-10
    )


def test_rgb_ssim_is_the_mean_over_channels_of_skimage_gaussian_ssim() -> None:
    """skimage's ``structural_similarity`` with Wang's settings (Gaussian sigma 1.5, population
    moments, L = 255) per channel; its map is cropped to the 'valid' part as ``ssim_index.m``'s."""
    sr, hr = _images(3)
    a, b = (_hwc(x)[4:-4, 4:-4] for x in (sr, hr))
    per_channel = []
    for c in range(3):
        _, full = structural_similarity(
            a[..., c],
            b[..., c],
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
            full=True,
        )
        per_channel.append(full[5:-5, 5:-5].mean())
    assert _score(SSIM, ["y=rgb"], sr, hr) == pytest.approx(float(np.mean(per_channel)), abs=1e-9)
    matlab = _score(SSIM, ["y=rgb", "ssim=matlab"], sr, hr)
    assert matlab != pytest.approx(np.mean(per_channel), abs=1e-6)  # the built-in ssim: full image


def test_grey_images_are_their_own_plane_under_every_rule() -> None:
    sr, hr = (x[:, :1] for x in _images(4))
    base = _score(PSNR, [], sr, hr)
    for rule in ("yiq", "bt601-64.738", "rgb"):
        assert _score(PSNR, [f"y={rule}"], sr, hr) == pytest.approx(base, abs=1e-10), rule
