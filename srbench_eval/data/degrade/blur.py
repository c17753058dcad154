"""The BD degradation of RDN/RCAN's test sets: Gaussian blur, then nearest-neighbour downsampling.

Zhang et al. (RDN, CVPR 2018; RCAN, ECCV 2018) made their "BD" test images with
``Prepare_TestData_HR_LR.m`` / ``imresize_BD`` (yulunzhang/RDN, ``RDN_TestCode``). For a ``uint8``
HR image ``I`` and an integer scale ``s`` (the tables use ``s = 3``, ``sigma = 1.6``):

1. ``I = modcrop(I, s)``; a grey image is replicated to three channels first;
2. ``G = fspecial('gaussian', k, sigma)``::

       G(x, y) = g(x, y) / sum g,   g(x, y) = exp(-(x^2 + y^2) / (2 sigma^2)),
       x, y in -(k-1)/2 .. (k-1)/2,   g < eps * max(g) set to 0

   with the script's size rule ``k = 2 ceil(3 sigma) + 1`` for odd ``s`` (forced to ``k = 7`` at
   ``s = 3, sigma = 1.6``) and ``k = 2 ceil(3 sigma) + 2`` (an even kernel) for even ``s``;
3. ``B = imfilter(I, G, 'replicate')``: correlation, the kernel's centre at
   ``c = floor((k + 1) / 2)`` (1-based), borders replicated::

       B(i, j) = uint8( sum_{p,q=1..k} G(p, q) I(clamp(i + p - c), clamp(j + q - c)) )

   computed in double and converted as MATLAB converts to ``uint8``: rounded half away from zero,
   saturated to 0..255 (:func:`imfilter_replicate`);
4. odd ``s``: ``LR = imresize(B, 1 / s, 'nearest')``, MATLAB's nearest-neighbour ``imresize``
   (no antialiasing for ``'nearest'``): output sample ``i`` sits at ``u_i = i s + 0.5 (1 - s)``
   (1-based) and takes the input sample whose nearest kernel ``-0.5 <= u_i - j < 0.5`` is 1, found
   with the same contributions rule as the bicubic taps (:func:`nearest_indices`). At ``s = 3`` that
   keeps rows and columns 2, 5, 8, ... (1-based);
   even ``s``: ``LR = B(s/2 : s : end - s/2, s/2 : s : end - s/2)``, the script's direct subsampling.

Non-integer scales are refused: the script hands them to ``imresize(im, 1/s, 'Gaussian')``, which is
no ``imresize`` method. Everything here is NumPy on ``uint8`` arrays (``(H, W)`` or ``(H, W, C)``).
Oracle: ``../shared/oracles/lr/rdn-bd/Set5/x3`` (RDN's MATLAB output), equal pixel for pixel
(``tests/data/test_degrade_bd_dn.py``).
"""

from __future__ import annotations

import math

import numpy as np

from srbench_eval.data.degrade.taps import mirror_index, output_length
from srbench_eval.data.io.images import modcrop
from srbench_eval.errors import SrbenchError

BD_SIGMA = 1.6  # the blur of RDN/RCAN/SRFBN's BD test sets


def _check_scale(scale: object) -> int:
    """``scale`` as a positive ``int``, or a one-line error naming it."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise SrbenchError(f"BD scale {scale!r} is not a number")
    if scale != int(scale) or scale < 1:
        raise SrbenchError(
            f"BD scale {scale!r} is not a positive integer (RDN's imresize_BD defines integer scales only)"
        )
    return int(scale)


def bd_kernel_size(scale: int, sigma: float = BD_SIGMA) -> int:
    """The kernel size rule of ``imresize_BD``: ``2 ceil(3 sigma) + 1`` for odd ``scale`` (7 when
    ``scale = 3`` and ``sigma = 1.6``, as the script forces), ``2 ceil(3 sigma) + 2`` for even."""
    scale = _check_scale(scale)
    if sigma <= 0:
        raise SrbenchError(f"BD blur sigma {sigma!r} must be positive")
    if scale % 2 == 1:
        return 7 if scale == 3 and sigma == 1.6 else 2 * math.ceil(sigma * 3) + 1
    return 2 * math.ceil(sigma * 3) + 2


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', size, sigma)``: ``(size, size)`` float64,
    ``g = exp(-(x^2 + y^2) / (2 sigma^2))`` on ``x, y = -(size-1)/2 .. (size-1)/2``, values below
    ``eps * max(g)`` set to 0, divided by ``sum(g)``."""
    if size < 1 or sigma <= 0:
        raise SrbenchError(f"Gaussian kernel needs size >= 1 and sigma > 0, got {size!r}, {sigma!r}")
    half = (size - 1) / 2
    x, y = np.meshgrid(np.arange(-half, half + 1), np.arange(-half, half + 1))
    g = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    g[g < np.finfo(np.float64).eps * g.max()] = 0
    return g / g.sum()


def round_saturate_uint8(values: np.ndarray) -> np.ndarray:
    """MATLAB's conversion of doubles to ``uint8``: round half away from zero, saturate to 0..255."""
    rounded = np.where(values >= 0, np.floor(values + 0.5), np.ceil(values - 0.5))
    return np.clip(rounded, 0, 255).astype(np.uint8)


def imfilter_replicate(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """MATLAB ``imfilter(img, kernel, 'replicate')`` of a ``uint8`` image, per channel.

    Correlation (not convolution), the kernel's centre at ``floor((k + 1) / 2)`` (1-based; for an
    even ``k`` one more tap lies after the centre than before), out-of-image samples clamped to the
    edge, the sum in float64, converted with :func:`round_saturate_uint8`.
    """
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise SrbenchError(
            f"imfilter_replicate takes (H, W) or (H, W, C) uint8 images, got {img.dtype} {img.shape}"
        )
    kh, kw = kernel.shape
    top, left = (kh + 1) // 2 - 1, (kw + 1) // 2 - 1  # 0-based centre = taps before it
    pad = ((top, kh - 1 - top), (left, kw - 1 - left)) + (((0, 0),) if img.ndim == 3 else ())
    padded = np.pad(img.astype(np.float64), pad, mode="edge")
    h, w = img.shape[:2]
    acc = np.zeros(img.shape, dtype=np.float64)
    for p in range(kh):
        for q in range(kw):
            if kernel[p, q] != 0:
                acc += kernel[p, q] * padded[p : p + h, q : q + w]
    return round_saturate_uint8(acc)


def nearest_indices(in_length: int, scale: float) -> np.ndarray:
    """0-based input indices of MATLAB ``imresize(., scale, 'nearest')`` along one dimension.

    MATLAB's contributions rule with the box kernel ``f(x) = 1`` for ``-0.5 <= x < 0.5`` (width 1,
    never stretched: ``imresize`` does not antialias ``'nearest'``): output ``i = 1..ceil(in scale)``
    sits at ``u_i = i / scale + 0.5 (1 - 1 / scale)``, looks at ``j = floor(u_i - 0.5) + t``,
    ``t = 0, 1, 2``, weights ``f(u_i - j)`` normalised by their sum; indices outside the input are
    mirrored (``symmetric``). Each row has one non-zero weight; its index is returned.
    """
    out_length = output_length(in_length, scale)
    pos = np.arange(1, out_length + 1, dtype=np.float64) / scale + 0.5 * (1.0 - 1.0 / scale)
    taps = np.floor(pos - 0.5)[:, None] + np.arange(3, dtype=np.float64)[None, :]
    dist = pos[:, None] - taps
    weights = ((dist >= -0.5) & (dist < 0.5)).astype(np.float64)
    weights = weights / weights.sum(axis=1, keepdims=True)
    chosen = taps[np.arange(out_length), np.argmax(weights, axis=1)].astype(np.int64) - 1
    return mirror_index(chosen, in_length)


def imresize_nearest(img: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB ``imresize(img, scale, 'nearest')``: rows and columns picked by :func:`nearest_indices`."""
    rows = nearest_indices(img.shape[0], scale)
    cols = nearest_indices(img.shape[1], scale)
    return np.ascontiguousarray(img[rows][:, cols])


def degrade_bd(hr: np.ndarray, scale: int, sigma: float = BD_SIGMA) -> np.ndarray:
    """RDN/RCAN's BD LR image of a ``uint8`` HR image (see the module docstring for the steps):
    ``modcrop``, grey replicated to RGB, ``imfilter(., fspecial('gaussian', k, sigma), 'replicate')``,
    then ``imresize(., 1/s, 'nearest')`` (odd ``s``) or ``B(s/2:s:end-s/2, ...)`` (even ``s``).
    Returns ``(H / s, W / s, 3)`` (or ``C`` channels) ``uint8``."""
    scale = _check_scale(scale)
    if hr.dtype != np.uint8 or hr.ndim not in (2, 3):
        raise SrbenchError(
            f"BD degradation takes (H, W) or (H, W, C) uint8 images, got {hr.dtype} {hr.shape}"
        )
    if hr.ndim == 2 or hr.shape[2] == 1:
        grey = hr if hr.ndim == 2 else hr[:, :, 0]
        hr = np.repeat(grey[:, :, None], 3, axis=2)
    hr = modcrop(hr, scale)
    if hr.shape[0] < scale or hr.shape[1] < scale:
        raise SrbenchError(f"HR image {hr.shape[:2]} is smaller than the BD scale {scale}")
    blurred = imfilter_replicate(hr, gaussian_kernel(bd_kernel_size(scale, sigma), sigma))
    if scale % 2 == 1:
        return imresize_nearest(blurred, 1.0 / scale)
    first = scale // 2 - 1  # MATLAB's s/2 (1-based); the last index end - s/2 is inclusive
    return np.ascontiguousarray(
        blurred[first : hr.shape[0] - scale // 2 : scale, first : hr.shape[1] - scale // 2 : scale]
    )


__all__ = [
    "BD_SIGMA",
    "bd_kernel_size",
    "degrade_bd",
    "gaussian_kernel",
    "imfilter_replicate",
    "imresize_nearest",
    "nearest_indices",
    "round_saturate_uint8",
]
