"""The weighted criterion: total, per-term values and parts, pyramid levels, heads, adversarial terms."""

from __future__ import annotations

import pytest
import torch

from srbench_eval.data.degrade.bicubic import imresize
from srbench_eval.errors import SrbenchError
from srbench_eval.losses.adversarial import RaGANLoss
from srbench_eval.losses.criterion import Criterion, WeightedTerm, make_term
from srbench_eval.losses.fine_grained import FineGrainedLoss
from srbench_eval.losses.gradient import SecondOrderGradientLoss
from srbench_eval.losses.pixel import CharbonnierLoss, L1Loss
from srbench_eval.models.archs.common import GeneratorOutput
from srbench_eval.models.archs.lapsrn import LapSRN
from srbench_eval.models.archs.srcnn import SRCNN


def test_total_is_the_weighted_sum_and_terms_are_reported() -> None:
    torch.manual_seed(0)
    sr, hr = torch.rand(2, 3, 8, 8, requires_grad=True), torch.rand(2, 3, 8, 8)
    d_real, d_fake = torch.randn(2, 1), torch.randn(2, 1)
    crit = Criterion(
        [
            WeightedTerm("pixel", 1e-2, L1Loss()),
            WeightedTerm("sog", 0.5, SecondOrderGradientLoss()),
            WeightedTerm("gan", 5e-3, RaGANLoss()),
        ]
    )
    assert crit.needs_discriminator
    report = crit(sr, hr, d_real=d_real, d_fake=d_fake)
    expected = (
        1e-2 * L1Loss()(sr, hr) + 0.5 * SecondOrderGradientLoss()(sr, hr) + 5e-3 * RaGANLoss()(d_real, d_fake)
    )
    assert torch.allclose(report.total, expected)
    assert torch.allclose(report.weighted("sog"), 0.5 * report.values["sog"])
    assert set(report.scalars()) == {"loss", "pixel", "sog", "gan"}
    report.total.backward()
    assert sr.grad is not None
    assert torch.allclose(
        crit.discriminator_loss(d_real, d_fake), RaGANLoss().discriminator_loss(d_real, d_fake)
    )
    with pytest.raises(ValueError, match="d_fake"):
        crit(sr, hr)


def test_all_levels_are_supervised_against_bicubic_downscaled_targets() -> None:
    torch.manual_seed(0)
    net = LapSRN(scale=4, num_feat=4, depth=1)
    lr, hr = torch.rand(1, 3, 4, 4), torch.rand(1, 3, 16, 16)
    out = net.forward_train(lr)
    crit = Criterion([WeightedTerm("pixel", 1.0, CharbonnierLoss(), levels="all")])
    report = crit(out, hr)
    charb = CharbonnierLoss()
    expected = charb(out.levels[0], imresize(hr, 0.5)) + charb(out.levels[1], hr)
    assert torch.allclose(report.total, expected)
    assert torch.allclose(report.parts["pixel.level1"], charb(out.levels[0], imresize(hr, 0.5)))
    last_only = Criterion([WeightedTerm("pixel", 1.0, CharbonnierLoss())])(out, hr)
    assert torch.allclose(last_only.total, charb(out.sr, hr))


def test_fine_grained_terms_read_the_heads() -> None:
    torch.manual_seed(0)
    fdl = {"bins_log2": 3, "tau": 0.9}
    crit = Criterion([WeightedTerm("fdl", 1.0, FineGrainedLoss(), levels="all")])
    lr, hr = torch.rand(1, 3, 4, 4), torch.rand(1, 3, 16, 16)
    out = LapSRN(scale=4, num_feat=4, depth=1, fdl=fdl).forward_train(lr)
    report = crit(out, hr)
    assert {"fdl.ce", "fdl.l1", "fdl.radius", "fdl.level1", "fdl.level2"} <= set(report.parts)
    report.total.backward()
    single = SRCNN(scale=4, num_feat=4, num_feat2=4, fdl=fdl).forward_train(lr)
    assert torch.isfinite(crit(single, hr).total)
    with pytest.raises(ValueError, match="fine-grained heads"):
        crit(GeneratorOutput(sr=torch.rand(1, 3, 16, 16)), hr)


def test_unknown_loss_kind_is_a_user_error() -> None:
    with pytest.raises(SrbenchError, match="did you mean 'ragan'"):
        make_term("ragn")
    with pytest.raises(ValueError, match="unique"):
        Criterion([WeightedTerm("a", 1.0, L1Loss()), WeightedTerm("a", 1.0, L1Loss())])
