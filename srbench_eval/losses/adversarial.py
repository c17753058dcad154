"""Adversarial losses on raw discriminator logits ``C(x)`` (``D(x) = sigmoid(C(x))``).

Vanilla GAN (Goodfellow et al. 2014, as in SRGAN, Ledig et al. CVPR 2017)::

    L_D = -E_r[log D(x_r)] - E_f[log(1 - D(x_f))]
    L_G = -E_f[log D(x_f)]                              (the non-saturating generator loss)

Relativistic average GAN (Jolicoeur-Martineau 2018, as in ESRGAN, Wang et al. 2018), with
``D_Ra(a, b) = sigmoid(C(a) - E[C(b)])`` and the mean taken over the batch::

    L_D = -1/2 (E_r[log D_Ra(x_r, x_f)] + E_f[log(1 - D_Ra(x_f, x_r))])
    L_G = -1/2 (E_r[log(1 - D_Ra(x_r, x_f))] + E_f[log D_Ra(x_f, x_r)])

The ESRGAN paper writes the sums without the 1/2; its official training code (and BasicSR)
averages the two terms, which is what the paper's weight 5e-3 was tuned with, so the 1/2 is kept.

Both are computed with ``binary_cross_entropy_with_logits`` (stable form of ``log sigmoid``).
The caller decides what is detached: for the generator step pass ``d_real = C(hr).detach()`` and
``d_fake = C(sr)``; for the discriminator step pass ``C(hr)`` and ``C(sr.detach())``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F

from srbench_eval.losses.base import LossTerm


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class VanillaGANLoss(LossTerm):
    """SRGAN's adversarial loss: ``forward`` is ``L_G``, :meth:`discriminator_loss` is ``L_D``."""

    needs: ClassVar[str] = "adversarial"

    def forward(self, d_real: torch.Tensor | None, d_fake: torch.Tensor) -> torch.Tensor:
        return _bce(d_fake, 1.0)

    def discriminator_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        return _bce(d_real, 1.0) + _bce(d_fake, 0.0)


class RaGANLoss(LossTerm):
    """ESRGAN's relativistic average loss: ``forward`` is ``L_G``, :meth:`discriminator_loss` is ``L_D``."""

    needs: ClassVar[str] = "adversarial"

    def forward(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        if d_real is None:
            raise ValueError("the RaGAN generator loss needs the discriminator logits of the HR batch")
        return 0.5 * (_bce(d_real - d_fake.mean(), 0.0) + _bce(d_fake - d_real.mean(), 1.0))

    def discriminator_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        return 0.5 * (_bce(d_real - d_fake.mean(), 1.0) + _bce(d_fake - d_real.mean(), 0.0))
