"""What the grey-level metrics (MS-SSIM, IFC, VIF, NIQE) share: the one place they get their plane.

Each of them reads one grey plane per image, in float64 0..255 values:

* under the SR protocol, the Y channel of MATLAB's ``rgb2ycbcr`` by the run protocol's ``y`` rule
  (:func:`~srbench_eval.color.luma`: float, rounded as SelfExSR/LapSRN's
  ``compute_difference.m`` did, or BasicSR's float32; a 1-channel image is used as Y directly),
  with the protocol's crop removed on every side, as PSNR and SSIM do. :meth:`LumaMetric._y` is the
  only place this happens;
* the oracles' other conventions (MATLAB ``rgb2gray`` of the uint8 image, rounded) are reached by
  passing the 1-channel plane they used: :func:`~srbench_eval.color.rgb2gray_uint8` makes it
  (re-exported here).
"""

from __future__ import annotations

from typing import ClassVar

import torch

from srbench_eval.color import RGB2GRAY_WEIGHTS, luma, rgb2gray_uint8
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics.base import PerImageMetric
from srbench_eval.metrics.fidelity import _crop


def luma_planes(x: torch.Tensor, crop_border: int, variant: str = "float") -> torch.Tensor:
    """``(N, H', W')`` float64 Y planes (``variant``: a protocol's ``y`` rule) of a ``(N, C, H, W)``
    batch of 0..255 images, border-cropped."""
    return _crop(luma(x, variant), crop_border)[:, 0]


class LumaMetric(PerImageMetric):
    """A per-image metric on the (cropped) Y plane; ``min_side`` is the smallest side it accepts."""

    min_side: ClassVar[int] = 1

    def _y(self, x: torch.Tensor, what: str = "SR") -> torch.Tensor:
        """The protocol's plane of ``x`` (see the module docstring), checked against :attr:`min_side`."""
        h, w = x.shape[-2] - 2 * self.settings.crop_border, x.shape[-1] - 2 * self.settings.crop_border
        if min(h, w) < self.min_side:
            raise SrbenchError(
                f"{self.name}: the {what} image is {h}x{w} pixels after cropping {self.settings.crop_border} "
                f"on each side; it needs at least {self.min_side}x{self.min_side}"
            )
        return luma_planes(x, self.settings.crop_border, self.settings.protocol.y)


__all__ = ["RGB2GRAY_WEIGHTS", "LumaMetric", "luma_planes", "rgb2gray_uint8"]
