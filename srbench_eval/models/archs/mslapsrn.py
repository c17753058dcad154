"""MS-LapSRN: Lai, Huang, Ahuja, Yang, "Fast and Accurate Image Super-Resolution with Deep Laplacian
Pyramid Networks", TPAMI 2018 (arXiv:1710.01992); the authors' MatConvNet graph is built by
``init_MSLapSRN_model.m`` (phoenix104104/LapSRN) and run by ``SR_MSLapSRN.m``.

One network for x2, x4 and x8: a Laplacian pyramid of ``L = log2(s)`` x2 levels whose parameters are
shared *across levels* (one feature-embedding sub-network, one feature upsampler, one residual
convolution, one image upsampler) and, inside a level, across ``R`` recursions of one block of ``D``
convolutions (D5R8: depth 5, 8 recursions). On the Y channel in [0, 1]; every ReLU is leaky (0.2).

Level ``l = 1..L`` with input features ``F_{l-1}`` (``F_0 = conv_in(LR)``, 1 -> 64 channels) and
image ``I_{l-1}`` (``I_0 = LR``)::

    H_0 = F_{l-1}
    H_r = B(H_{r-1}) + F_{l-1},   r = 1..R         (shared-source skip, the "SS" of the opts file)
    B(x) = conv_D(lrelu(... conv_1(lrelu(x))))     (pre-activation, 3x3, 64 -> 64, zero padding 1)
    F_l = up(lrelu(H_R))                           (3x3 transposed conv, stride 2, last row/column
                                                    cropped: ``crop = [0 1 0 1]``)
    I_l = img_up(I_{l-1}) + conv_res(F_l)          (4x4 transposed conv, stride 2, crop 1 each side;
                                                    conv_res 3x3, 64 -> 1)

The x``s`` output is ``I_L``. MatConvNet's ``vl_nnconv`` is a correlation with zero padding, as
``nn.Conv2d``; ``vl_nnconvt`` with ``upsample = 2`` and ``crop = [t b l r]`` is ``nn.ConvTranspose2d``
with stride 2 and those rows/columns removed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from srbench_eval.models.archs.common import log2_steps

LEAK = 0.2
SCALES = (2, 4, 8)


class MSLapSRN(nn.Module):
    """MS-LapSRN with ``depth`` convolutions per recursive block and ``recursions`` blocks per level.

    ``forward(y, scale)`` maps a ``(N, 1, h, w)`` Y batch in [0, 1] to ``(N, 1, s h, s w)`` for
    ``s`` in 2, 4, 8 (default ``self.scale``); :meth:`pyramid` returns every level's image.
    """

    def __init__(self, depth: int = 5, recursions: int = 8, num_feat: int = 64, scale: int = 4) -> None:
        super().__init__()
        if depth < 1 or recursions < 1:
            raise ValueError(f"depth and recursions must be >= 1, got D{depth}R{recursions}")
        self.depth, self.recursions, self.scale = depth, recursions, self._check(scale)
        self.conv_in = nn.Conv2d(1, num_feat, 3, padding=1)
        self.block = nn.ModuleList(nn.Conv2d(num_feat, num_feat, 3, padding=1) for _ in range(depth))
        self.feature_up = nn.ConvTranspose2d(num_feat, num_feat, 3, stride=2)
        self.residual = nn.Conv2d(num_feat, 1, 3, padding=1)
        self.image_up = nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1, bias=False)

    @staticmethod
    def _check(scale: int) -> int:
        if scale not in SCALES:
            raise ValueError(f"MS-LapSRN upscales x2, x4 or x8, not x{scale}")
        return scale

    def _level_features(self, source: torch.Tensor) -> torch.Tensor:
        """``F_l = up(lrelu(H_R))`` of one level from its input features ``F_{l-1}``."""
        h = source
        for _ in range(self.recursions):
            t = h
            for conv in self.block:
                t = conv(F.leaky_relu(t, LEAK))
            h = t + source
        up = self.feature_up(F.leaky_relu(h, LEAK))
        return up[..., :-1, :-1]  # crop = [0 1 0 1]: (h - 1) * 2 + 3 - 1 = 2 h rows

    def pyramid(self, y: torch.Tensor, scale: int | None = None) -> list[torch.Tensor]:
        """The images ``I_1..I_L`` (x2, x4, ... up to ``scale``), coarse to fine."""
        levels = log2_steps(self._check(scale or self.scale))
        if y.ndim != 4 or y.shape[1] != 1:
            raise ValueError(f"MS-LapSRN takes (N, 1, h, w) Y batches, got {tuple(y.shape)}")
        features, image, out = self.conv_in(y), y, []
        for _ in range(levels):
            features = self._level_features(features)
            image = self.image_up(image) + self.residual(features)
            out.append(image)
        return out

    def forward(self, y: torch.Tensor, scale: int | None = None) -> torch.Tensor:
        return self.pyramid(y, scale)[-1]


class FixedScale(nn.Module):
    """An :class:`MSLapSRN` at one scale (``net(y)``), as the authors' test code builds it: their
    ``evaluate_MSLapSRN_dataset.m`` copies the multi-scale weights into a single-scale graph."""

    def __init__(self, net: MSLapSRN, scale: int) -> None:
        super().__init__()
        self.net, self.scale = net, MSLapSRN._check(scale)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.net(y, self.scale)


__all__ = ["LEAK", "SCALES", "FixedScale", "MSLapSRN"]
