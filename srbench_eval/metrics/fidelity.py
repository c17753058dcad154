"""PSNR and SSIM on the Y channel, the way the published SR tables computed them.

Conventions (those of the EDSR/RCAN line of papers and of BasicSR):

* Y channel of MATLAB's ``rgb2ycbcr`` on RGB scaled to [0, 1], not rounded::

      Y = 16 + 65.481 R + 128.553 G + 24.966 B        (Y in 16..235 for R, G, B in 0..1)

  A 1-channel image is used directly as Y (Set14 ``bridge.png``).
* ``crop_border`` pixels (the scale, in the standard protocol) are removed on every side of both
  images before any statistic.
* Everything in float64.

PSNR = 10 log10(255^2 / MSE), per image. Identical images give ``inf`` (the MSE is 0); it is kept
as ``inf`` rather than capped, and tables print it as such.

SSIM is that of Wang, Bovik, Sheikh and Simoncelli, "Image quality assessment: from error
visibility to structural similarity", IEEE TIP 2004::

      SSIM(x, y) = mean over the map of
                   (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))

with local statistics weighted by an 11x11 Gaussian window (sigma 1.5, normalised to sum 1),
``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``, ``L = 255``, biased (population) moments, only the 'valid'
positions where the window lies inside the image, and no downsampling.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from srbench_eval.metrics import register
from srbench_eval.metrics.base import PerImageMetric

Y_WEIGHTS = (65.481, 128.553, 24.966)
Y_OFFSET = 16.0
DATA_RANGE = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
_STRIP_ROWS = 128


def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """``(N, 1, H, W)`` float64 Y of ``(N, 3, H, W)`` RGB 0..255 images; 1-channel input is Y already."""
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"rgb_to_y takes (N, 1 or 3, H, W) tensors, got {tuple(x.shape)}")
    x = x.to(torch.float64)
    if x.shape[1] == 1:
        return x
    return _luma(x).add_(Y_OFFSET)


def _luma(x: torch.Tensor) -> torch.Tensor:
    """``(65.481 R + 128.553 G + 24.966 B) / 255`` of a float64 ``(N, 3, H, W)`` batch, ``(N, 1, H, W)``.

    The weights are divided by 255 first, as MATLAB's ``rgb2ycbcr`` does for ``double`` input.
    """
    wr, wg, wb = (w / DATA_RANGE for w in Y_WEIGHTS)
    return (x[:, 0:1] * wr).add_(x[:, 1:2], alpha=wg).add_(x[:, 2:3], alpha=wb)


def _crop(x: torch.Tensor, border: int) -> torch.Tensor:
    if border < 0:
        raise ValueError(f"crop_border must be >= 0, got {border}")
    if border == 0:
        return x
    if x.shape[-2] <= 2 * border or x.shape[-1] <= 2 * border:
        raise ValueError(f"image {tuple(x.shape[-2:])} is too small for a border crop of {border}")
    return x[..., border:-border, border:-border]


def psnr(sr: torch.Tensor, hr: torch.Tensor, crop_border: int) -> torch.Tensor:
    """Per-image Y-channel PSNR (dB, float64, shape ``(N,)``) of 0..255 ``(N, C, H, W)`` batches.

    ``Y(sr) - Y(hr)`` is computed as the luma of ``sr - hr`` (the offset 16 cancels), which is exact
    up to float64 rounding and needs one colour conversion instead of two.
    """
    if sr.ndim != 4 or sr.shape[1] not in (1, 3) or sr.shape != hr.shape:
        raise ValueError(
            f"psnr takes equal (N, 1 or 3, H, W) batches, got {tuple(sr.shape)}, {tuple(hr.shape)}"
        )
    diff = _crop(sr, crop_border).to(torch.float64) - _crop(hr, crop_border).to(torch.float64)
    if diff.shape[1] == 3:
        diff = _luma(diff)
    mse = diff.square_().mean(dim=(1, 2, 3))
    return 10.0 * torch.log10(DATA_RANGE**2 / mse)  # mse == 0 -> inf


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """1-D Gaussian window (float64, sums to 1); the 2-D SSIM window is its outer product."""
    d = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(d * d) / (2 * sigma * sigma))
    return g / g.sum()


def _filter_valid(x: torch.Tensor, g: list[float]) -> torch.Tensor:
    """Separable 'valid' correlation of the last two dimensions with the window ``g`` (x) ``g``."""
    k = len(g)
    h, w = x.shape[-2] - k + 1, x.shape[-1] - k + 1
    rows = x[..., 0:h, :] * g[0]
    for i in range(1, k):
        rows.add_(x[..., i : i + h, :], alpha=g[i])
    out = rows[..., :, 0:w] * g[0]
    for i in range(1, k):
        out.add_(rows[..., :, i : i + w], alpha=g[i])
    return out


def ssim(sr: torch.Tensor, hr: torch.Tensor, crop_border: int) -> torch.Tensor:
    """Per-image Y-channel SSIM (float64, shape ``(N,)``) of 0..255 ``(N, C, H, W)`` batches."""
    a = _crop(rgb_to_y(sr), crop_border)[:, 0]
    b = _crop(rgb_to_y(hr), crop_border)[:, 0]
    if min(a.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels after cropping")
    g = gaussian_window().tolist()
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    out_h, out_w = a.shape[-2] - SSIM_WINDOW + 1, a.shape[-1] - SSIM_WINDOW + 1
    total = torch.zeros(a.shape[0], dtype=torch.float64, device=a.device)
    # Strips of output rows keep the working set in cache; the map is summed strip by strip.
    for top in range(0, out_h, _STRIP_ROWS):
        rows = slice(top, min(top + _STRIP_ROWS, out_h) + SSIM_WINDOW - 1)
        sa, sb = a[:, rows], b[:, rows]
        # The local moments E[a], E[b], E[a^2 + b^2], E[ab] of every image: (N, 4, h, w).
        moments = _filter_valid(torch.stack((sa, sb, sa * sa + sb * sb, sa * sb), dim=1), g)
        mu_a, mu_b, sq, ab = moments.unbind(dim=1)
        mu_ab = mu_a * mu_b
        mu_sq = mu_a.square_().add_(mu_b.square_())  # mu_a^2 + mu_b^2, in place
        num = (2 * mu_ab + c1).mul_(ab.sub_(mu_ab).mul_(2).add_(c2))  # (2 mu_ab + C1)(2 sigma_ab + C2)
        den = (mu_sq + c1).mul_(sq.sub_(mu_sq).add_(c2))  # (mu_a^2 + mu_b^2 + C1)(var_a + var_b + C2)
        total += num.div_(den).sum(dim=(1, 2))
    return total / (out_h * out_w)


@register
class PSNR(PerImageMetric):
    """Y-channel PSNR with a border crop (see the module docstring)."""

    name: ClassVar[str] = "psnr"
    label: ClassVar[str] = "PSNR"
    higher_is_better: ClassVar[bool] = True
    decimals: ClassVar[int] = 2

    def score(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return psnr(sr, hr, self.settings.crop_border)


@register
class SSIM(PerImageMetric):
    """Y-channel SSIM of Wang et al. (2004) with a border crop (see the module docstring)."""

    name: ClassVar[str] = "ssim"
    label: ClassVar[str] = "SSIM"
    higher_is_better: ClassVar[bool] = True
    decimals: ClassVar[int] = 4

    def score(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return ssim(sr, hr, self.settings.crop_border)


__all__ = ["PSNR", "SSIM", "gaussian_window", "psnr", "rgb_to_y", "ssim"]
