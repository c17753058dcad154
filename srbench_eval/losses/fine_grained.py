"""Fine-grained dynamic loss (FDL): classification first, then regression in a dynamic anchor area.

It trains a :class:`~srbench_eval.models.archs.heads.FineGrainedHead` (see there for the bins, the
anchor radius ``r`` and the final value)::

    l_FDL = CE(z, k*) + lambda * mean |value - y|

``z`` are the ``K`` bin logits of every pixel and channel, ``k* = floor((y - offset - v_min) / w)``
the ground-truth bin (clamped to ``0..K-1``), CE the mean cross-entropy over all pixels and
channels, and ``value`` the final output regressed inside the anchor area ``[b - r, b + r]``
around the predicted bin ``b`` (``b`` and ``r`` chosen without gradient from the classifier's
confidence). The CE trains the classifier, the L1 term the regressor (through ``sigmoid(t)``) and,
for residual heads, the layers producing the offset. ``lambda = 1`` by default (this harness's
choice; sweep it with ``--set loss.fdl.l1_weight=...``).

A perfect classifier (all mass on ``k*``, so ``r = 0``) with a perfect regressor gives zero loss.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F

from srbench_eval.losses.base import LossTerm
from srbench_eval.models.archs.heads import FineGrainedOutput


class FineGrainedLoss(LossTerm):
    """``CE(z, k*) + lambda * mean |value - y|``; parts ``ce``, ``l1``, ``radius``, ``accuracy``."""

    needs: ClassVar[str] = "head"

    def __init__(self, l1_weight: float = 1.0) -> None:
        super().__init__()
        self.l1_weight = l1_weight

    def detailed(
        self, head: FineGrainedOutput, target: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if head.value.shape != target.shape:
            raise ValueError(f"FDL head output {tuple(head.value.shape)} vs target {tuple(target.shape)}")
        k = head.target_bins(target)
        ce = F.cross_entropy(head.logits.transpose(1, 2), k)  # class dimension second: (N, K, C, H, W)
        l1 = F.l1_loss(head.value, target)
        parts = {
            "ce": ce.detach(),
            "l1": l1.detach(),
            "radius": head.radius.float().mean(),
            "accuracy": (head.bin == k).float().mean(),
        }
        return ce + self.l1_weight * l1, parts

    def forward(self, head: FineGrainedOutput, target: torch.Tensor) -> torch.Tensor:
        return self.detailed(head, target)[0]
