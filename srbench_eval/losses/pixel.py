"""Pixel losses: mean over every element of ``(N, C, H, W)``.

* L1:          ``l = mean |sr - hr|``
* MSE:         ``l = mean (sr - hr)^2``
* Charbonnier: ``l = mean sqrt((sr - hr)^2 + eps^2)`` with ``eps = 1e-3`` (LapSRN, Lai et al.
  CVPR 2017). Note ``eps`` is squared inside the root: ``eps^2 = 1e-6``, not ``1e-3`` (a common
  porting bug adds ``1e-3`` under the root, i.e. ``eps ~ 0.032``). The value of identical images is
  therefore ``eps`` exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from srbench_eval.losses.base import LossTerm


class L1Loss(LossTerm):
    """``mean |sr - hr|``."""

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(sr, hr)


class MSELoss(LossTerm):
    """``mean (sr - hr)^2``."""

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(sr, hr)


class CharbonnierLoss(LossTerm):
    """``mean sqrt((sr - hr)^2 + eps^2)``, ``eps = 1e-3``."""

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f"Charbonnier eps must be positive, got {eps}")
        self.eps = eps

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((sr - hr) ** 2 + self.eps**2).mean()
