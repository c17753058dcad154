"""What the evaluation loop needs from a model.

An :class:`SRModel` maps a batch of LR images to SR images at a fixed integer scale:
``upscale(lr)`` takes ``(N, C, h, w)`` float32 RGB in [0, 1] on the evaluation device and returns
``(N, C, s*h, s*w)`` float in (about) [0, 1]; the evaluation loop clips and rounds to 8 bits.
Learned architectures take ``C = 3``; the evaluation loop replicates a grey LR image to RGB for them
and averages the output channels back to grey. ``bicubic`` accepts any ``C``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import torch


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
