"""The fine-grained head: anchor radius from confidence, decoded value inside the area."""

from __future__ import annotations

import pytest
import torch

from srbench_eval.models.archs.heads import FineGrainedHead, anchor_radius, decode

K = 16


def _peaked_logits(sharpness: float, center: float = 7.3) -> torch.Tensor:
    k = torch.arange(K, dtype=torch.float32)
    return (-sharpness * (k - center) ** 2).view(1, 1, K, 1, 1)


def test_anchor_area_shrinks_as_confidence_grows() -> None:
    radii = []
    for sharpness in (0.01, 0.05, 0.2, 1.0, 5.0, 50.0):
        out = decode(_peaked_logits(sharpness), torch.zeros(1, 1, 1, 1), tau=0.9)
        radii.append(int(out.radius))
    assert radii == sorted(radii, reverse=True)
    assert radii[0] >= 5 and radii[-1] == 0


def test_anchor_radius_is_the_smallest_window_reaching_tau() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 3, K, 4, 4) * 3
    probs = logits.softmax(dim=2)
    b = probs.argmax(dim=2)
    tau = 0.8
    r = anchor_radius(probs, b, tau)
    for idx in torch.cartesian_prod(*(torch.arange(n) for n in b.shape)):
        n, c, y, x = idx.tolist()
        p, bb, rr = probs[n, c, :, y, x], int(b[n, c, y, x]), int(r[n, c, y, x])

        def mass(radius: int, p=p, bb=bb) -> float:
            return float(p[max(0, bb - radius) : min(K - 1, bb + radius) + 1].sum())

        assert rr == K - 1 or mass(rr) >= tau
        assert rr == 0 or mass(rr - 1) < tau


def test_value_stays_inside_the_anchor_area() -> None:
    torch.manual_seed(1)
    logits = torch.randn(1, 3, K, 5, 5)
    reg = torch.randn(1, 3, 5, 5) * 4
    out = decode(logits, reg, tau=0.9)
    w = 1.0 / K
    lo = (out.bin - out.radius).clamp(min=0) * w
    hi = ((out.bin + out.radius).clamp(max=K - 1) + 1) * w
    assert (out.value >= lo - 1e-6).all() and (out.value <= hi + 1e-6).all()
    offset = torch.full((1, 3, 5, 5), 0.25)
    shifted = decode(logits, reg, tau=0.9, v_min=-1.0, v_max=1.0, offset=offset)
    assert (shifted.value >= -0.75 - 1e-6).all() and (shifted.value <= 1.25 + 1e-6).all()


def test_value_gradient_reaches_the_regression_only() -> None:
    head = FineGrainedHead(4, 3, bins_log2=4)
    feats = torch.randn(1, 4, 3, 3)
    out = head(feats)
    assert out.logits.shape == (1, 3, K, 3, 3) and out.reg.shape == (1, 3, 3, 3)
    logits_grad = torch.autograd.grad(out.value.sum(), out.logits, allow_unused=True, retain_graph=True)[0]
    assert logits_grad is None
    reg_grad = torch.autograd.grad(out.value.sum(), out.reg)[0]
    assert (reg_grad > 0).all()


def test_margin_widens_the_anchor_area_by_a_fraction_of_a_bin() -> None:
    """m = 0.5: a confident bin b regresses over [b - 1/2, b + 3/2) bins, so its edges (and half of
    each neighbour) are reached without a saturated sigmoid."""
    logits = _peaked_logits(50.0, center=5.0)  # r = 0, b = 5
    w = 1 / K
    for reg, m, want in (
        (-40.0, 0.0, 5 * w),
        (40.0, 0.0, 6 * w),
        (-40.0, 0.5, 4.5 * w),
        (40.0, 0.5, 6.5 * w),
    ):
        out = decode(logits, torch.full((1, 1, 1, 1), reg), tau=0.9, margin=m)
        assert int(out.bin) == 5 and int(out.radius) == 0
        assert float(out.value) == pytest.approx(want, abs=1e-6)


def test_centred_residual_head_starts_as_the_identity_on_its_offset() -> None:
    """centre=0: 0 is the middle of a bin (not the edge between bins 7 and 8) and the initial
    output is exactly the offset (SRCNN-FDL starts as bicubic)."""
    torch.manual_seed(0)
    head = FineGrainedHead(8, 3, v_min=-0.5, v_max=0.5, centre=0.0, margin=0.5)
    w = 1 / K
    assert head.v_min == pytest.approx(-0.5 - w / 2) and head.v_max == pytest.approx(0.5 - w / 2)
    offset = torch.rand(2, 3, 5, 6)
    out = head(torch.rand(2, 8, 5, 6) * 0.1, offset=offset)  # small features, as after ReLU at start
    assert torch.all(out.radius == 0) and torch.all(out.bin == 8)
    assert torch.allclose(out.value, offset, atol=1e-6)
    assert FineGrainedHead(8, 3).v_min == 0.0  # no centre: the bins as before


def test_srcnn_fdl_residual_starts_at_bicubic() -> None:
    from srbench_eval.data.degrade.bicubic import upscale_bicubic
    from srbench_eval.models.recipes.named import build_generator, get_recipe

    net = build_generator(get_recipe("srcnn-fdl"), 4, num_feat=8, num_feat2=4)
    lr = torch.rand(1, 3, 6, 7)
    assert torch.allclose(net(lr), upscale_bicubic(lr, 4), atol=1e-6)
