"""The bicubic baseline: MATLAB ``imresize(LR, scale, 'bicubic')`` of the uint8 LR image, no parameters.

This is the "Bicubic" column of every SR paper's table: the LR image upscaled by the same
MATLAB-compatible bicubic kernel (Keys, a = -0.5) that made it from the HR image.
"""

from __future__ import annotations

import torch
from torch import nn

from srbench_eval.data.degrade.bicubic import imresize_uint8


class Bicubic(nn.Module):
    """``(N, C, h, w)`` in [0, 1] -> ``(N, C, scale*h, scale*w)``, any number of channels."""

    def __init__(self, scale: int = 4) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        # The evaluation loop feeds uint8 / 255: recover the exact integers and resize them as
        # MATLAB resizes a uint8 image (rounded after each 1-D pass).
        x = (lr.double() * 255.0).round()
        return imresize_uint8(x, self.scale) / 255.0
