"""SRResNet, the SRGAN generator: Ledig et al., "Photo-Realistic Single Image Super-Resolution
Using a Generative Adversarial Network", CVPR 2017.

::

    x0 = PReLU(conv9x9(LR))                               3 -> 64
    x  = x0 + BN(conv3x3(B_16(...B_1(x0))))               B_i(x) = x + BN(conv(PReLU(BN(conv(x)))))
    x  = [PReLU(PixelShuffle_2(conv3x3(x)))] * log2(s)    64 -> 256 -> 64 at twice the size
    SR = conv9x9(x)                                       64 -> 3

Paper size: 64 features, 16 residual blocks, two x2 sub-pixel upsamplers for x4 (1.55M
parameters). Departure: the output is linear in [0, 1] (the paper ends in tanh on [-1, 1] targets);
PReLUs have one shared slope, PyTorch's default.
"""

from __future__ import annotations

import torch
from torch import nn

from srbench_eval.models.archs.common import SRNet, check_scale, log2_steps


class ResidualBlockBN(nn.Module):
    """conv-BN-PReLU-conv-BN with an identity skip."""

    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(num_feat, num_feat, 3, padding=1),
            nn.BatchNorm2d(num_feat),
            nn.PReLU(),
            nn.Conv2d(num_feat, num_feat, 3, padding=1),
            nn.BatchNorm2d(num_feat),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(SRNet):
    """SRResNet with ``num_block`` BN residual blocks of ``num_feat`` features."""

    supported_scales = (2, 4, 8)

    def __init__(self, scale: int = 4, num_feat: int = 64, num_block: int = 16) -> None:
        super().__init__()
        check_scale(type(self), scale)
        self.scale = scale
        self.head = nn.Sequential(nn.Conv2d(3, num_feat, 9, padding=4), nn.PReLU())
        self.body = nn.Sequential(*[ResidualBlockBN(num_feat) for _ in range(num_block)])
        self.body_end = nn.Sequential(nn.Conv2d(num_feat, num_feat, 3, padding=1), nn.BatchNorm2d(num_feat))
        up: list[nn.Module] = []
        for _ in range(log2_steps(scale)):
            up += [nn.Conv2d(num_feat, 4 * num_feat, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.upsample = nn.Sequential(*up)
        self.tail = nn.Conv2d(num_feat, 3, 9, padding=4)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        x0 = self.head(lr)
        x = x0 + self.body_end(self.body(x0))
        return self.tail(self.upsample(x))
