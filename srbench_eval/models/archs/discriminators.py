"""The two discriminators of the zoo. Both return one raw logit per image, ``(N, 1)``: the sigmoid
of the papers lives in the adversarial losses (``binary_cross_entropy_with_logits``), which is the
numerically stable form of the same equations.

* :class:`VGGStyleDiscriminator`: ESRGAN's 128x128 discriminator (Wang et al., ECCV Workshops 2018,
  "Discriminator_VGG_128"): five stages of [3x3 conv, 4x4 stride-2 conv], widths 64, 128, 256,
  512, 512, batch normalisation on every convolution except the first, LeakyReLU 0.2, then
  ``Linear(512*4*4, 100)``, LeakyReLU, ``Linear(100, 1)``.
* :class:`SRGANDiscriminator`: SRGAN's discriminator (Ledig et al., CVPR 2017, Fig. 4): eight 3x3
  convolutions with 64, 64, 128, 128, 256, 256, 512, 512 filters, stride 2 on every second one,
  batch normalisation on all but the first, LeakyReLU 0.2, then ``Dense(1024)``, LeakyReLU,
  ``Dense(1)``. The paper trains on 96x96 HR patches.

Both need a fixed input size (``input_size``, the HR patch size) because of their dense layers;
:func:`srbench_eval.models.recipes.named.build_discriminator` takes it from the recipe's ``hr_patch``.
"""

from __future__ import annotations

import torch
from torch import nn


def _conv_bn_act(cin: int, cout: int, kernel: int, stride: int, bn: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride=stride, padding=1, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


class _FixedSizeDiscriminator(nn.Module):
    input_size: int

    def check_input(self, x: torch.Tensor) -> None:
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise ValueError(
                f"{type(self).__name__} was built for {self.input_size}x{self.input_size} inputs, "
                f"got {tuple(x.shape[-2:])}"
            )


class VGGStyleDiscriminator(_FixedSizeDiscriminator):
    """ESRGAN's VGG-style discriminator for ``input_size`` x ``input_size`` patches (a multiple of 32)."""

    def __init__(self, num_feat: int = 64, input_size: int = 128, in_channels: int = 3) -> None:
        super().__init__()
        if input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {input_size}")
        self.input_size = input_size
        widths = [num_feat, 2 * num_feat, 4 * num_feat, 8 * num_feat, 8 * num_feat]
        layers: list[nn.Module] = []
        cin = in_channels
        for i, w in enumerate(widths):
            layers += _conv_bn_act(cin, w, 3, 1, bn=i > 0)
            layers += _conv_bn_act(w, w, 4, 2)
            cin = w
        self.features = nn.Sequential(*layers)
        side = input_size // 32
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(widths[-1] * side * side, 100),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(100, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.classifier(self.features(x))


class SRGANDiscriminator(_FixedSizeDiscriminator):
    """SRGAN's discriminator for ``input_size`` x ``input_size`` patches (a multiple of 16)."""

    def __init__(
        self, num_feat: int = 64, input_size: int = 96, in_channels: int = 3, dense: int = 1024
    ) -> None:
        super().__init__()
        if input_size % 16:
            raise ValueError(f"input_size must be a multiple of 16, got {input_size}")
        self.input_size = input_size
        widths = [
            num_feat,
            num_feat,
            2 * num_feat,
            2 * num_feat,
            4 * num_feat,
            4 * num_feat,
            8 * num_feat,
            8 * num_feat,
        ]
        layers: list[nn.Module] = []
        cin = in_channels
        for i, w in enumerate(widths):
            layers += _conv_bn_act(cin, w, 3, 1 + i % 2, bn=i > 0)
            cin = w
        self.features = nn.Sequential(*layers)
        side = input_size // 16
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(widths[-1] * side * side, dense),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(dense, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.classifier(self.features(x))
