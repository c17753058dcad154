"""The protocol every loss term follows.

A term is a small ``nn.Module`` whose ``forward`` returns a scalar tensor. What it compares is
declared by :attr:`LossTerm.needs`:

* ``"image"``: ``term(sr, hr)``, two ``(N, 3, H, W)`` RGB batches in [0, 1];
* ``"head"``: ``term(head, hr)``, a :class:`~srbench_eval.models.archs.heads.FineGrainedOutput` and
  the target;
* ``"adversarial"``: ``term(d_real, d_fake)``, discriminator logits of HR and SR images; such terms
  also have ``discriminator_loss(d_real, d_fake)``.

``check(**params)`` validates a term's parameters without building it (recipes use it to reject a
bad override before any weights are loaded). Terms made of several parts (dual perceptual,
fine-grained) override :meth:`LossTerm.detailed`, which returns the value and a dict of named
parts for logging (e.g. ``l_vgg``, ``l_res``, ``zeta``); ``forward`` returns the value alone. The
parts are detached.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn


class LossTerm(nn.Module):
    """Base class: ``forward(a, b) -> scalar``; ``detailed(a, b) -> (scalar, parts)``."""

    needs: ClassVar[str] = "image"

    def detailed(self, a: Any, b: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The value and its named, detached parts (none by default)."""
        return self(a, b), {}

    @classmethod
    def check(cls, **params: Any) -> None:
        """Validate constructor parameters without building the term (no weights are loaded).

        Raises ``TypeError`` for unknown names and ``ValueError`` for bad values.
        """
        inspect.signature(cls).bind(**params)


def distance(kind: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Mean elementwise distance ``kind``: ``l1`` (mean |a - b|) or ``l2``/``mse`` (mean (a - b)^2)."""
    kinds = {"l1": nn.functional.l1_loss, "l2": nn.functional.mse_loss, "mse": nn.functional.mse_loss}
    try:
        return kinds[kind]
    except KeyError:
        raise ValueError(f"unknown criterion {kind!r}: use l1 or l2") from None
