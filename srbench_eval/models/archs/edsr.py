"""EDSR: Lim, Son, Kim, Nah, Lee, "Enhanced Deep Residual Networks for Single Image
Super-Resolution", CVPR Workshops 2017, under the key names of the authors' EDSR-PyTorch release
(``edsr_x4-4f62e9ef.pt``, ``edsr_baseline_x2-1bc95232.pt``), which spandrel does not load.

EDSR-PyTorch works on RGB in [0, 255] (``rgb_range = 255``); its mean shift is a stored 1x1
convolution (``sub_mean`` / ``add_mean``), so no constant is hard-coded here::

    x = sub_mean(255 * lr);  f = head(x);  f = f + body(f)
    sr = add_mean(tail(f)) / 255
    body = n residual blocks [conv, ReLU, conv] * res_scale, then one conv
    tail = pixel-shuffle upsampler (log2(s) x2 steps, or one x3 step), then a conv to RGB

``res_scale`` is not stored in the weights: EDSR-PyTorch's templates use 0.1 for the large model
(256 features) and 1 for the baseline (64 features); :func:`from_state_dict` follows them.
"""

from __future__ import annotations

import re

import torch
from torch import nn


class _ResBlock(nn.Module):
    def __init__(self, n_feats: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(n_feats, n_feats, 3, padding=1), nn.ReLU(True))
        self.body.append(nn.Conv2d(n_feats, n_feats, 3, padding=1))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) * self.res_scale


class EDSR(nn.Module):
    """EDSR with ``n_resblocks`` blocks of ``n_feats`` features at ``scale`` (2, 3, 4, 8)."""

    def __init__(self, scale: int, n_resblocks: int = 32, n_feats: int = 256, res_scale: float = 0.1) -> None:
        super().__init__()
        self.scale = scale
        self.sub_mean = nn.Conv2d(3, 3, 1)
        self.add_mean = nn.Conv2d(3, 3, 1)
        self.head = nn.Sequential(nn.Conv2d(3, n_feats, 3, padding=1))
        blocks: list[nn.Module] = [_ResBlock(n_feats, res_scale) for _ in range(n_resblocks)]
        self.body = nn.Sequential(*blocks, nn.Conv2d(n_feats, n_feats, 3, padding=1))
        up: list[nn.Module] = []
        steps = [3] if scale == 3 else [2] * (scale.bit_length() - 1)
        if scale not in (2, 3, 4, 8):
            raise ValueError(f"EDSR supports x2, x3, x4, x8, not x{scale}")
        for r in steps:
            up += [nn.Conv2d(n_feats, r * r * n_feats, 3, padding=1), nn.PixelShuffle(r)]
        self.tail = nn.Sequential(nn.Sequential(*up), nn.Conv2d(n_feats, 3, 3, padding=1))

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        x = self.head(self.sub_mean(lr * 255.0))
        x = x + self.body(x)
        return self.add_mean(self.tail(x)) / 255.0


def is_edsr_state_dict(sd: dict[str, torch.Tensor]) -> bool:
    """The EDSR-PyTorch key layout: mean shifts, ``head.0``, plain residual blocks ``body.N.body.0``,
    ``tail.1``. RCAN shares the frame (same code base) but nests groups of channel-attention blocks
    (``body.0.body.0.body.0``, ``conv_du``): that one is spandrel's."""
    keys = ("sub_mean.weight", "add_mean.weight", "head.0.weight", "body.0.body.0.weight", "tail.1.weight")
    return all(k in sd for k in keys) and not any(".conv_du." in k for k in sd)


def from_state_dict(sd: dict[str, torch.Tensor]) -> EDSR:
    """Build EDSR from its state dict: blocks, features and scale read off the tensors."""
    n_feats = sd["head.0.weight"].shape[0]
    n_resblocks = len({m.group(1) for k in sd if (m := re.match(r"body\.(\d+)\.body\.0\.weight$", k))})
    ups = sorted(int(m.group(1)) for k in sd if (m := re.match(r"tail\.0\.(\d+)\.weight$", k)))
    ratios = [round((sd[f"tail.0.{i}.weight"].shape[0] / n_feats) ** 0.5) for i in ups]
    scale = 1
    for r in ratios:
        scale *= r
    net = EDSR(scale, n_resblocks, n_feats, res_scale=0.1 if n_feats == 256 else 1.0)
    net.load_state_dict(sd, strict=True)
    return net
