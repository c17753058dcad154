"""RRDBNet, the ESRGAN generator: Wang et al., "ESRGAN: Enhanced Super-Resolution Generative
Adversarial Networks", ECCV Workshops 2018.

Residual-in-residual dense blocks without batch normalisation::

    RDB(x)  = x + 0.2 * conv_5([x, x_1, x_2, x_3, x_4]),   x_i = LReLU(conv_i([x, x_1, ..., x_{i-1}]))
    RRDB(x) = x + 0.2 * RDB_3(RDB_2(RDB_1(x)))
    f0 = conv_first(LR);   f = f0 + conv_body(RRDB_23(...RRDB_1(f0)))
    f  = [LReLU(conv(nearest_x2(f)))] * log2(s)
    SR = conv_last(LReLU(conv_hr(f)))

``conv_i`` outputs ``num_grow_ch`` channels (the growth), ``conv_5`` goes back to ``num_feat``; all
convolutions are 3x3 and LeakyReLU has slope 0.2. Paper size: 64 features, 23 RRDBs, growth 32:
16,697,987 parameters at x4. Convolutions inside the RRDBs start from He initialisation scaled by
0.1 (ESRGAN's "smaller initialisation" for residual scaling). For x2 and x8 this version uses one
nearest+conv step per factor of two (BasicSR instead pixel-unshuffles the input at x2).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from srbench_eval.models.archs.common import SRNet, check_scale, log2_steps

RESIDUAL_SCALE = 0.2


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3x3 convolutions with residual scaling 0.2."""

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(num_feat + i * num_grow_ch, num_grow_ch if i < 4 else num_feat, 3, padding=1)
            for i in range(5)
        )
        self.act = nn.LeakyReLU(0.2, inplace=True)
        for conv in self.convs:
            nn.init.kaiming_normal_(conv.weight)
            with torch.no_grad():
                conv.weight.mul_(0.1)
            nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for conv in self.convs[:-1]:
            feats.append(self.act(conv(torch.cat(feats, dim=1))))
        return x + RESIDUAL_SCALE * self.convs[-1](torch.cat(feats, dim=1))


class RRDB(nn.Module):
    """Three residual dense blocks inside a scaled residual connection."""

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.rdbs = nn.Sequential(*[ResidualDenseBlock(num_feat, num_grow_ch) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + RESIDUAL_SCALE * self.rdbs(x)


class RRDBNet(SRNet):
    """RRDBNet with ``num_block`` RRDBs of ``num_feat`` features and growth ``num_grow_ch``."""

    supported_scales = (2, 4, 8)

    def __init__(
        self, scale: int = 4, num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32
    ) -> None:
        super().__init__()
        check_scale(type(self), scale)
        self.scale = scale
        self.conv_first = nn.Conv2d(3, num_feat, 3, padding=1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, padding=1)
        self.conv_up = nn.ModuleList(
            nn.Conv2d(num_feat, num_feat, 3, padding=1) for _ in range(log2_steps(scale))
        )
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, padding=1)
        self.conv_last = nn.Conv2d(num_feat, 3, 3, padding=1)
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        f = self.conv_first(lr)
        f = f + self.conv_body(self.body(f))
        for conv in self.conv_up:
            f = self.act(conv(F.interpolate(f, scale_factor=2, mode="nearest")))
        return self.conv_last(self.act(self.conv_hr(f)))
