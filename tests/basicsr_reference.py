"""An independent NumPy transcription of BasicSR's evaluation pipeline, for the ``basicsr`` protocol's tests.

Written from BasicSR's documented behaviour (``basicsr/utils/matlab_functions.py``,
``basicsr/metrics/psnr_ssim.py``, ``basicsr/metrics/metric_util.py``), without importing BasicSR and
without the library's code (:mod:`srbench_eval.data.degrade.bicubic`, :mod:`srbench_eval.metrics.fidelity`):

* images are read with ``cv2.imread(path)`` (BGR, a grey file comes back as three equal channels);
* ``imresize``: BasicSR's MATLAB-like resize: per output sample ``p = ceil(width) + 2`` taps from
  ``floor(u - width / 2)``, normalised cubic weights, the first / last tap column dropped when it
  holds a zero; the image is padded once by flipped copies of its edges (symmetric, edge repeated)
  and every output sample is the dot product of its weights with a *contiguous* window of the
  padded input; height first, then width. Computed in float64 here (BasicSR's torch version runs in
  float32; the protocol follows the MATLAB-made LR files, double rounded once);
* LR ``= round(clip(imresize(HR, 1/s)))``; the bicubic SR ``= round(clip(imresize(LR, s)))``;
* ``to_y_channel``: ``img.astype(float32) / 255``, ``bgr2ycbcr(y_only=True)`` =
  ``dot(img, [24.966, 128.553, 65.481]) + 16`` then ``/ 255`` as float32, times 255 (float32);
* ``calculate_psnr`` / ``calculate_ssim`` with ``crop_border`` and ``test_y_channel``: crop, Y, float64;
  PSNR ``10 log10(255^2 / mean((a - b)^2))``; SSIM ``_ssim``: ``cv2.filter2D`` with the 11x11 Gaussian
  (sigma 1.5), the 'valid' part ``[5:-5, 5:-5]``, C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, mean of the map.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return (1.5 * ax**3 - 2.5 * ax**2 + 1) * (ax <= 1) + (-0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2) * (
        (ax > 1) & (ax <= 2)
    )


def weights_indices(in_length: int, out_length: int, scale: float) -> tuple[np.ndarray, np.ndarray, int, int]:
    """BasicSR's ``calculate_weights_indices``: weights ``(out, k)``, first window index of each output
    sample in the padded input, and the padding before / after."""
    width = 4.0 / scale if scale < 1 else 4.0
    u = np.linspace(1, out_length, out_length) / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    p = math.ceil(width) + 2
    indices = left[:, None] + np.arange(p)[None, :]
    dist = u[:, None] - indices
    weights = scale * _cubic(dist * scale) if scale < 1 else _cubic(dist)
    weights = weights / weights.sum(axis=1, keepdims=True)
    zeros = (weights == 0).sum(axis=0)
    if zeros[0] != 0:
        indices, weights = indices[:, 1:], weights[:, 1:]
    if zeros[-1] != 0:
        indices, weights = indices[:, :-1], weights[:, :-1]
    pad_start = int(-indices.min() + 1)
    pad_end = int(indices.max() - in_length)
    return weights, (indices[:, 0] + pad_start - 1).astype(np.int64), pad_start, max(pad_end, 0)


def _pad_symmetric(x: np.ndarray, before: int, after: int, axis: int) -> np.ndarray:
    n = x.shape[axis]
    head = np.flip(np.take(x, range(0, before), axis=axis), axis=axis)
    tail = np.flip(np.take(x, range(n - after, n), axis=axis), axis=axis)
    return np.concatenate([head, x, tail], axis=axis)


def _resize_axis(x: np.ndarray, scale: float, axis: int) -> np.ndarray:
    n = x.shape[axis]
    out_length = math.ceil(n * scale)
    weights, first, before, after = weights_indices(n, out_length, scale)
    padded = np.moveaxis(_pad_symmetric(x, before, after, axis), axis, 0)
    k = weights.shape[1]
    out = np.empty((out_length, *padded.shape[1:]))
    for i in range(out_length):
        window = padded[first[i] : first[i] + k]
        out[i] = np.tensordot(weights[i], window, axes=(0, 0))
    return np.moveaxis(out, 0, axis)


def imresize(img: np.ndarray, scale: float) -> np.ndarray:
    """BasicSR ``imresize`` of an ``(H, W, C)`` array (float64 here): height, then width."""
    x = np.asarray(img, dtype=np.float64)
    return _resize_axis(_resize_axis(x, scale, 0), scale, 1)


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)  # values never sit on .5 after the resize


def to_y_channel(img: np.ndarray) -> np.ndarray:
    """BasicSR's ``to_y_channel`` of a BGR 0..255 image: float32 Y in 0..255, not rounded."""
    x = img.astype(np.float32) / 255.0
    y = np.dot(x, [24.966, 128.553, 65.481]) + 16.0
    y = (y / 255.0).astype(np.float32)
    return y * 255.0


def calculate_psnr(a: np.ndarray, b: np.ndarray, crop_border: int) -> float:
    a = to_y_channel(a[crop_border:-crop_border, crop_border:-crop_border]).astype(np.float64)
    b = to_y_channel(b[crop_border:-crop_border, crop_border:-crop_border]).astype(np.float64)
    mse = np.mean((a - b) ** 2)
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 * 255.0 / mse)


def calculate_ssim(a: np.ndarray, b: np.ndarray, crop_border: int) -> float:
    a = to_y_channel(a[crop_border:-crop_border, crop_border:-crop_border]).astype(np.float64)
    b = to_y_channel(b[crop_border:-crop_border, crop_border:-crop_border]).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    kernel = cv2.getGaussianKernel(11, 1.5)
    window = np.outer(kernel, kernel.transpose())
    mu1 = cv2.filter2D(a, -1, window)[5:-5, 5:-5]
    mu2 = cv2.filter2D(b, -1, window)[5:-5, 5:-5]
    s1 = cv2.filter2D(a**2, -1, window)[5:-5, 5:-5] - mu1**2
    s2 = cv2.filter2D(b**2, -1, window)[5:-5, 5:-5] - mu2**2
    s12 = cv2.filter2D(a * b, -1, window)[5:-5, 5:-5] - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))
    return float(ssim_map.mean())


def bicubic_scores(path: Path | None, scale: int, img: np.ndarray | None = None) -> tuple[float, float]:
    """(PSNR, SSIM) of BasicSR's bicubic baseline on one HR file (or a BGR uint8 array)."""
    hr = cv2.imread(str(path)) if img is None else img
    h, w = hr.shape[:2]
    hr = hr[: h - h % scale, : w - w % scale]
    lr = to_uint8(imresize(hr, 1 / scale))
    sr = to_uint8(imresize(lr, scale))
    return calculate_psnr(sr, hr, scale), calculate_ssim(sr, hr, scale)
