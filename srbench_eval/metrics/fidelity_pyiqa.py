"""pyiqa's SSIM and PSNR arithmetic (chaofengc/IQA-PyTorch ``archs/ssim_arch.py``, ``archs/psnr_arch.py``),
the protocol's ``ssim = pyiqa`` and ``psnr = pyiqa`` (:mod:`srbench_eval.protocol`, profiles ``pyiqa``
and ``pyiqa-ycbcr``).

pyiqa's ``SSIM`` (``create_metric('ssim', ...)``; the same from v0.1.10 to v0.1.16, checked against
the released wheels) is Wang et al.'s SSIM (IEEE TIP 2004) with three differences from
``ssim_index.m``:

* the plane is ``round(Y * 255)`` of the float32 image in [0, 1] (``to_y_channel(x, 255, color_space)``
  and ``preprocess_rgb``: torch's ``round``, half to even; without ``test_y_channel``, every channel
  ``round(x * 255)``), then cast to float64 (before v0.1.10 the SSIM itself stayed in float32);
* the 11x11 window is MATLAB's ``fspecial('gaussian', 11, 1.5)`` computed in float64 as one 2-D
  array, normalised to sum 1, then rounded to float32 (``.float()``) and cast back;
* the contrast-structure term is clipped at zero before the product::

      SSIM = mean over the 'valid' map of  (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)
                                         * max(0, (2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2))

  with ``C1 = (0.01 * 255)^2``, ``C2 = (0.03 * 255)^2``, biased local moments, no downsampling
  (``downsample=False`` by default), border ``crop_border = 0`` by default, the mean over the map
  and the channels.

pyiqa's ``psnr``: ``10 log10(1 / (MSE + 1e-8))`` of images in [0, 1] (:data:`PYIQA_PSNR_EPS`), i.e.
``10 log10(255^2 / (MSE_255 + 1e-8 * 255^2))`` in 0..255 units; identical images give 80 dB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from srbench_eval.compiled import is_tensor

if TYPE_CHECKING:
    import torch

    Image = np.ndarray | torch.Tensor  # an (N, C, H, W) batch

PYIQA_PSNR_EPS = 1e-8
"""The ``eps`` pyiqa's ``psnr`` adds to the MSE of [0, 1] images (``psnr_arch.psnr``, every release)."""
PYIQA_SSIM_WINDOW = 11
PYIQA_SSIM_SIGMA = 1.5
_C1 = (0.01 * 255.0) ** 2
_C2 = (0.03 * 255.0) ** 2


def pyiqa_window() -> np.ndarray:
    """pyiqa's SSIM window: ``fspecial('gaussian', 11, 1.5)`` as MATLAB defines it, in float64
    (``h = exp(-(x^2 + y^2) / (2 sigma^2))`` on the 11x11 grid, entries below ``eps * max(h)`` set to
    0, ``h / sum(h)``), then rounded to float32 and returned as float64 ``(11, 11)``."""
    m = (PYIQA_SSIM_WINDOW - 1.0) / 2.0
    y, x = np.ogrid[-m : m + 1, -m : m + 1]
    h = np.exp(-(x * x + y * y) / (2.0 * PYIQA_SSIM_SIGMA * PYIQA_SSIM_SIGMA))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    h /= h.sum()
    return h.astype(np.float32).astype(np.float64)


def pyiqa_plane(x: Image) -> torch.Tensor:
    """The plane pyiqa's SSIM scores, of ``(N, C, H, W)`` planes in 0..255 units: ``round(float32(x))``
    (half to even) as float64. For :func:`srbench_eval.color.pyiqa_luma` planes (``255 Y`` exactly)
    ``float32(x)`` is pyiqa's float32 ``Y * 255``; for 8-bit RGB it is the image itself."""
    import torch

    t = x if is_tensor(x) else torch.from_numpy(np.ascontiguousarray(x))
    return t.to(torch.float32).round().to(torch.float64)


def ssim_pyiqa(sr: Image, hr: Image, crop_border: int) -> Image:
    """Per-image SSIM of pyiqa (see the module docstring) of ``(N, C, H, W)`` planes in 0..255 units
    (the protocol's Y, or the C channels under ``y = rgb``), float64 ``(N,)``: the map and the
    channels averaged together."""
    import torch
    import torch.nn.functional as F

    if sr.ndim != 4 or sr.shape != hr.shape:
        raise ValueError(f"ssim takes equal (N, C, H, W) batches, got {tuple(sr.shape)}, {tuple(hr.shape)}")
    a, b = pyiqa_plane(sr), pyiqa_plane(hr)
    if crop_border:
        a, b = (t[..., crop_border:-crop_border, crop_border:-crop_border] for t in (a, b))
    if min(a.shape[-2:]) < PYIQA_SSIM_WINDOW:
        raise ValueError(f"SSIM needs at least {PYIQA_SSIM_WINDOW}x{PYIQA_SSIM_WINDOW} pixels after cropping")
    c = a.shape[1]
    win = torch.from_numpy(pyiqa_window()).to(a.device).repeat(c, 1, 1, 1)

    def mean(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, win, stride=1, padding=0, groups=c)

    mu1, mu2 = mean(a), mean(b)
    mu1_sq, mu2_sq, mu1_mu2 = mu1.pow(2), mu2.pow(2), mu1 * mu2
    sigma1_sq = mean(a * a) - mu1_sq
    sigma2_sq = mean(b * b) - mu2_sq
    sigma12 = mean(a * b) - mu1_mu2
    cs_map = F.relu((2 * sigma12 + _C2) / (sigma1_sq + sigma2_sq + _C2))
    ssim_map = ((2 * mu1_mu2 + _C1) / (mu1_sq + mu2_sq + _C1)) * cs_map
    values = ssim_map.mean([1, 2, 3])
    return values if is_tensor(sr) else values.numpy()


__all__ = ["PYIQA_PSNR_EPS", "pyiqa_plane", "pyiqa_window", "ssim_pyiqa"]
