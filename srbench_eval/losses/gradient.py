"""Derivative-based losses: the second-order gradient loss and total variation.

Second-order gradient loss (Lin, Zhang, Yang, "A pluggable single-image super-resolution algorithm
based on second-order gradient loss", BenchCouncil Transactions 2023). Each channel of ``sr`` and
``hr`` is filtered (cross-correlation, no padding: only the ``(H-2) x (W-2)`` positions whose 3x3
window lies inside the image, so borders add nothing spurious) with three fixed central-difference
kernels, ``x`` along the width and ``y`` along the height, unit pixel spacing::

    d2/dx2 :  [[0,  0, 0],      d2/dy2 :  [[0,  1, 0],      d2/dxdy : 1/4 [[ 1, 0, -1],
               [1, -2, 1],                 [0, -2, 0],                     [ 0, 0,  0],
               [0,  0, 0]]                 [0,  1, 0]]                     [-1, 0,  1]]

    l_SOG = 1/3 * sum_{k in {xx, yy, xy}} mean |K_k * sr - K_k * hr|

(the mean over batch, channels and positions; each kernel is the exact second derivative of a
quadratic). The kernels annihilate constants and linear ramps ``a + b x + c y``, so the loss is zero
for identical images and for images differing by a ramp.

Total variation (anisotropic, Rudin-Osher-Fatemi; used as a regulariser e.g. in SRGAN's
ablations)::

    l_TV = mean |sr[:, :, i+1, j] - sr[:, :, i, j]| + mean |sr[:, :, i, j+1] - sr[:, :, i, j]|

It ignores ``hr``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from srbench_eval.losses.base import LossTerm

SECOND_ORDER_KERNELS = torch.tensor(
    [
        [[0.0, 0.0, 0.0], [1.0, -2.0, 1.0], [0.0, 0.0, 0.0]],  # d2/dx2
        [[0.0, 1.0, 0.0], [0.0, -2.0, 0.0], [0.0, 1.0, 0.0]],  # d2/dy2
        [[0.25, 0.0, -0.25], [0.0, 0.0, 0.0], [-0.25, 0.0, 0.25]],  # d2/dxdy
    ]
)


def second_order_maps(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` -> ``(N, C, 3, H-2, W-2)``: d2/dx2, d2/dy2, d2/dxdy of every channel."""
    n, c, h, w = x.shape
    k = SECOND_ORDER_KERNELS.to(device=x.device, dtype=x.dtype).unsqueeze(1)  # (3, 1, 3, 3)
    maps = F.conv2d(x.reshape(n * c, 1, h, w), k)
    return maps.view(n, c, 3, h - 2, w - 2)


class SecondOrderGradientLoss(LossTerm):
    """``1/3 sum_k mean |K_k * sr - K_k * hr|`` over the three second-derivative kernels."""

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return (second_order_maps(sr) - second_order_maps(hr)).abs().mean()


class TotalVariationLoss(LossTerm):
    """Anisotropic total variation of ``sr`` (``hr`` is ignored)."""

    def forward(self, sr: torch.Tensor, hr: torch.Tensor | None = None) -> torch.Tensor:
        dy = (sr[:, :, 1:, :] - sr[:, :, :-1, :]).abs().mean()
        dx = (sr[:, :, :, 1:] - sr[:, :, :, :-1]).abs().mean()
        return dx + dy
