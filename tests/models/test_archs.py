"""Registry-driven architecture tests on tiny inputs and small widths, plus the paper sizes."""

from __future__ import annotations

import pytest
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models.architectures import ARCHITECTURES, arch_names, build_arch, get_arch
from srbench_eval.models.archs.common import GeneratorOutput, count_parameters
from srbench_eval.models.archs.lapsrn import LapSRN, bilinear_kernel
from srbench_eval.models.archs.rrdbnet import RRDBNet
from srbench_eval.models.archs.srcnn import SRCNN
from srbench_eval.models.archs.srresnet import SRResNet

FDL = {"bins_log2": 3, "tau": 0.9}


def _generator_cases() -> list[tuple[str, int, dict]]:
    cases = []
    for name in arch_names("generator"):
        entry = ARCHITECTURES[name]
        for scale in (2, 3, 4):
            if entry.cls.supported_scales is None or scale in entry.cls.supported_scales:
                cases.append((name, scale, {}))
    cases += [("srcnn", 3, {"fdl": FDL}), ("lapsrn", 4, {"fdl": FDL})]
    return cases


@pytest.mark.parametrize(
    ("name", "scale", "extra"),
    _generator_cases(),
    ids=[f"{n}-x{s}{'-fdl' if e else ''}" for n, s, e in _generator_cases()],
)
def test_generator_upscales_without_nan_and_backpropagates(name: str, scale: int, extra: dict) -> None:
    torch.manual_seed(0)
    net = build_arch(name, scale=scale, **get_arch(name).small, **extra)
    lr = torch.rand(2, 3, 6, 5)
    out = net.forward_train(lr)
    assert isinstance(out, GeneratorOutput)
    assert out.sr.shape == (2, 3, 6 * scale, 5 * scale)
    assert torch.isfinite(out.sr).all()
    assert out.levels[-1] is out.sr
    out.sr.mean().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing, f"no gradient reached {missing}"
    net.eval()
    with torch.no_grad():
        plain = net(lr)
    assert isinstance(plain, torch.Tensor) and plain.shape == out.sr.shape


@pytest.mark.parametrize("name", arch_names("discriminator"))
def test_discriminator_gives_one_logit_per_image(name: str) -> None:
    torch.manual_seed(0)
    small = get_arch(name).small
    net = build_arch(name, **small)
    x = torch.rand(3, 3, small["input_size"], small["input_size"], requires_grad=True)
    logits = net(x)
    assert logits.shape == (3, 1) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in net.parameters())
    with pytest.raises(ValueError, match="built for"):
        net(torch.rand(1, 3, small["input_size"] * 2, small["input_size"] * 2))


def test_paper_sizes_have_the_published_parameter_counts() -> None:
    with torch.device("meta"):
        rrdb = count_parameters(RRDBNet(scale=4))
        srresnet = count_parameters(SRResNet(scale=4))
        srcnn = count_parameters(SRCNN(scale=3))
    assert rrdb == 16_697_987  # ESRGAN's RRDBNet: 64 features, 23 RRDBs, growth 32
    assert srresnet == 1_549_462  # SRGAN's SRResNet x4, ~1.5M
    # SRCNN 9-1-5 with 64/32 filters: 8,129 parameters per input/output channel in the Y-only paper;
    # the RGB version has 3 input and 3 output channels.
    y_only = (9 * 9 * 1 * 64 + 64) + (64 * 32 + 32) + (5 * 5 * 32 * 1 + 1)
    assert y_only == 8_129
    assert srcnn == (9 * 9 * 3 * 64 + 64) + (64 * 32 + 32) + (5 * 5 * 32 * 3 + 3) == 20_099


def test_rrdb_block_count_and_growth_are_constructor_arguments() -> None:
    with torch.device("meta"):
        net = RRDBNet(scale=4, num_feat=16, num_block=2, num_grow_ch=8)
    assert len(net.body) == 2
    assert net.body[0].rdbs[0].convs[0].out_channels == 8
    assert net.body[0].rdbs[0].convs[4].out_channels == 16


def test_lapsrn_outputs_every_pyramid_level() -> None:
    torch.manual_seed(0)
    net = LapSRN(scale=8, num_feat=4, depth=1)
    out = net.forward_train(torch.rand(1, 3, 4, 4))
    assert [tuple(x.shape[-2:]) for x in out.levels] == [(8, 8), (16, 16), (32, 32)]
    assert not out.heads


def test_lapsrn_image_branch_starts_as_bilinear_upsampling() -> None:
    assert torch.allclose(bilinear_kernel(4)[1], torch.tensor([0.1875, 0.5625, 0.5625, 0.1875]))
    net = LapSRN(scale=2, num_feat=4, depth=1)
    lr = torch.full((1, 3, 6, 6), 0.5)
    with torch.no_grad():
        up = net.image_up[0](lr)
    # A constant image stays constant away from the zero-padded border.
    assert torch.allclose(up[..., 1:-1, 1:-1], torch.full_like(up[..., 1:-1, 1:-1], 0.5))


def test_fdl_head_replaces_the_last_layer_and_inference_returns_its_value() -> None:
    torch.manual_seed(0)
    net = SRCNN(scale=2, num_feat=4, num_feat2=4, fdl=FDL)
    assert net.conv3 is None and net.head is not None
    lr = torch.rand(1, 3, 5, 5)
    out = net.forward_train(lr)
    assert len(out.heads) == 1 and out.heads[0].logits.shape == (1, 3, 8, 10, 10)
    assert torch.equal(net(lr), out.sr)
    lap = LapSRN(scale=4, num_feat=4, depth=1, fdl=FDL)
    out = lap.forward_train(lr)
    assert len(out.heads) == 2 and out.heads[0].v_min == -1.0
    assert out.heads[1].offset is not None and out.heads[1].offset.shape == out.sr.shape


@pytest.mark.parametrize(("cls", "scale"), [(RRDBNet, 3), (SRResNet, 3), (LapSRN, 3), (SRCNN, 0)])
def test_unsupported_scales_are_refused(cls: type, scale: int) -> None:
    with pytest.raises(ValueError, match="scale"):
        cls(scale=scale)


def test_unknown_architecture_is_a_user_error() -> None:
    with pytest.raises(SrbenchError, match="did you mean 'rrdbnet'"):
        get_arch("rrdbnett")
