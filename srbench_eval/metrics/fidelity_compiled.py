"""The compiled CPU path of :mod:`srbench_eval.metrics.fidelity`, behind one test.

:mod:`~srbench_eval.metrics.fidelity` states PSNR, SSIM and Y as functions of tensors or NumPy
arrays. For NumPy arrays and CPU tensors that need no gradient
(:func:`srbench_eval.compiled.takes_compiled_path`) the same quantities come from the numba kernels
of :mod:`~srbench_eval.metrics.fidelity_kernels`, image by image, without the intermediate images.
Each function here takes either and returns NumPy arrays of what its tensor twin returns; the tests
hold the two equal (``tests/metrics/test_fidelity.py``). No torch is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from srbench_eval.compiled import as_array as _images
from srbench_eval.metrics import fidelity_kernels

if TYPE_CHECKING:
    import torch

    Image = np.ndarray | torch.Tensor


def y_weights(channels: int, weights: tuple[float, float, float], data_range: float) -> np.ndarray:
    """The luma weights / 255 of an RGB image, or ``(1,)`` for a grey image (its own Y)."""
    return np.array(weights if channels == 3 else (data_range,), dtype=np.float64) / data_range


def luma_float32(x: Image) -> np.ndarray:
    """BasicSR's float32 Y (:func:`srbench_eval.color.luma` ``float32``) of an
    ``(N, 3, H, W)`` batch: ``(N, 1, H, W)`` float64."""
    out = np.empty((x.shape[0], 1, *x.shape[2:]))
    for k, image in enumerate(_images(x)):
        fidelity_kernels.luma_float32(image, out[k, 0])
    return out


def squared_y_error_sums(sr: Image, hr: Image, crop_border: int, weights: np.ndarray) -> np.ndarray:
    """Per image ``sum over the cropped pixels of (Y(sr) - Y(hr))^2`` (float64, ``(N,)``)."""
    sums = [
        fidelity_kernels.squared_y_error(a, b, crop_border, weights)
        for a, b in zip(_images(sr), _images(hr), strict=True)
    ]
    return np.array(sums, dtype=np.float64)


def ssim_hr_moments(
    hr: Image,
    crop_border: int,
    shape: tuple[int, int],
    weights: np.ndarray,
    offset: float,
    g: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cropped Y planes of ``hr`` ``(N, H, W)`` and their local means E[b], E[b^2] ('valid')."""
    n, size = hr.shape[0], g.shape[0]
    valid = (shape[0] - size + 1, shape[1] - size + 1)
    y, mu, sq = np.empty((n, *shape)), np.empty((n, *valid)), np.empty((n, *valid))
    for k, image in enumerate(_images(hr)):
        fidelity_kernels.ssim_hr_moments(image, crop_border, weights, offset, g, y[k], mu[k], sq[k])
    return y, mu, sq


def ssim_sums(
    sr: Image,
    crop_border: int,
    weights: np.ndarray,
    offset: float,
    g: np.ndarray,
    reference: tuple[Image, Image, Image],
    c1: float,
    c2: float,
) -> np.ndarray:
    """Per image the sum of the SSIM map of ``Y(sr)`` against the HR moments ``(y, mu, sq)``."""
    y_hr, mu_hr, sq_hr = (_images(t) for t in reference)
    sums = [
        fidelity_kernels.ssim_sum(image, crop_border, weights, offset, g, y_hr[k], mu_hr[k], sq_hr[k], c1, c2)
        for k, image in enumerate(_images(sr))
    ]
    return np.array(sums, dtype=np.float64)


__all__ = ["luma_float32", "squared_y_error_sums", "ssim_hr_moments", "ssim_sums", "y_weights"]
