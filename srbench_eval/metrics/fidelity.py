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

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from srbench_eval.compiled import takes_compiled_path
from srbench_eval.metrics import fidelity_kernels, register
from srbench_eval.metrics.base import PerImageMetric

Y_WEIGHTS = (65.481, 128.553, 24.966)
Y_OFFSET = 16.0
DATA_RANGE = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """``(N, 1, H, W)`` float64 Y of ``(N, 3, H, W)`` RGB 0..255 images; 1-channel input is Y already.

    The weights are divided by 255 first, as MATLAB's ``rgb2ycbcr`` does for ``double`` input, and
    the sum is ``((R wr + G wg) + B wb) + 16`` in float64 (the channels are converted as they are
    read, which is exact for any float32 input).
    """
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"rgb_to_y takes (N, 1 or 3, H, W) tensors, got {tuple(x.shape)}")
    if x.shape[1] == 1:
        return x.to(torch.float64)
    wr, wg, wb = (w / DATA_RANGE for w in Y_WEIGHTS)
    y = x[:, 0:1].to(torch.float64, copy=True).mul_(wr)  # a copy even when x is float64 already
    return y.add_(x[:, 1:2], alpha=wg).add_(x[:, 2:3], alpha=wb).add_(Y_OFFSET)


def _crop(x: torch.Tensor, border: int) -> torch.Tensor:
    if border < 0:
        raise ValueError(f"crop_border must be >= 0, got {border}")
    if border == 0:
        return x
    if x.shape[-2] <= 2 * border or x.shape[-1] <= 2 * border:
        raise ValueError(f"image {tuple(x.shape[-2:])} is too small for a border crop of {border}")
    return x[..., border:-border, border:-border]


def _images(x: torch.Tensor) -> np.ndarray:
    """The ``(N, C, H, W)`` tensor as a C-contiguous NumPy array (no copy when it already is one)."""
    return np.ascontiguousarray(x.detach().numpy())


def _y_weights(channels: int) -> np.ndarray:
    return np.array(Y_WEIGHTS if channels == 3 else (DATA_RANGE,), dtype=np.float64) / DATA_RANGE


def psnr(sr: torch.Tensor, hr: torch.Tensor, crop_border: int) -> torch.Tensor:
    """Per-image Y-channel PSNR (dB, float64, shape ``(N,)``) of 0..255 ``(N, C, H, W)`` batches.

    ``Y(sr) - Y(hr) = w . d`` with ``d`` the RGB difference (the offset 16 cancels) and ``w`` the
    luma weights / 255. On the CPU one compiled pass sums ``(w . d)^2`` over the cropped pixels
    (:func:`~srbench_eval.metrics.fidelity_kernels.squared_y_error`); elsewhere the mean squared
    error is ``w^T G w / n`` with ``G = d d^T`` the 3x3 Gram matrix of the differences over the ``n``
    pixels, one matrix product instead of a Y image per input. Both equal the direct formula up to
    float64 rounding (about 1e-14 dB).
    """
    if sr.ndim != 4 or sr.shape[1] not in (1, 3) or sr.shape != hr.shape:
        raise ValueError(
            f"psnr takes equal (N, 1 or 3, H, W) batches, got {tuple(sr.shape)}, {tuple(hr.shape)}"
        )
    n, c = sr.shape[:2]
    cropped = _crop(sr, crop_border)  # validates the border
    n_pixels = cropped.shape[-2] * cropped.shape[-1]
    w_np = _y_weights(c)
    if takes_compiled_path(sr, hr):
        sums = [
            fidelity_kernels.squared_y_error(a, b, crop_border, w_np)
            for a, b in zip(_images(sr), _images(hr), strict=True)
        ]
        mse = torch.tensor(sums, dtype=torch.float64) / n_pixels
    else:
        d = (cropped.to(torch.float64) - _crop(hr, crop_border)).reshape(n, c, -1)
        gram = d @ d.transpose(1, 2)  # (N, C, C)
        w = torch.from_numpy(w_np).to(d.device)
        mse = (gram @ w) @ w / n_pixels
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


def _local_means(*planes: torch.Tensor) -> list[torch.Tensor]:
    """The Gaussian-weighted local means (11x11 window, 'valid' positions) of ``(N, H, W)`` float64
    planes, by tensor operations (the path for GPUs and gradients)."""
    g = gaussian_window().tolist()
    return [_filter_valid(p, g) for p in planes]


@dataclass(frozen=True)
class SSIMReference:
    """The HR side of SSIM, the same for every model: the cropped Y planes ``y`` ``(N, H, W)`` and
    their local means ``mu`` = E[y] and ``sq`` = E[y^2], ``(N, H - 10, W - 10)`` each."""

    y: torch.Tensor
    mu: torch.Tensor
    sq: torch.Tensor


def ssim_reference(hr: torch.Tensor, crop_border: int) -> SSIMReference:
    """:class:`SSIMReference` of a ``(N, C, H, W)`` batch of 0..255 HR images."""
    if hr.ndim != 4 or hr.shape[1] not in (1, 3):
        raise ValueError(f"ssim takes (N, 1 or 3, H, W) tensors, got {tuple(hr.shape)}")
    n, c = hr.shape[:2]
    shape = _crop(hr, crop_border).shape[-2:]
    if min(shape) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels after cropping")
    if not takes_compiled_path(hr):
        y = _crop(rgb_to_y(hr), crop_border)[:, 0]
        mu, sq = _local_means(y, y * y)
        return SSIMReference(y, mu, sq)
    valid = (shape[0] - SSIM_WINDOW + 1, shape[1] - SSIM_WINDOW + 1)
    y, mu, sq = np.empty((n, *shape)), np.empty((n, *valid)), np.empty((n, *valid))
    g = gaussian_window().numpy()
    for k, image in enumerate(_images(hr)):
        fidelity_kernels.ssim_hr_moments(image, crop_border, _y_weights(c), Y_OFFSET, g, y[k], mu[k], sq[k])
    return SSIMReference(torch.from_numpy(y), torch.from_numpy(mu), torch.from_numpy(sq))


def ssim(
    sr: torch.Tensor, hr: torch.Tensor, crop_border: int, reference: SSIMReference | None = None
) -> torch.Tensor:
    """Per-image Y-channel SSIM (float64, shape ``(N,)``) of 0..255 ``(N, C, H, W)`` batches.

    With ``a`` = Y(SR), ``b`` = Y(HR) and E the Gaussian-weighted local mean, the map is computed
    from the five local moments E[a], E[b], E[a^2], E[b^2], E[ab]; those of ``b`` may be passed in
    as ``reference`` (:func:`ssim_reference`), computed once per HR image for every model. On the
    CPU the SR side is one compiled pass per image
    (:func:`~srbench_eval.metrics.fidelity_kernels.ssim_sum`).
    """
    ref = reference if reference is not None else ssim_reference(hr, crop_border)
    if sr.ndim != 4 or sr.shape[1] not in (1, 3):
        raise ValueError(f"ssim takes (N, 1 or 3, H, W) tensors, got {tuple(sr.shape)}")
    cropped = _crop(sr, crop_border).shape
    if (cropped[0], *cropped[-2:]) != tuple(ref.y.shape):
        raise ValueError(f"SR Y planes {tuple(cropped[-2:])} do not match the HR ones {tuple(ref.y.shape)}")
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    if takes_compiled_path(sr, ref.y, ref.mu, ref.sq):
        g = gaussian_window().numpy()
        y_hr, mu_hr, sq_hr = (_images(t) for t in (ref.y, ref.mu, ref.sq))
        w = _y_weights(sr.shape[1])
        sums = [
            fidelity_kernels.ssim_sum(image, crop_border, w, Y_OFFSET, g, y_hr[k], mu_hr[k], sq_hr[k], c1, c2)
            for k, image in enumerate(_images(sr))
        ]
        return torch.tensor(sums, dtype=torch.float64) / (mu_hr.shape[1] * mu_hr.shape[2])
    a = _crop(rgb_to_y(sr), crop_border)[:, 0]
    mu_a, sq_a, ab = _local_means(a, a * a, a * ref.y)
    mu_ab = mu_a * ref.mu
    mu_sq = mu_a.square_().addcmul_(ref.mu, ref.mu)  # mu_a^2 + mu_b^2, in place
    num = (2 * mu_ab + c1).mul_(ab.sub_(mu_ab).mul_(2).add_(c2))  # (2 mu_ab + C1)(2 sigma_ab + C2)
    den = (mu_sq + c1).mul_(sq_a.add_(ref.sq).sub_(mu_sq).add_(c2))  # (.. + C1)(var_a + var_b + C2)
    return num.div_(den).mean(dim=(1, 2))


@register
class PSNR(PerImageMetric):
    """Y-channel PSNR with a border crop (see the module docstring)."""

    name: ClassVar[str] = "psnr"
    label: ClassVar[str] = "PSNR"
    higher_is_better: ClassVar[bool] = True
    decimals: ClassVar[int] = 2
    reference_impl: ClassVar[str] = "MATLAB, as RCAN/EDSR Evaluate_PSNR_SSIM.m and BasicSR"

    def score(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        return psnr(sr, hr, self.settings.crop_border)


@register
class SSIM(PerImageMetric):
    """Y-channel SSIM of Wang et al. (2004) with a border crop (see the module docstring)."""

    name: ClassVar[str] = "ssim"
    label: ClassVar[str] = "SSIM"
    higher_is_better: ClassVar[bool] = True
    decimals: ClassVar[int] = 4
    reference_impl: ClassVar[str] = "Wang et al.'s MATLAB ssim_index.m (2004)"

    def reference(self, hr: torch.Tensor) -> SSIMReference:
        return ssim_reference(hr, self.settings.crop_border)

    def score(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        assert ref is None or isinstance(ref, SSIMReference)
        return ssim(sr, hr, self.settings.crop_border, ref)


__all__ = ["PSNR", "SSIM", "SSIMReference", "gaussian_window", "psnr", "rgb_to_y", "ssim", "ssim_reference"]
