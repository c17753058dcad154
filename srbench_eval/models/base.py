"""What the evaluation loop needs from a model.

An :class:`SRModel` maps a batch of LR images to SR images at a fixed integer scale:
``upscale(lr)`` takes ``(N, C, h, w)`` float32 RGB in [0, 1] on the evaluation device and returns
``(N, C, s*h, s*w)`` float in (about) [0, 1]. ``sr_values(lr)`` is what the evaluation loop calls:
it takes and returns 8-bit values (0..255, float32) and does the clipping and rounding.
Learned architectures take ``C = 3``; the evaluation loop replicates a grey LR image to RGB for them
and averages the output channels back to grey. ``bicubic`` accepts any ``C``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from srbench_eval.data.degrade import round_uint8


@dataclass
class SRModel(ABC):
    """A named model at one scale, ready for inference."""

    name: str
    scale: int
    provenance: dict[str, Any] = field(default_factory=dict)
    accepts_grey: bool = False

    @abstractmethod
    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        """``(N, C, h, w)`` in [0, 1] -> ``(N, C, scale*h, scale*w)``."""

    def sr_values(self, lr: torch.Tensor) -> torch.Tensor:
        """The SR image as saved to an 8-bit file, float32 (see :func:`quantised_output`)."""
        return quantised_output(self.upscale, lr, self.accepts_grey)


def quantised_output(
    upscale: Callable[[torch.Tensor], torch.Tensor], lr: torch.Tensor, accepts_grey: bool
) -> torch.Tensor:
    """``uint8(255 * upscale(lr / 255))`` as float32: the SR image as saved to an 8-bit file.

    ``lr`` holds 8-bit values 0..255. A grey image goes through an RGB-only network
    (``accepts_grey=False``) replicated to three channels and comes back as the mean of the output
    channels. The rounding is MATLAB's (half away from zero, saturated), computed in float64.
    Raises ``ValueError`` when the output holds NaN or infinite values.
    """
    x = lr / 255.0
    grey_in = x.shape[1] == 1 and not accepts_grey
    out = upscale(x.expand(-1, 3, -1, -1) if grey_in else x)
    if grey_in:
        out = out.mean(dim=1, keepdim=True)
    lo, hi = torch.aminmax(out)  # NaN propagates into both; one pass, no mask
    if not (torch.isfinite(lo) and torch.isfinite(hi)):
        raise ValueError("NaN or infinite values in the output")
    return round_uint8(out.double().mul_(255.0)).float()
