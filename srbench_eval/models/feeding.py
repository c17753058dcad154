"""Feeding a network what a protocol says it sees, and scoring what it returns.

A :class:`~srbench_eval.protocol.Protocol` is a record of conventions; these two functions apply its
``network_input``, ``degradation`` and ``sr_quantisation`` to a network's input and output:

* :func:`model_input`: ``x = lr / 255`` for RGB networks; for Y networks ``x = Y(lr) / 255``
  (:func:`srbench_eval.color.luma`, ``float``; the LR plane itself under ``y-double``), and for
  pre-upsampled networks (SRCNN, VDSR) ``imresize(x, scale)`` in double, unrounded;
* :func:`model_output`: ``SR = quantise(255 out)``, or for a Y network against RGB images
  (``lapsrn``) LapSRN's ``SR_LapSRN.m``: ``YCbCr = imresize(rgb2ycbcr(LR), scale)`` in double, its Y
  replaced by ``255 out``, then ``SR = quantise(ycbcr2rgb(YCbCr))``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from srbench_eval.color import luma, rgb_to_ycbcr, ycbcr_to_rgb
from srbench_eval.data.degrade.bicubic import imresize, quantise_sr

if TYPE_CHECKING:
    import torch

    from srbench_eval.protocol import Protocol


def model_input(
    protocol: Protocol, lr: torch.Tensor, *, scale: int = 1, pre_upsampled: bool = False
) -> torch.Tensor:
    """What a network of ``protocol`` sees, float64 in [0, 1], from the LR image of
    :func:`~srbench_eval.data.pairs.make_pair` (``(N, C, h, w)``, 0..255 values, maybe unrounded):
    ``lr / 255`` for ``network_input = rgb``; for ``y`` the Y channel, ``Y(lr) / 255`` (the LR
    plane itself under ``y-double``). ``pre_upsampled`` networks (SRCNN, VDSR) get
    ``imresize(x, scale)`` in double, unrounded, as their authors' code fed them."""
    import torch

    x = lr.to(torch.float64)
    if protocol.network_input == "y" and x.shape[1] == 3:
        x = luma(x, "float")
    x = x / 255.0
    return imresize(x, float(scale)) if pre_upsampled else x


def model_output(protocol: Protocol, out: torch.Tensor, lr: torch.Tensor, scale: int) -> torch.Tensor:
    """The SR image ``protocol`` scores, 0..255 (quantised by ``sr_quantisation``), from a network's
    output ``out`` in [0, 1] for the input :func:`model_input` built from ``lr``.

    RGB networks: ``255 out``. Y networks: under ``y-double`` the HR is the Y plane, so ``255 out``;
    against RGB HR images (``lapsrn``) the colour comes back the way LapSRN's ``SR_LapSRN.m`` did
    it: ``ycbcr = imresize(rgb2ycbcr(LR), scale)`` in double, its Y replaced by the network's,
    ``ycbcr2rgb`` (:func:`~srbench_eval.color.ycbcr_to_rgb`), then quantised."""
    import torch

    values = out.to(torch.float64) * 255.0
    if protocol.network_input == "y" and lr.shape[1] == 3:
        ycbcr = imresize(rgb_to_ycbcr(lr.to(torch.float64)), float(scale))
        if ycbcr.shape[-2:] != values.shape[-2:]:
            raise ValueError(f"the network returned {tuple(values.shape)}, expected {tuple(ycbcr.shape)}")
        values = ycbcr_to_rgb(torch.cat([values[:, :1], ycbcr[:, 1:]], dim=1))
    return quantise_sr(values, protocol)


__all__ = ["model_input", "model_output"]
