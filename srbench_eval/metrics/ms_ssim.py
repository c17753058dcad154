"""MS-SSIM, multi-scale structural similarity (Wang, Simoncelli & Bovik, Asilomar 2003), higher is better.

As the authors' MATLAB ``msssim.m`` (with its ``ssim_index_new.m``), on one grey plane ``x``, ``y``
(0..255, float64, ``L = 255``), for scales ``j = 1..M`` (``M = 5``)::

    l_j  = mean over the map of (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)   times c_j's map
    cs_j = mean over the map of (2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2)
    ssim_j = mean of the full SSIM map at scale j

with SSIM's 11x11 Gaussian window (sigma 1.5), ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``, 'valid'
positions only (:mod:`srbench_eval.metrics.fidelity`). Between scales both images are filtered by the
2x2 box ``ones(2)/4`` (MATLAB ``imfilter(.., 'symmetric', 'same')``: the block ``(2i-1, 2i)`` with the
last row/column repeated for odd sizes) and every second sample is kept, in float64. Then

    product (the paper's formula):              MS-SSIM = prod_{j<M} cs_j^w_j * ssim_M^w_M
    wtd_sum (msssim.m's other method):           MS-SSIM = sum_{j<M} w'_j cs_j + w'_M ssim_M, w' = w / sum w

with ``w = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)``. The ``ms_ssim`` values that pyiqa lists as the
official MATLAB results (``ResultsCalibra/results_official.csv``) are the ``wtd_sum`` ones on MATLAB
``rgb2gray`` planes: all five pairs agree to the printed 4 decimals, while ``product`` differs by up
to 0.0044 there (tests/metrics/test_ms_ssim.py). The metric's default is therefore ``wtd_sum``, the
form whose values the published MATLAB outputs pin; ``method=product`` gives the paper's product
form (the one piq and pytorch-msssim compute).

The smallest scale must hold the 11x11 window: sides of at least 161 pixels (``ceil(n / 16) >= 11``)
after the border crop; smaller images are refused with a one-line error.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import register
from srbench_eval.metrics.base import MetricSettings
from srbench_eval.metrics.fidelity import DATA_RANGE, SSIM_K1, SSIM_K2, SSIM_WINDOW, _local_means
from srbench_eval.metrics.luma import LumaMetric

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
METHODS = ("product", "wtd_sum")


def ssim_and_cs(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure term ``cs`` of ``(N, H, W)`` float64 planes, ``(N,)`` each."""
    c1, c2 = (SSIM_K1 * DATA_RANGE) ** 2, (SSIM_K2 * DATA_RANGE) ** 2
    mu_x, mu_y, xx, yy, xy = _local_means(x, y, x * x, y * y, x * y)
    mu_xy = mu_x * mu_y
    mu_sq = mu_x * mu_x + mu_y * mu_y
    cs = (2 * (xy - mu_xy) + c2) / (xx + yy - mu_sq + c2)
    ssim_map = (2 * mu_xy + c1) / (mu_sq + c1) * cs
    return ssim_map.mean(dim=(1, 2)), cs.mean(dim=(1, 2))


def box_downsample(x: torch.Tensor) -> torch.Tensor:
    """``imfilter(x, ones(2)/4, 'symmetric', 'same')(1:2:end, 1:2:end)`` of ``(N, H, W)`` planes:
    means of 2x2 blocks, an odd last row/column paired with itself; ``ceil(H/2) x ceil(W/2)``."""
    if x.shape[-2] % 2:
        x = torch.cat([x, x[..., -1:, :]], dim=-2)
    if x.shape[-1] % 2:
        x = torch.cat([x, x[..., :, -1:]], dim=-1)
    return (x[..., 0::2, 0::2] + x[..., 1::2, 0::2] + x[..., 0::2, 1::2] + x[..., 1::2, 1::2]) / 4


def smallest_side(levels: int = len(MS_SSIM_WEIGHTS)) -> int:
    """Smallest side whose ``levels``-th scale still holds the SSIM window: 161 for five scales."""
    return (SSIM_WINDOW - 1) * 2 ** (levels - 1) + 1


def ms_ssim(x: torch.Tensor, y: torch.Tensor, method: str = "wtd_sum") -> torch.Tensor:
    """Per-image MS-SSIM (float64, ``(N,)``) of ``(N, H, W)`` grey planes of 0..255 values."""
    if method not in METHODS:
        raise SrbenchError(f"ms-ssim: method '{method}' is not one of {', '.join(METHODS)}")
    if min(x.shape[-2:]) < smallest_side():
        raise SrbenchError(
            f"ms-ssim: a {x.shape[-2]}x{x.shape[-1]} image is too small for five scales; "
            f"it needs at least {smallest_side()}x{smallest_side()}"
        )
    x, y = x.to(torch.float64), y.to(torch.float64)
    ssims, css = [], []
    for level in range(len(MS_SSIM_WEIGHTS)):
        if level:
            x, y = box_downsample(x), box_downsample(y)
        s, c = ssim_and_cs(x, y)
        ssims.append(s)
        css.append(c)
    w = torch.tensor(MS_SSIM_WEIGHTS, dtype=torch.float64, device=x.device)
    cs = torch.stack(css[:-1], dim=1)  # (N, M - 1)
    if method == "product":
        # cs can be slightly negative on anti-correlated images; MATLAB's x.^w is then complex and
        # its product meaningless. Clamp at 0 as piq/pytorch-msssim do (a documented departure).
        return torch.prod(cs.clamp(min=0) ** w[:-1], dim=1) * ssims[-1].clamp(min=0) ** w[-1]
    w = w / w.sum()
    return cs @ w[:-1] + ssims[-1] * w[-1]


@register
class MSSSIM(LumaMetric, facts="ms-ssim"):
    """MS-SSIM on the cropped Y plane (see the module docstring).

    Option: ``method`` = ``wtd_sum`` (default: the official MATLAB values) or ``product`` (the paper's).
    """

    min_side: ClassVar[int] = smallest_side()

    def __init__(self, settings: MetricSettings, *, method: str = "wtd_sum") -> None:
        super().__init__(settings)
        if method not in METHODS:
            raise SrbenchError(f"ms-ssim: method '{method}' is not one of {', '.join(METHODS)}")
        self.method = method

    def options(self) -> dict[str, str]:
        return {"method": self.method}

    def score(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        return ms_ssim(self._y(sr, "SR"), self._y(hr, "HR"), self.method)


__all__ = [
    "METHODS",
    "MSSSIM",
    "MS_SSIM_WEIGHTS",
    "box_downsample",
    "ms_ssim",
    "smallest_side",
    "ssim_and_cs",
]
