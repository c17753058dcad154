"""Pixel, second-order gradient and total-variation losses against their equations."""

from __future__ import annotations

import math

import pytest
import torch

from srbench_eval.losses.gradient import SecondOrderGradientLoss, TotalVariationLoss, second_order_maps
from srbench_eval.losses.pixel import CharbonnierLoss, L1Loss, MSELoss


@pytest.fixture
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.rand(2, 3, 7, 6), torch.rand(2, 3, 7, 6)


def test_l1_and_mse(pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    sr, hr = pair
    assert torch.allclose(L1Loss()(sr, hr), (sr - hr).abs().sum() / sr.numel())
    assert torch.allclose(MSELoss()(sr, hr), ((sr - hr) ** 2).sum() / sr.numel())


def test_charbonnier_squares_eps(pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    sr, hr = pair
    loss = CharbonnierLoss()
    assert loss.eps == 1e-3
    # Identical images: sqrt(0 + eps^2) = eps = 1e-3, not sqrt(1e-3) ~ 0.0316 (the porting bug).
    assert loss(hr, hr).item() == pytest.approx(1e-3, rel=1e-5)
    expected = torch.sqrt((sr - hr) ** 2 + 1e-6).mean()
    assert torch.allclose(loss(sr, hr), expected)
    one = torch.zeros(1, 1, 1, 1)
    assert loss(one + 0.01, one).item() == pytest.approx(math.sqrt(0.01**2 + 1e-6), rel=1e-5)


def test_second_order_maps_match_finite_differences() -> None:
    torch.manual_seed(1)
    x = torch.rand(1, 2, 6, 7, dtype=torch.float64)
    maps = second_order_maps(x)
    c = x[..., 1:-1, 1:-1]
    dxx = x[..., 1:-1, 2:] - 2 * c + x[..., 1:-1, :-2]
    dyy = x[..., 2:, 1:-1] - 2 * c + x[..., :-2, 1:-1]
    dxy = (x[..., 2:, 2:] - x[..., 2:, :-2] - x[..., :-2, 2:] + x[..., :-2, :-2]) / 4
    assert maps.shape == (1, 2, 3, 4, 5)
    assert torch.allclose(maps[:, :, 0], dxx) and torch.allclose(maps[:, :, 1], dyy)
    assert torch.allclose(maps[:, :, 2], dxy)
    # Exact on a quadratic: f = x^2 + 3 y^2 + 2 x y -> f_xx = 2, f_yy = 6, f_xy = 2.
    yy, xx = torch.meshgrid(torch.arange(6.0), torch.arange(7.0), indexing="ij")
    q = (xx**2 + 3 * yy**2 + 2 * xx * yy).double().view(1, 1, 6, 7)
    m = second_order_maps(q)
    assert torch.allclose(m[:, :, 0], torch.full_like(m[:, :, 0], 2.0))
    assert torch.allclose(m[:, :, 1], torch.full_like(m[:, :, 1], 6.0))
    assert torch.allclose(m[:, :, 2], torch.full_like(m[:, :, 2], 2.0))


def test_second_order_loss_is_zero_for_identical_images_and_linear_ramps(
    pair: tuple[torch.Tensor, torch.Tensor],
) -> None:
    sr, hr = pair
    loss = SecondOrderGradientLoss()
    assert loss(hr, hr).item() == 0.0
    yy, xx = torch.meshgrid(torch.arange(7.0), torch.arange(6.0), indexing="ij")
    ramp = 0.3 + 0.02 * xx - 0.05 * yy  # a + b x + c y
    assert loss(hr + ramp, hr).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(sr, hr).item() > 0.01
    manual = (second_order_maps(sr) - second_order_maps(hr)).abs().mean()
    assert torch.allclose(loss(sr, hr), manual)


def test_total_variation(pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    sr, _ = pair
    expected = (sr[:, :, 1:] - sr[:, :, :-1]).abs().mean() + (sr[..., 1:] - sr[..., :-1]).abs().mean()
    assert torch.allclose(TotalVariationLoss()(sr, None), expected)
    assert TotalVariationLoss()(torch.ones(1, 3, 4, 4)).item() == 0.0
