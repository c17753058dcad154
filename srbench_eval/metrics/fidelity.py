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

The Y channel is :func:`srbench_eval.color.rgb_to_y` (re-exported here, with :func:`luma`). Other
protocols (:mod:`srbench_eval.protocol`) change two things, both pure functions: the Y channel
(:func:`~srbench_eval.color.luma`: rounded as MATLAB's ``rgb2ycbcr`` of a ``uint8`` image returns it,
or BasicSR's float32 ``bgr2ycbcr``) and the SSIM variant (:func:`ssim_matlab`: MATLAB's built-in
``ssim``, the same window over the whole image with replicated borders). The metric classes read
the protocol from their :class:`~srbench_eval.metrics.base.MetricSettings`; the default protocol
takes exactly the code path above.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from srbench_eval.color import DATA_RANGE, Y_OFFSET, Y_WEIGHTS, luma, rgb_to_y
from srbench_eval.compiled import is_tensor, like, takes_compiled_path
from srbench_eval.metrics import fidelity_compiled, register
from srbench_eval.metrics.base import PerImageMetric
from srbench_eval.metrics.fidelity_pyiqa import PYIQA_PSNR_EPS, ssim_pyiqa

if TYPE_CHECKING:
    import torch

    Image = np.ndarray | torch.Tensor  # an (N, C, H, W) batch: NumPy on the CPU path, else a tensor

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_GAUSSIAN = np.array(
    [
        float.fromhex(h)
        for h in (
            "0x1.0d956b52a1d70p-10",
            "0x1.f1fe01ae5a5b8p-8",
            "0x1.26eb175d83f67p-5",
            "0x1.bff0fe8e98418p-4",
            "0x1.b43c3f52b19f2p-3",
            "0x1.106560aa892c0p-2",
            "0x1.b43c3f52b19f2p-3",
            "0x1.bff0fe8e98418p-4",
            "0x1.26eb175d83f67p-5",
            "0x1.f1fe01ae5a5b8p-8",
            "0x1.0d956b52a1d70p-10",
        )
    ]
)
""":func:`gaussian_window` of the default size and sigma, bit for bit, as data: the compiled path's
window without importing torch (``tests/metrics/test_fidelity.py`` holds the two equal)."""


def _tensors(*xs: Image) -> list[torch.Tensor]:
    """CPU tensors of NumPy arrays (tensors pass): the tensor code for what the kernels do not cover."""
    import torch

    return [x if is_tensor(x) else torch.from_numpy(np.ascontiguousarray(x)) for x in xs]


def _crop(x: Image, border: int) -> Image:
    if border < 0:
        raise ValueError(f"crop_border must be >= 0, got {border}")
    if border == 0:
        return x
    if x.shape[-2] <= 2 * border or x.shape[-1] <= 2 * border:
        raise ValueError(f"image {tuple(x.shape[-2:])} is too small for a border crop of {border}")
    return x[..., border:-border, border:-border]


def _y_weights(channels: int) -> np.ndarray:
    return fidelity_compiled.y_weights(channels, Y_WEIGHTS, DATA_RANGE)


def mean_squared_y_error(sr: torch.Tensor, hr: torch.Tensor, crop_border: int) -> torch.Tensor:
    """Per image ``mean over the cropped pixels of (Y(sr) - Y(hr))^2`` (float64, ``(N,)``).

    ``Y(sr) - Y(hr) = w . d`` with ``d`` the RGB difference (the offset 16 cancels) and ``w`` the
    luma weights / 255, so the mean is ``w^T G w / n`` with ``G = d d^T`` the 3x3 Gram matrix of the
    differences over the ``n`` pixels: one matrix product instead of a Y image per input.
    """
    import torch

    n, c = sr.shape[:2]
    d = (_crop(sr, crop_border).to(torch.float64) - _crop(hr, crop_border)).reshape(n, c, -1)
    gram = d @ d.transpose(1, 2)  # (N, C, C)
    w = torch.from_numpy(_y_weights(c)).to(d.device)
    return (gram @ w) @ w / d.shape[-1]


def psnr(sr: Image, hr: Image, crop_border: int, mse_offset: float = 0.0) -> Image:
    """Per-image Y-channel PSNR (dB, float64, shape ``(N,)``) of 0..255 ``(N, C, H, W)`` batches::

        PSNR = 10 log10(255^2 / (MSE + mse_offset)),   MSE = mean over the cropped pixels of (Y(sr) - Y(hr))^2

    (``mse_offset``: 0, or pyiqa's ``eps`` in 0..255 units, ``1e-8 * 255^2``).

    The MSE is :func:`mean_squared_y_error`, or on the CPU one compiled pass per image
    (:func:`~srbench_eval.metrics.fidelity_compiled.squared_y_error_sums`); both equal the direct
    formula up to float64 rounding (about 1e-14 dB).
    """
    if sr.ndim != 4 or sr.shape[1] not in (1, 3) or sr.shape != hr.shape:
        raise ValueError(
            f"psnr takes equal (N, 1 or 3, H, W) batches, got {tuple(sr.shape)}, {tuple(hr.shape)}"
        )
    cropped = _crop(sr, crop_border).shape  # validates the border
    if takes_compiled_path(sr, hr):
        sums = fidelity_compiled.squared_y_error_sums(sr, hr, crop_border, _y_weights(sr.shape[1]))
        mse = like(sums, sr) / (cropped[-2] * cropped[-1])
    else:
        mse = mean_squared_y_error(*_tensors(sr, hr), crop_border)
    if mse_offset:
        mse = mse + mse_offset
    if is_tensor(mse):  # torch's log10 is not correctly rounded on every CPU (AVX-512): ours is
        import torch

        if mse.requires_grad:  # differentiable use (a loss), not a score
            return 10.0 * torch.log10(DATA_RANGE**2 / mse)
        ratio = (DATA_RANGE**2 / mse).cpu().numpy()  # torch's ``c / t`` is ``(1 / t) * c``
        return 10.0 * torch.from_numpy(log10_rounded(ratio)).to(mse.device)  # mse == 0 -> inf
    with np.errstate(divide="ignore"):  # the same rounding as the tensor path's division
        return 10.0 * log10_rounded((1.0 / mse) * DATA_RANGE**2)


def log10_rounded(values: np.ndarray) -> np.ndarray:
    """``log10`` of each element, correctly rounded (40-digit decimal arithmetic, then to float64).

    PSNR uses it on both paths: NumPy's own ``log10`` is one ulp off for about 4 in 100,000
    arguments, and torch's depends on the CPU's vector unit (correctly rounded under AVX2, 7 in 40,000
    off under AVX-512), so the dB is the same to the last bit on every machine and path. Zero,
    negative and non-finite elements take NumPy's ``log10``."""
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    context = decimal.Context(prec=40)
    out = [
        float(decimal.Decimal(float(v)).log10(context)) if 0.0 < v < math.inf else float(np.log10(v))
        for v in flat
    ]
    return np.array(out, dtype=np.float64).reshape(np.shape(values))


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """1-D Gaussian window (float64, sums to 1); the 2-D SSIM window is its outer product."""
    import torch

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

    y: Image
    mu: Image
    sq: Image


def ssim_reference(hr: Image, crop_border: int) -> SSIMReference:
    """:class:`SSIMReference` of a ``(N, C, H, W)`` batch of 0..255 HR images (on the CPU by one
    compiled pass per image, :func:`~srbench_eval.metrics.fidelity_compiled.ssim_hr_moments`)."""
    if hr.ndim != 4 or hr.shape[1] not in (1, 3):
        raise ValueError(f"ssim takes (N, 1 or 3, H, W) tensors, got {tuple(hr.shape)}")
    shape = _crop(hr, crop_border).shape[-2:]
    if min(shape) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels after cropping")
    if takes_compiled_path(hr):
        w = _y_weights(hr.shape[1])
        moments = fidelity_compiled.ssim_hr_moments(hr, crop_border, tuple(shape), w, Y_OFFSET, SSIM_GAUSSIAN)
        return SSIMReference(*(like(m, hr) for m in moments))
    (hr,) = _tensors(hr)
    y = _crop(rgb_to_y(hr), crop_border)[:, 0]
    mu, sq = _local_means(y, y * y)
    return SSIMReference(y, mu, sq)


def ssim_map_mean(a: torch.Tensor, ref: SSIMReference) -> torch.Tensor:
    """Mean SSIM map of Y planes ``a`` ``(N, H, W)`` against the HR moments, by tensor operations:
    ``(2 mu_a mu_b + C1)(2 sigma_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(sigma_a^2 + sigma_b^2 + C2))``
    with the five local moments E[a], E[b], E[a^2], E[b^2], E[ab] ('valid' Gaussian means)."""
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    mu_a, sq_a, ab = _local_means(a, a * a, a * ref.y)
    mu_ab = mu_a * ref.mu
    mu_sq = mu_a.square_().addcmul_(ref.mu, ref.mu)  # mu_a^2 + mu_b^2, in place
    num = (2 * mu_ab + c1).mul_(ab.sub_(mu_ab).mul_(2).add_(c2))  # (2 mu_ab + C1)(2 sigma_ab + C2)
    den = (mu_sq + c1).mul_(sq_a.add_(ref.sq).sub_(mu_sq).add_(c2))  # (.. + C1)(var_a + var_b + C2)
    return num.div_(den).mean(dim=(1, 2))


def ssim(sr: Image, hr: Image, crop_border: int, reference: SSIMReference | None = None) -> Image:
    """Per-image Y-channel SSIM (float64, shape ``(N,)``) of 0..255 ``(N, C, H, W)`` batches.

    :func:`ssim_map_mean` of ``a = Y(sr)`` against the moments of ``b = Y(hr)``, which may be passed
    in as ``reference`` (:func:`ssim_reference`), computed once per HR image for every model. On
    the CPU the SR side is one compiled pass per image
    (:func:`~srbench_eval.metrics.fidelity_compiled.ssim_sums`).
    """
    ref = reference if reference is not None else ssim_reference(hr, crop_border)
    if sr.ndim != 4 or sr.shape[1] not in (1, 3):
        raise ValueError(f"ssim takes (N, 1 or 3, H, W) tensors, got {tuple(sr.shape)}")
    cropped = _crop(sr, crop_border).shape
    if (cropped[0], *cropped[-2:]) != tuple(ref.y.shape):
        raise ValueError(f"SR Y planes {tuple(cropped[-2:])} do not match the HR ones {tuple(ref.y.shape)}")
    if takes_compiled_path(sr, ref.y, ref.mu, ref.sq):
        c1, c2 = (SSIM_K1 * DATA_RANGE) ** 2, (SSIM_K2 * DATA_RANGE) ** 2
        w = _y_weights(sr.shape[1])
        refs = (ref.y, ref.mu, ref.sq)
        sums = fidelity_compiled.ssim_sums(sr, crop_border, w, Y_OFFSET, SSIM_GAUSSIAN, refs, c1, c2)
        return like(sums, sr) / (ref.mu.shape[1] * ref.mu.shape[2])
    sr, *moments = _tensors(sr, ref.y, ref.mu, ref.sq)
    return ssim_map_mean(_crop(rgb_to_y(sr), crop_border)[:, 0], SSIMReference(*moments))


def ssim_matlab(sr: Image, hr: Image, crop_border: int) -> torch.Tensor:
    """Per-image SSIM of MATLAB's built-in ``ssim`` (Image Processing Toolbox) on the Y channel of
    0..255 ``(N, C, H, W)`` batches (Y as given: pass :func:`luma` planes for other Y rules).

    The SSIM formula of :func:`ssim` with the same 11x11 Gaussian (``2 ceil(3 sigma) + 1`` taps,
    sigma 1.5) but ``imfilter(.., 'conv', 'replicate')``: every local mean is taken at *every* pixel
    of the cropped image, borders replicated, and the map's mean is over the whole image.
    ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2`` with ``L = 255`` (MATLAB's ``L = 1`` on ``double``
    images in [0, 1]: the same value).
    """
    import torch

    sr, hr = _tensors(sr, hr)
    a = _crop(rgb_to_y(sr), crop_border)[:, 0]
    b = _crop(rgb_to_y(hr), crop_border)[:, 0]
    pad = SSIM_WINDOW // 2
    g = gaussian_window().tolist()

    def mean(p: torch.Tensor) -> torch.Tensor:
        padded = torch.nn.functional.pad(p[:, None], (pad, pad, pad, pad), mode="replicate")[:, 0]
        return _filter_valid(padded, g)

    mu_a, mu_b = mean(a), mean(b)
    var_a = mean(a * a) - mu_a * mu_a
    var_b = mean(b * b) - mu_b * mu_b
    cov = mean(a * b) - mu_a * mu_b
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    return (num / den).mean(dim=(1, 2))


def psnr_rgb(sr: Image, hr: Image, crop_border: int, mse_offset: float = 0.0) -> Image:
    """Per-image PSNR over every channel (float64, ``(N,)``), as mmagic's EDSR table, NTIRE 2017 and
    pyiqa's ``psnr`` without ``test_y_channel`` computed it::

        PSNR = 10 log10(255^2 / MSE),   MSE = mean over the cropped pixels and the C channels of (sr - hr)^2
    """
    a, b = _tensors(sr, hr)
    d = (_crop(a, crop_border).double() - _crop(b, crop_border).double()).flatten(1)
    mse = d.square().mean(dim=1).cpu().numpy() + mse_offset
    with np.errstate(divide="ignore"):
        return like(10.0 * log10_rounded((1.0 / mse) * DATA_RANGE**2), sr)


def ssim_rgb(sr: Image, hr: Image, crop_border: int, *, matlab: bool = False) -> Image:
    """Per-image SSIM averaged over the channels: ``mean_c SSIM(sr_c, hr_c)`` with each channel
    scored as a plane by :func:`ssim` (``ssim_index.m``) or :func:`ssim_matlab` (``matlab``), as
    BasicSR's ``calculate_ssim`` without ``test_y_channel`` and skimage's ``channel_axis`` do."""
    n, c = sr.shape[:2]
    planes = [x.reshape(n * c, 1, *x.shape[-2:]) for x in _tensors(sr, hr)]
    per_plane = ssim_matlab(*planes, crop_border) if matlab else ssim(*planes, crop_border)
    return like(per_plane.reshape(n, c).mean(dim=1).cpu().numpy(), sr)


@register
class PSNR(PerImageMetric, facts="psnr"):
    """Y-channel PSNR with a border crop (see the module docstring)."""

    takes_arrays: ClassVar[bool] = True
    reads_luma: ClassVar[bool] = True

    def reference(self, hr: Image) -> Image | None:
        """``Y(hr)`` under a protocol whose Y is not the plain float one, made once for every model."""
        y = self.settings.protocol.y
        return luma(hr, y) if y not in ("float", "rgb") else None

    def score(self, sr: Image, hr: Image, ref: object = None) -> Image:
        assert ref is None or hasattr(ref, "shape")
        y = self.settings.protocol.y
        offset = PYIQA_PSNR_EPS * DATA_RANGE**2 if self.settings.protocol.psnr == "pyiqa" else 0.0
        if y == "rgb":
            return psnr_rgb(sr, hr, self.settings.crop_border, offset)
        if y != "float":
            sr, hr = luma(sr, y), (ref if ref is not None else luma(hr, y))
        return psnr(sr, hr, self.settings.crop_border, offset)


@register
class SSIM(PerImageMetric, facts="ssim"):
    """Y-channel SSIM of Wang et al. (2004) with a border crop (see the module docstring)."""

    takes_arrays: ClassVar[bool] = True
    reads_luma: ClassVar[bool] = True

    def reference(self, hr: Image) -> SSIMReference | None:
        protocol = self.settings.protocol
        if protocol.ssim != "wang" or protocol.y == "rgb":  # matlab and pyiqa: all in score()
            return None
        y_hr = luma(hr, protocol.y) if protocol.y != "float" else hr
        return ssim_reference(y_hr, self.settings.crop_border)

    def score(self, sr: Image, hr: Image, ref: object = None) -> Image:
        assert ref is None or isinstance(ref, SSIMReference)
        protocol = self.settings.protocol
        if protocol.ssim == "pyiqa":  # the channels under y=rgb, else the Y plane (fidelity_pyiqa)
            planes = (sr, hr) if protocol.y == "rgb" else (luma(sr, protocol.y), luma(hr, protocol.y))
            return ssim_pyiqa(*planes, self.settings.crop_border)
        if protocol.y == "rgb":
            return ssim_rgb(sr, hr, self.settings.crop_border, matlab=protocol.ssim == "matlab")
        if protocol.y != "float":
            # the HR's Y only where its moments are not in ``ref`` already (:meth:`reference`)
            sr, hr = luma(sr, protocol.y), (luma(hr, protocol.y) if ref is None else hr)
        if protocol.ssim == "matlab":
            values = ssim_matlab(sr, hr, self.settings.crop_border)
            return values if is_tensor(sr) else values.numpy()
        return ssim(sr, hr, self.settings.crop_border, ref)


__all__ = [
    "PSNR",
    "SSIM",
    "SSIMReference",
    "gaussian_window",
    "luma",
    "mean_squared_y_error",
    "psnr",
    "psnr_rgb",
    "rgb_to_y",
    "ssim",
    "ssim_map_mean",
    "ssim_matlab",
    "ssim_reference",
    "ssim_rgb",
]
