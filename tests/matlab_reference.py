"""Plain NumPy reference implementations of the protocol's numerics, for tests and benchmarks only.

Written independently of the library (``srbench_eval.data.degrade.bicubic`` and
``srbench_eval.metrics.fidelity``) so that each can check the other:

* :func:`imresize` follows MATLAB's ``imresize.m`` literally: ``contributions()`` builds, for every
  output sample, the weights and 1-based input indices of its neighbours (with the mirrored index
  table ``aux = [1:n, n:-1:1]``), then the dimension with the smaller scale is resized first. Where
  the library gathers taps in torch, this reference scatters the weights into a dense matrix and
  multiplies.
* :func:`rgb_to_y`, :func:`psnr` and :func:`ssim` follow MATLAB ``rgb2ycbcr`` and the ``ssim_index.m``
  of Wang et al. (2004), with the Gaussian window applied by ``cv2.filter2D`` and only the 'valid'
  region kept.
* :func:`evaluate_bicubic` runs the whole bicubic-baseline protocol on one HR image, per image,
  the slow obvious way.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def cubic(x: np.ndarray) -> np.ndarray:
    """MATLAB's ``cubic`` kernel (Keys, a = -0.5), written as in ``imresize.m``."""
    absx = np.abs(x)
    absx2 = absx**2
    absx3 = absx**3
    return (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1) + (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * (
        (absx > 1) & (absx <= 2)
    )


def contributions(
    in_length: int, out_length: int, scale: float, kernel_width: float = 4.0, antialiasing: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB ``contributions()``: weights ``(out, P)`` and 1-based input indices ``(out, P)``."""
    if scale < 1 and antialiasing:

        def h(x: np.ndarray) -> np.ndarray:
            return scale * cubic(scale * x)

        kernel_width = kernel_width / scale
    else:
        h = cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)[:, None]
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    p = math.ceil(kernel_width) + 2
    indices = left + np.arange(p)[None, :]
    weights = h(u - indices)
    weights = weights / weights.sum(axis=1, keepdims=True)
    aux = np.concatenate([np.arange(1, in_length + 1), np.arange(in_length, 0, -1)])
    indices = aux[np.mod(indices.astype(np.int64) - 1, aux.size)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def resize_matrix(in_length: int, out_length: int, scale: float) -> np.ndarray:
    """Dense ``(out, in)`` matrix of one 1-D MATLAB bicubic resize."""
    weights, indices = contributions(in_length, out_length, scale)
    mat = np.zeros((out_length, in_length))
    rows = np.repeat(np.arange(out_length), weights.shape[1])
    np.add.at(mat, (rows, indices.ravel() - 1), weights.ravel())
    return mat


def imresize(img: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB ``imresize(img, scale, 'bicubic')`` on a float ``(H, W)`` or ``(H, W, C)`` array.

    Returns float64, neither rounded nor clipped (MATLAB on a ``double`` input).
    """
    img = np.asarray(img, dtype=np.float64)
    h, w = img.shape[:2]
    out_h, out_w = math.ceil(h * scale), math.ceil(w * scale)
    mat_h = resize_matrix(h, out_h, scale)
    mat_w = resize_matrix(w, out_w, scale)
    # Equal scales: MATLAB sorts the scales (stable), so dimension 1 (rows) goes first.
    out = np.tensordot(mat_h, img, axes=(1, 0))
    out = np.tensordot(mat_w, out, axes=(1, 1))  # (out_w, out_h, ...)
    return np.swapaxes(out, 0, 1)


def imresize_uint8(img: np.ndarray, scale: float) -> np.ndarray:
    """``imresize`` of a ``uint8`` array the way MATLAB's MEX kernel runs it: every 1-D pass returns
    the input's class, so the image is rounded and saturated to ``uint8`` after each pass."""
    h, w = img.shape[:2]
    mat_h = resize_matrix(h, math.ceil(h * scale), scale)
    mat_w = resize_matrix(w, math.ceil(w * scale), scale)
    out = to_uint8(np.tensordot(mat_h, img.astype(np.float64), axes=(1, 0)))
    out = to_uint8(np.tensordot(mat_w, out.astype(np.float64), axes=(1, 1)))
    return np.ascontiguousarray(np.swapaxes(out, 0, 1))


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Round half away from zero and saturate, as MATLAB's conversion to ``uint8``."""
    return np.clip(np.floor(np.asarray(img, dtype=np.float64) + 0.5), 0, 255).astype(np.uint8)


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    h, w = img.shape[:2]
    return img[: h // scale * scale, : w // scale * scale]


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2ycbcr`` luma of an ``(H, W, 3)`` RGB 0..255 image, unrounded; grey returned as is."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 2:
        return img
    r, g, b = img[..., 0] / 255.0, img[..., 1] / 255.0, img[..., 2] / 255.0
    return 16.0 + 65.481 * r + 128.553 * g + 24.966 * b


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of Wang et al. (2004): 11x11 Gaussian (sigma 1.5), K = (0.01, 0.03), L = 255, 'valid'."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    g = cv2.getGaussianKernel(11, 1.5)
    window = g @ g.T

    def filt(x: np.ndarray) -> np.ndarray:
        return cv2.filter2D(x, -1, window)[5:-5, 5:-5]

    mu_a, mu_b = filt(a), filt(b)
    var_a = filt(a * a) - mu_a**2
    var_b = filt(b * b) - mu_b**2
    cov = filt(a * b) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(ssim_map.mean())


def crop(img: np.ndarray, border: int) -> np.ndarray:
    return img[border:-border, border:-border] if border > 0 else img


def evaluate_bicubic(hr: np.ndarray, scale: int, uint8_passes: bool = True) -> tuple[float, float]:
    """(PSNR, SSIM) of the bicubic baseline on one uint8 HR image, the published way: MATLAB's
    ``imresize`` of ``uint8`` images (rounded after each pass), or with ``uint8_passes=False`` of
    ``double`` images rounded once at the end."""
    hr = modcrop(hr, scale)
    if uint8_passes:
        lr = imresize_uint8(hr, 1 / scale)
        sr = imresize_uint8(lr, scale)
    else:
        lr = to_uint8(imresize(hr, 1 / scale))
        sr = to_uint8(imresize(lr, scale))
    y_sr = crop(rgb_to_y(sr), scale)
    y_hr = crop(rgb_to_y(hr), scale)
    return psnr(y_sr, y_hr), ssim(y_sr, y_hr)
