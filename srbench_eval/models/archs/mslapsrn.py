"""MS-LapSRN: Lai, Huang, Ahuja, Yang, "Fast and Accurate Image Super-Resolution with Deep Laplacian
Pyramid Networks", TPAMI 2018 (arXiv:1710.01992); the authors' MatConvNet graph is built by
``init_MSLapSRN_model.m`` (phoenix104104/LapSRN) and run by ``SR_MSLapSRN.m``.

One network for x2, x4 and x8: a Laplacian pyramid of ``L = log2(s)`` x2 levels whose parameters are
shared *across levels* (one feature-embedding sub-network, one feature upsampler, one residual
convolution, one image upsampler) and, inside a level, across ``R`` recursions of one block of ``D``
convolutions (D5R8: depth 5, 8 recursions). On the Y channel in [0, 1]; every ReLU is leaky (0.2).

Level ``l = 1..L`` with input features ``F_{l-1}`` (``F_0 = conv_in(LR)``, 1 -> 64 channels) and
image ``I_{l-1}`` (``I_0 = LR``)::

    H_0 = F_{l-1}
    H_r = B(H_{r-1}) + F_{l-1},   r = 1..R         (shared-source skip, the "SS" of the opts file)
    B(x) = conv_D(lrelu(... conv_1(lrelu(x))))     (pre-activation, 3x3, 64 -> 64, zero padding 1)
    F_l = up(lrelu(H_R))                           (3x3 transposed conv, stride 2, last row/column
                                                    cropped: ``crop = [0 1 0 1]``)
    I_l = img_up(I_{l-1}) + conv_res(F_l)          (4x4 transposed conv, stride 2, crop 1 each side;
                                                    conv_res 3x3, 64 -> 1)

The x``s`` output is ``I_L``. MatConvNet's ``vl_nnconv`` is a correlation with zero padding, as
``nn.Conv2d``; ``vl_nnconvt`` with ``upsample = 2`` and ``crop = [t b l r]`` is ``nn.ConvTranspose2d``
with stride 2 and those rows/columns removed.

**Other scales** (:class:`FixedScale`, :data:`TEST_SCALES`): the authors' ``SR_MSLapSRN(img_LR, net,
model_scale, test_scale)`` runs the pyramid to ``model_scale`` and, when its output is not the size of
``imresize(img_LR, test_scale)`` (``ceil(h s)``), resizes the Y output to that size with MATLAB's
bicubic ``imresize(y, [H, W])`` (antialiased when it shrinks); Cb/Cr come from ``imresize(ycbcr(LR),
test_scale)`` as at x2/x4/x8. ``evaluate_MSLapSRN_dataset.m`` leaves ``model_scale`` to its user
(``test_scale = model_scale`` by default); here it is the smallest level at or above the test scale
(:func:`pyramid_scale`: x3 runs the x4 pyramid and shrinks 4h to 3h, x5-x7 the x8 one). Their test
code takes integer scales only (``mod_crop``, ``shave_bd(img, scale)`` index with the scale, and
``sprintf('x%d')`` names the output folder), so a non-integer scale is refused.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from srbench_eval.data.degrade.bicubic import imresize
from srbench_eval.models.archs.common import log2_steps

LEAK = 0.2
SCALES = (2, 4, 8)
TEST_SCALES = (2, 3, 4, 5, 6, 7, 8)
"""The scales :class:`FixedScale` serves: the pyramid's, and the integers between them (resized)."""


def pyramid_scale(scale: float) -> int:
    """The pyramid level a test scale runs: the smallest of :data:`SCALES` at or above ``scale``;
    ``ValueError`` (one line) for a scale outside :data:`TEST_SCALES`."""
    if scale not in TEST_SCALES:
        raise ValueError(f"MS-LapSRN's test code takes integer scales x2 to x8, not x{scale}")
    return next(s for s in SCALES if s >= scale)


class MSLapSRN(nn.Module):
    """MS-LapSRN with ``depth`` convolutions per recursive block and ``recursions`` blocks per level.

    ``forward(y, scale)`` maps a ``(N, 1, h, w)`` Y batch in [0, 1] to ``(N, 1, s h, s w)`` for
    ``s`` in 2, 4, 8 (default ``self.scale``); :meth:`pyramid` returns every level's image.
    """

    def __init__(self, depth: int = 5, recursions: int = 8, num_feat: int = 64, scale: int = 4) -> None:
        super().__init__()
        if depth < 1 or recursions < 1:
            raise ValueError(f"depth and recursions must be >= 1, got D{depth}R{recursions}")
        self.depth, self.recursions, self.scale = depth, recursions, self._check(scale)
        self.conv_in = nn.Conv2d(1, num_feat, 3, padding=1)
        self.block = nn.ModuleList(nn.Conv2d(num_feat, num_feat, 3, padding=1) for _ in range(depth))
        self.feature_up = nn.ConvTranspose2d(num_feat, num_feat, 3, stride=2)
        self.residual = nn.Conv2d(num_feat, 1, 3, padding=1)
        self.image_up = nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1, bias=False)

    @staticmethod
    def _check(scale: int) -> int:
        if scale not in SCALES:
            raise ValueError(f"MS-LapSRN upscales x2, x4 or x8, not x{scale}")
        return scale

    def _level_features(self, source: torch.Tensor) -> torch.Tensor:
        """``F_l = up(lrelu(H_R))`` of one level from its input features ``F_{l-1}``."""
        h = source
        for _ in range(self.recursions):
            t = h
            for conv in self.block:
                t = conv(F.leaky_relu(t, LEAK))
            h = t + source
        up = self.feature_up(F.leaky_relu(h, LEAK))
        return up[..., :-1, :-1]  # crop = [0 1 0 1]: (h - 1) * 2 + 3 - 1 = 2 h rows

    def pyramid(self, y: torch.Tensor, scale: int | None = None) -> list[torch.Tensor]:
        """The images ``I_1..I_L`` (x2, x4, ... up to ``scale``), coarse to fine."""
        levels = log2_steps(self._check(scale or self.scale))
        if y.ndim != 4 or y.shape[1] != 1:
            raise ValueError(f"MS-LapSRN takes (N, 1, h, w) Y batches, got {tuple(y.shape)}")
        features, image, out = self.conv_in(y), y, []
        for _ in range(levels):
            features = self._level_features(features)
            image = self.image_up(image) + self.residual(features)
            out.append(image)
        return out

    def forward(self, y: torch.Tensor, scale: int | None = None) -> torch.Tensor:
        return self.pyramid(y, scale)[-1]


class FixedScale(nn.Module):
    """An :class:`MSLapSRN` at one test scale (``net(y)``), as the authors' test code builds it: their
    ``evaluate_MSLapSRN_dataset.m`` copies the multi-scale weights into a single-scale graph of
    ``model_scale`` (:func:`pyramid_scale`), and ``SR_MSLapSRN.m`` resizes its output to
    ``ceil(h * scale)`` rows when the two differ (module docstring)."""

    def __init__(self, net: MSLapSRN, scale: int) -> None:
        super().__init__()
        self.net, self.scale, self.model_scale = net, scale, pyramid_scale(scale)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        out = self.net(y, self.model_scale)
        if self.model_scale == self.scale:
            return out
        # MATLAB imresize(y, [H, W]) of the single-precision output: the scale per side is H / h_out =
        # scale / model_scale (exact: a multiple of 1/8), so the taps are those of imresize(y, ratio).
        resized = imresize(out.to(torch.float64), self.scale / self.model_scale).to(out.dtype)
        assert resized.shape[-2:] == (y.shape[-2] * self.scale, y.shape[-1] * self.scale)
        return resized


__all__ = ["LEAK", "SCALES", "TEST_SCALES", "FixedScale", "MSLapSRN", "pyramid_scale"]
