"""Adversarial losses against their formulas; the fine-grained dynamic loss's properties."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from srbench_eval.losses.adversarial import RaGANLoss, VanillaGANLoss
from srbench_eval.losses.fine_grained import FineGrainedLoss
from srbench_eval.models.archs.heads import decode


@pytest.fixture
def logits() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.randn(5, 1, dtype=torch.float64), torch.randn(5, 1, dtype=torch.float64)


def test_ragan_formula(logits: tuple[torch.Tensor, torch.Tensor]) -> None:
    c_r, c_f = logits
    d_rf = torch.sigmoid(c_r - c_f.mean())  # D_Ra(x_r, x_f)
    d_fr = torch.sigmoid(c_f - c_r.mean())  # D_Ra(x_f, x_r)
    l_d = -0.5 * (torch.log(d_rf).mean() + torch.log(1 - d_fr).mean())
    l_g = -0.5 * (torch.log(1 - d_rf).mean() + torch.log(d_fr).mean())
    loss = RaGANLoss()
    assert torch.allclose(loss.discriminator_loss(c_r, c_f), l_d)
    assert torch.allclose(loss(c_r, c_f), l_g)


def test_vanilla_gan_formula(logits: tuple[torch.Tensor, torch.Tensor]) -> None:
    c_r, c_f = logits
    loss = VanillaGANLoss()
    l_d = -torch.log(torch.sigmoid(c_r)).mean() - torch.log(1 - torch.sigmoid(c_f)).mean()
    assert torch.allclose(loss.discriminator_loss(c_r, c_f), l_d)
    assert torch.allclose(loss(None, c_f), -torch.log(torch.sigmoid(c_f)).mean())


def test_ragan_generator_gradient_flows_to_fake_logits(logits: tuple[torch.Tensor, torch.Tensor]) -> None:
    c_r, c_f = logits
    c_f = c_f.clone().requires_grad_(True)
    RaGANLoss()(c_r, c_f).backward()
    assert c_f.grad is not None and c_f.grad.abs().sum() > 0


K = 16


def _perfect_head(target: torch.Tensor):
    k_star = torch.floor(target * K).clamp(0, K - 1).long()
    logits = F.one_hot(k_star, K).movedim(-1, 2).double() * 100.0  # (N, C, K, H, W), all mass on k*
    lo, hi = k_star.double() / K, (k_star.double() + 1) / K
    frac = (target - lo) / (hi - lo)
    reg = torch.log(frac / (1 - frac))  # sigmoid(reg) = frac
    return decode(logits, reg, tau=0.9), k_star


def test_fdl_is_zero_for_a_perfect_classifier_and_regressor() -> None:
    torch.manual_seed(0)
    # Values away from the bin edges, so the exact sigmoid inverse is finite.
    target = ((torch.randint(0, K, (2, 3, 4, 4)) + 0.1 + 0.8 * torch.rand(2, 3, 4, 4)) / K).double()
    head, k_star = _perfect_head(target)
    assert (head.radius == 0).all() and torch.equal(head.bin, k_star)
    loss, parts = FineGrainedLoss(l1_weight=1.0).detailed(head, target)
    assert loss.item() == pytest.approx(0.0, abs=1e-9)
    assert parts["accuracy"].item() == 1.0 and parts["radius"].item() == 0.0


def test_fdl_equals_cross_entropy_plus_lambda_l1() -> None:
    torch.manual_seed(1)
    logits = torch.randn(1, 3, K, 4, 4, requires_grad=True)
    reg = torch.randn(1, 3, 4, 4, requires_grad=True)
    target = torch.rand(1, 3, 4, 4)
    head = decode(logits, reg, tau=0.9)
    k_star = torch.floor(target * K).clamp(0, K - 1).long()
    assert torch.equal(head.target_bins(target), k_star)
    lam = 2.5
    value, parts = FineGrainedLoss(l1_weight=lam).detailed(head, target)
    log_p = logits.log_softmax(dim=2)
    ce = -log_p.gather(2, k_star.unsqueeze(2)).mean()
    l1 = (head.value - target).abs().mean()
    assert torch.allclose(value, ce + lam * l1)
    assert torch.allclose(parts["ce"], ce) and torch.allclose(parts["l1"], l1)
    value.backward()
    assert logits.grad is not None and reg.grad is not None


def test_fdl_residual_bins_are_relative_to_the_offset() -> None:
    offset = torch.full((1, 1, 1, 1), 0.5)
    head = decode(torch.zeros(1, 1, 4, 1, 1), torch.zeros(1, 1, 1, 1), 0.9, -1.0, 1.0, offset)
    # residual 0.6 - 0.5 = 0.1 falls in bin floor((0.1 + 1) / 2 * 4) = 2 of [-1, 1].
    assert head.target_bins(torch.full((1, 1, 1, 1), 0.6)).item() == 2
