"""What every generator in the zoo shares: the RGB-in / RGB-out contract and the training output.

A generator (:class:`SRNet`) maps an RGB LR batch ``(N, 3, h, w)`` in [0, 1] to an RGB SR batch
``(N, 3, s*h, s*w)`` in (about) [0, 1]. Two entry points:

* ``net(lr)`` returns the SR image only, in training and in eval mode alike: what the evaluation
  loop, checkpoint loading and export use.
* ``net.forward_train(lr)`` returns a :class:`GeneratorOutput`: the SR image plus whatever the
  loss needs besides it, i.e. every pyramid level of LapSRN and the fine-grained (FDL) head
  outputs. The trainer always calls this one and passes the result to the recipe's criterion.

Keeping the return type of ``forward`` fixed (instead of switching on ``self.training``) keeps
``torch.compile``, hooks and the evaluation loop oblivious to training details.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from srbench_eval.models.archs.heads import FineGrainedOutput


@dataclass
class GeneratorOutput:
    """What ``forward_train`` returns.

    ``sr`` is the final image (the same tensor as ``levels[-1]``). ``levels`` lists every output the
    loss may supervise, coarse to fine (one entry for single-level networks; LapSRN's x2, x4, ...
    images). ``heads`` holds one :class:`FineGrainedOutput` per level when the network ends in
    fine-grained heads, else it is empty.
    """

    sr: torch.Tensor
    levels: tuple[torch.Tensor, ...] = ()
    heads: tuple[FineGrainedOutput, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.levels:
            self.levels = (self.sr,)


class SRNet(nn.Module):
    """Base class of the generators: ``forward(lr) -> sr`` and ``forward_train(lr) -> GeneratorOutput``."""

    scale: int
    #: scales the constructor accepts; ``None`` means any positive integer.
    supported_scales: tuple[int, ...] | None = None

    def forward_train(self, lr: torch.Tensor) -> GeneratorOutput:
        """The SR image and what the loss needs besides it (default: the image alone)."""
        return GeneratorOutput(sr=self(lr))


def check_scale(cls: type[SRNet], scale: int) -> None:
    """Raise ``ValueError`` when ``cls`` cannot upscale by ``scale``."""
    allowed = cls.supported_scales
    if (allowed is None and scale < 1) or (allowed is not None and scale not in allowed):
        what = "any integer >= 1" if allowed is None else str(allowed)
        raise ValueError(f"{cls.__name__} supports scales {what}, not x{scale}")


def log2_steps(scale: int) -> int:
    """Number of x2 steps for a power-of-two ``scale`` (2 -> 1, 4 -> 2, 8 -> 3)."""
    steps = scale.bit_length() - 1
    if scale < 2 or 1 << steps != scale:
        raise ValueError(f"scale must be a power of two >= 2, got {scale}")
    return steps


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (works on the ``meta`` device too)."""
    return sum(p.numel() for p in module.parameters())
