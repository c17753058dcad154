"""The SSIM kernels (:mod:`srbench_eval.metrics.fidelity_kernels`) give the bits of the kernels they
replaced (:mod:`tests.metrics.ssim_kernels_before`, a frozen copy): the cropped Y plane and the HR
moments bit for bit, and the same SSIM map sums, on grey and RGB, float32 and float64 images of odd,
tiny and narrow sizes, borders 0..4, the 11-tap window and other window sizes (the generic tap path)."""

from __future__ import annotations

import numpy as np
import pytest

from srbench_eval.metrics import fidelity_kernels
from srbench_eval.metrics.fidelity import SSIM_GAUSSIAN, Y_OFFSET, Y_WEIGHTS
from tests.metrics import ssim_kernels_before

C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

# (height, width, border): odd sizes, 11x11 and 12x13 after the crop, width < 16, several blocks
# of output rows with an odd last block (95 - 2 - 10 = 83 rows), every border 0..4
SIZES = [(19, 19, 4), (12, 13, 0), (53, 47, 3), (40, 15, 1), (95, 37, 1), (23, 70, 2), (31, 29, 0)]


def window(size: int) -> np.ndarray:
    """The SSIM window for 11 taps; a normalised Gaussian of ``size`` taps otherwise."""
    if size == 11:
        return SSIM_GAUSSIAN
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x * x) / (2 * 1.5**2))
    return g / g.sum()


def image_pair(
    channels: int, height: int, width: int, dtype: type, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """An 8-bit HR image and an SR image near it, not rounded (an SR image kept in float)."""
    rng = np.random.default_rng(seed)
    hr = np.round(rng.random((channels, height, width)) * 255)
    sr = np.clip(hr + rng.normal(0.0, 6.0, hr.shape), 0, 255)
    return hr.astype(dtype), sr.astype(dtype)


def moments_and_sum(module, sr, hr, border, g):  # noqa: ANN001, ANN201
    channels, height, width = hr.shape
    weights = np.array(Y_WEIGHTS if channels == 3 else (255.0,)) / 255.0
    offset = Y_OFFSET if channels == 3 else 0.0
    shape = (height - 2 * border, width - 2 * border)
    valid = (shape[0] - g.shape[0] + 1, shape[1] - g.shape[0] + 1)
    y, mu, sq = np.empty(shape), np.empty(valid), np.empty(valid)
    module.ssim_hr_moments(hr, border, weights, offset, g, y, mu, sq)
    total = module.ssim_sum(sr, border, weights, offset, g, y, mu, sq, C1, C2)
    return y, mu, sq, total


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [11, 7, 4])
def test_ssim_kernels_give_the_bits_of_the_previous_ones(channels: int, dtype: type, size: int) -> None:
    g = window(size)
    for k, (height, width, border) in enumerate(SIZES):
        hr, sr = image_pair(channels, height, width, dtype, seed=100 * channels + 10 * size + k)
        new = moments_and_sum(fidelity_kernels, sr, hr, border, g)
        old = moments_and_sum(ssim_kernels_before, sr, hr, border, g)
        for name, a, b in zip(("y", "mu", "sq"), new[:3], old[:3], strict=True):
            assert a.shape == b.shape, name
            assert np.array_equal(a.view(np.int64), b.view(np.int64)), (name, height, width, border)
        assert new[3] == old[3], (height, width, border)


def test_a_window_taller_than_a_block_of_rows() -> None:
    """A window of more rows than ``ssim_sum`` makes per block (its halo overlaps the block)."""
    g = window(35)
    hr, sr = image_pair(1, 120, 50, np.float64, seed=3)
    new = moments_and_sum(fidelity_kernels, sr, hr, 1, g)
    old = moments_and_sum(ssim_kernels_before, sr, hr, 1, g)
    assert all(
        np.array_equal(a.view(np.int64), b.view(np.int64)) for a, b in zip(new[:3], old[:3], strict=True)
    )
    assert new[3] == old[3]


def test_ssim_sum_takes_the_hr_moments_of_any_image() -> None:
    """The SR side against an HR side it did not make (the moments of another image): the same sum."""
    hr, sr = image_pair(3, 61, 44, np.float32, seed=5)
    other, _ = image_pair(3, 61, 44, np.float32, seed=6)
    new = moments_and_sum(fidelity_kernels, sr, hr, 2, SSIM_GAUSSIAN)
    y, mu, sq, _ = moments_and_sum(fidelity_kernels, sr, other, 2, SSIM_GAUSSIAN)
    weights = np.array(Y_WEIGHTS) / 255.0
    args = (sr, 2, weights, Y_OFFSET, SSIM_GAUSSIAN, y, mu, sq, C1, C2)
    assert fidelity_kernels.ssim_sum(*args) == ssim_kernels_before.ssim_sum(*args) != new[3]
