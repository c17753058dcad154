"""DRN: Guo, Chen, Wang, Chen, Cao, Deng, Xu, Tan, "Closed-loop Matters: Dual Regression Networks
for Single Image Super-Resolution", CVPR 2020, under the key names of the authors' release
(guoyongcs/DRN: ``DRNS4x.pt``, ``DRNS8x.pt``, ``DRNL4x.pt``, ``DRNL8x.pt``, the primal network's
state dict), which spandrel does not load. Only the primal network is built: the dual (down-scaling)
models of the release's ``*_dual_model.pt`` files serve the training loss alone.

The primal network is a U-Net over ``P = log2(s)`` phases, working on RGB in [0, 255]
(``rgb_range = 255``) after a stored 1x1 mean-shift convolution (DIV2K's mean, no scaling)::

    x  = head(sub_mean(bicubic_s(255 * lr)))          # bicubic: PyTorch's, align_corners=False
    d_p = x at phase p;  x = down_p(x)                # p = 0 .. P-1: stride-2 conv, LReLU(0.2), conv
    sr_0 = add_mean(tail_0(x))                        # the 1/s-size output
    for i in 0 .. P-1:                                # up: B RCABs, x2 pixel shuffle, 1x1 conv
        x = concat(up_i(x), d_{P-1-i});  sr_{i+1} = add_mean(tail_{i+1}(x))
    sr = sr_P / 255

with ``F * 2^p`` features at phase ``p`` (``F``: 16 for DRN-S x4, 8 for DRN-S x8, 20 for DRN-L x4,
10 for DRN-L x8; ``B``: 30, 30, 40, 36 blocks), and RCAB = conv, ReLU, conv, channel attention
(global mean, 1x1 down by 16, ReLU, 1x1 up, sigmoid), plus the input. The evaluation protocol of
the DRN paper is EDSR's (Y, border ``s`` cropped).
"""

from __future__ import annotations

import math
import re

import torch
from torch import nn
from torch.nn import functional as F


def _conv(cin: int, cout: int, k: int = 3, bias: bool = True, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=bias)


class _ChannelAttention(nn.Module):
    """``x * sigmoid(W2 relu(W1 mean(x)))`` with ``W1`` reducing the channels by ``reduction``."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = channels // reduction
        self.conv_du = nn.Sequential(_conv(channels, hidden, 1), nn.ReLU(True), _conv(hidden, channels, 1))
        self.conv_du.append(nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv_du(x.mean(dim=(2, 3), keepdim=True))


class _RCAB(nn.Module):
    """Residual channel-attention block (RCAN's): ``x + CA(conv(relu(conv(x))))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(channels, channels), nn.ReLU(True), _conv(channels, channels))
        self.body.append(_ChannelAttention(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _down(channels: int, out: int) -> nn.Module:
    """One x2 down step of the primal network: stride-2 conv, LeakyReLU(0.2), conv (no biases)."""
    first = nn.Sequential(_conv(channels, channels, bias=False, stride=2), nn.LeakyReLU(0.2, True))
    block = nn.Module()
    block.dual_module = nn.Sequential(first, _conv(channels, out, bias=False))
    return block


class DRN(nn.Module):
    """DRN's primal network for ``scale`` (4 or 8: ``log2(scale)`` phases) with ``n_feats`` base
    features and ``n_blocks`` RCABs per up phase; RGB in [0, 1] in and out."""

    def __init__(self, scale: int = 4, n_feats: int = 16, n_blocks: int = 30) -> None:
        super().__init__()
        if scale < 2 or scale & (scale - 1):
            raise ValueError(f"DRN upscales by a power of two, not x{scale}")
        self.scale = scale
        self.phases = phases = int(math.log2(scale))
        width = [n_feats * 2**p for p in range(phases + 1)]
        self.sub_mean = nn.Conv2d(3, 3, 1)  # stored: 1x1 identity, bias -255 * mean
        self.add_mean = nn.Conv2d(3, 3, 1)
        self.head = _conv(3, n_feats)
        self.down = nn.ModuleList(_down(width[p], width[p + 1]) for p in range(phases))
        self.up_blocks = nn.ModuleList()
        for i in range(phases):
            p = phases - i  # features entering up phase i: F 2^P, then 2 F 2^p (after a concat)
            cin = width[p] if i == 0 else 2 * width[p]
            blocks: list[nn.Module] = [_RCAB(cin) for _ in range(n_blocks)]
            blocks += [nn.Sequential(_conv(cin, 4 * cin), nn.PixelShuffle(2)), _conv(cin, width[p - 1], 1)]
            self.up_blocks.append(nn.Sequential(*blocks))
        tails = [_conv(width[phases], 3)] + [_conv(2 * width[p], 3) for p in range(phases - 1, -1, -1)]
        self.tail = nn.ModuleList(tails)

    def forward_levels(self, lr: torch.Tensor) -> list[torch.Tensor]:
        """Every output of the network, coarse to fine, in [0, 255] (the release's own range)."""
        x = F.interpolate(lr * 255.0, scale_factor=self.scale, mode="bicubic", align_corners=False)
        x = self.head(self.sub_mean(x))
        skips = []
        for down in self.down:
            skips.append(x)
            x = down.dual_module(x)
        levels = [self.add_mean(self.tail[0](x))]
        for i, up in enumerate(self.up_blocks):
            x = torch.cat((up(x), skips[self.phases - 1 - i]), 1)
            levels.append(self.add_mean(self.tail[i + 1](x)))
        return levels

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.forward_levels(lr)[-1] / 255.0


def is_drn_state_dict(sd: dict[str, torch.Tensor]) -> bool:
    """The release's key layout: mean shifts, ``head``, ``down.N.dual_module``, ``up_blocks``,
    ``tail.N``."""
    keys = ("sub_mean.weight", "add_mean.weight", "head.weight", "down.0.dual_module.0.0.weight")
    return all(k in sd for k in keys) and "up_blocks.0.0.body.0.weight" in sd and "tail.0.weight" in sd


def from_state_dict(sd: dict[str, torch.Tensor]) -> DRN:
    """Build DRN from its state dict: phases (so the scale), features and blocks read off the
    tensors; every key must load (``strict``)."""
    phases = len({m.group(1) for k in sd if (m := re.match(r"down\.(\d+)\.dual_module\.", k))})
    n_feats = sd["head.weight"].shape[0]
    n_blocks = len({m.group(1) for k in sd if (m := re.match(r"up_blocks\.0\.(\d+)\.body\.0\.weight$", k))})
    net = DRN(2**phases, n_feats, n_blocks)
    net.load_state_dict(sd, strict=True)
    return net
