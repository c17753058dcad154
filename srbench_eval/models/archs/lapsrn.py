"""LapSRN: Lai, Huang, Ahuja, Yang, "Deep Laplacian Pyramid Networks for Fast and Accurate
Super-Resolution", CVPR 2017.

A Laplacian pyramid of ``log2(scale)`` x2 levels (2 for x4, 3 for x8), each with two branches:

* feature embedding: ``depth`` 3x3 convolutions (LeakyReLU 0.2) then a 4x4 stride-2 transposed
  convolution that doubles the feature maps; the features flow on to the next level;
* image reconstruction: the image of the previous level is doubled by a 4x4 stride-2 transposed
  convolution (initialised as bilinear upsampling, learned) and the residual predicted from the
  level's features by a 3x3 convolution is added::

      I_s = up(I_{s-1}) + R_s(F_s),     I_0 = LR

Every level's image is an output, so the loss supervises each (``forward_train`` returns them in
:attr:`GeneratorOutput.levels`, coarse to fine); the paper uses the Charbonnier penalty at every
level against the HR image bicubic-downscaled to that level's size.

Departures from the paper: RGB in and out (the paper works on Y only); the image upsampling is
one depthwise transposed convolution per channel. Paper size: 64 features, depth 10 per level.

With ``fdl`` set, each level's residual convolution is replaced by a
:class:`~srbench_eval.models.archs.heads.FineGrainedHead` over the residual range [-1, 1] whose
``offset`` is the upsampled image, so the level's output is ``up(I_{s-1}) + residual``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from srbench_eval.models.archs.common import GeneratorOutput, SRNet, check_scale, log2_steps
from srbench_eval.models.archs.heads import FineGrainedHead


def bilinear_kernel(size: int) -> torch.Tensor:
    """The ``size x size`` bilinear upsampling kernel for a stride ``ceil(size / 2)`` transposed conv."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = 1 - (torch.arange(size, dtype=torch.float32) - center).abs() / factor
    return og[:, None] * og[None, :]


class LapSRN(SRNet):
    """LapSRN with ``log2(scale)`` pyramid levels of ``depth`` convolutions and ``num_feat`` features."""

    supported_scales = (2, 4, 8)

    def __init__(
        self, scale: int = 4, num_feat: int = 64, depth: int = 10, fdl: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        check_scale(type(self), scale)
        self.scale = scale
        levels = log2_steps(scale)
        self.conv_in = nn.Conv2d(3, num_feat, 3, padding=1)
        self.act = nn.LeakyReLU(0.2, inplace=True)
        self.features = nn.ModuleList()
        self.residual = nn.ModuleList()
        self.image_up = nn.ModuleList()
        for _ in range(levels):
            layers: list[nn.Module] = []
            for _ in range(depth):
                layers += [nn.Conv2d(num_feat, num_feat, 3, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            layers += [
                nn.ConvTranspose2d(num_feat, num_feat, 4, stride=2, padding=1),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            self.features.append(nn.Sequential(*layers))
            if fdl is None:
                self.residual.append(nn.Conv2d(num_feat, 3, 3, padding=1))
            else:
                self.residual.append(FineGrainedHead(num_feat, 3, **{"v_min": -1.0, "v_max": 1.0, **fdl}))
            up = nn.ConvTranspose2d(3, 3, 4, stride=2, padding=1, groups=3, bias=False)
            with torch.no_grad():
                up.weight.copy_(bilinear_kernel(4).expand(3, 1, 4, 4))
            self.image_up.append(up)
        self.fdl = fdl is not None
        self._init_convs()

    def _init_convs(self) -> None:
        # He initialisation of the convolutions, as in the paper (the image branch keeps bilinear).
        for m in [*self.features.modules(), self.conv_in]:
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.kaiming_normal_(m.weight, a=0.2)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward_train(self, lr: torch.Tensor) -> GeneratorOutput:
        f = self.act(self.conv_in(lr))
        img = lr
        levels: list[torch.Tensor] = []
        heads = []
        for feat, res, up in zip(self.features, self.residual, self.image_up, strict=True):
            f = feat(f)
            base = up(img)
            if self.fdl:
                out = res(f, offset=base)
                heads.append(out)
                img = out.value
            else:
                img = base + res(f)
            levels.append(img)
        return GeneratorOutput(sr=img, levels=tuple(levels), heads=tuple(heads))

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.forward_train(lr).sr
