"""SRCNN: Dong, Loy, He, Tang, "Image Super-Resolution Using Deep Convolutional Networks",
ECCV 2014 / TPAMI 2016 (the 9-1-5 network with 64/32 filters).

The LR image is first upscaled to the target size with MATLAB's bicubic
(:func:`srbench_eval.data.degrade.bicubic.upscale_bicubic`), then mapped by three convolutions::

    F1 = ReLU(W1 * Y + B1)      9x9, 3 -> 64      patch extraction
    F2 = ReLU(W2 * F1 + B2)     1x1, 64 -> 32     non-linear mapping
    F  = W3 * F2 + B3           5x5, 32 -> 3      reconstruction

Departures from the paper, to fit the zoo's RGB-in / RGB-out contract: the network takes and
returns RGB (the paper trains on the Y channel only, 1 input and 1 output channel, 8,129
parameters; this RGB version has 20,099); the convolutions are zero-padded so the output has the
full target size (the paper uses valid convolutions and loses 6 pixels on each side).

With ``fdl`` set (``{"bins_log2": 4, "tau": 0.9}``) the reconstruction layer is replaced by a
:class:`~srbench_eval.models.archs.heads.FineGrainedHead` with the same 5x5 kernel, predicting the
image over the range [0, 1]; with ``fdl.residual`` true it predicts the residual over the bicubic
input instead (bins over ``[-0.5, 0.5]``, ``offset`` = the bicubic image), as LapSRN's heads do.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from srbench_eval.models.archs.common import GeneratorOutput, SRNet, check_scale
from srbench_eval.models.archs.heads import FineGrainedHead


class SRCNN(SRNet):
    """SRCNN 9-1-5 on the bicubic-upsampled RGB input; ``num_feat``/``num_feat2`` are the 64/32 widths."""

    supported_scales = None

    def __init__(
        self,
        scale: int = 3,
        num_feat: int = 64,
        num_feat2: int = 32,
        kernel_sizes: tuple[int, int, int] = (9, 1, 5),
        fdl: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        check_scale(type(self), scale)
        self.scale = scale
        k1, k2, k3 = kernel_sizes
        self.conv1 = nn.Conv2d(3, num_feat, k1, padding=k1 // 2)
        self.conv2 = nn.Conv2d(num_feat, num_feat2, k2, padding=k2 // 2)
        self.relu = nn.ReLU(inplace=True)
        self.head: FineGrainedHead | None = None
        self.residual = False
        if fdl is None:
            self.conv3: nn.Conv2d | None = nn.Conv2d(num_feat2, 3, k3, padding=k3 // 2)
        else:
            self.conv3 = None
            fdl = dict(fdl)
            self.residual = bool(fdl.pop("residual", False))
            if self.residual:
                fdl.setdefault("v_min", -0.5)
                fdl.setdefault("v_max", 0.5)
            self.head = FineGrainedHead(num_feat2, 3, kernel_size=k3, **fdl)

    def _features(self, lr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from srbench_eval.data.degrade.bicubic import upscale_bicubic

        with torch.no_grad():
            x = upscale_bicubic(lr, self.scale)
        return self.relu(self.conv2(self.relu(self.conv1(x)))), x

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.forward_train(lr).sr

    def forward_train(self, lr: torch.Tensor) -> GeneratorOutput:
        f, x = self._features(lr)
        if self.head is None:
            return GeneratorOutput(sr=self.conv3(f))
        out = self.head(f, offset=x if self.residual else None)
        return GeneratorOutput(sr=out.value, heads=(out,))
