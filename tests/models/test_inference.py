"""Inference modes: self-ensemble (EDSR-PyTorch ``forward_x8``), precision and tiling on a model."""

from __future__ import annotations

import types

import pytest
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models.inference import InferenceMode, apply, auto_tile, check_precision, ensemble_x8
from srbench_eval.models.network import CallableModel
from tests.tiny_networks import conv_x2


def _dihedral() -> list[tuple[object, object]]:
    """The 8 transforms and their inverses, written with rot90 and one flip (not EDSR's v/h/t)."""
    out = []
    for k in range(4):
        out.append((lambda x, k=k: torch.rot90(x, k, (-2, -1)), lambda y, k=k: torch.rot90(y, -k, (-2, -1))))
        out.append(
            (
                lambda x, k=k: torch.rot90(x.flip(-1), k, (-2, -1)),
                lambda y, k=k: torch.rot90(y, -k, (-2, -1)).flip(-1),
            )
        )
    return out


def test_self_ensemble_is_the_average_of_the_8_inverted_outputs() -> None:
    net = conv_x2()
    x = torch.rand(1, 3, 9, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        explicit = sum(inv(net(g(x))) for g, inv in _dihedral()) / 8  # type: ignore[operator]
        plain = net(x)
        ours = ensemble_x8(net, x)
    assert ours.shape == (1, 3, 18, 14)
    assert torch.allclose(ours, explicit, atol=1e-12, rtol=0)
    assert not torch.allclose(ours, plain, atol=1e-3)  # this network does not commute with flips


def test_self_ensemble_is_the_identity_for_a_network_commuting_with_flips() -> None:
    """A symmetric 3x3 blur (the same in every direction) and nearest x2 upsampling commute with
    every flip and the transpose."""
    blur = torch.nn.Conv2d(3, 3, 3, padding=1, bias=False, groups=3).double()
    k = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], dtype=torch.float64) / 16
    blur.weight.data[:] = k
    net = torch.nn.Sequential(blur, torch.nn.Upsample(scale_factor=2, mode="nearest"))
    x = torch.rand(2, 3, 8, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.allclose(ensemble_x8(net, x), net(x), atol=1e-12, rtol=0)


def _model(net: torch.nn.Module) -> CallableModel:
    return CallableModel("tiny", 2, {"kind": "callable"}, fn=net)


def test_apply_installs_the_mode_on_every_network_pass() -> None:
    net = conv_x2().float()
    lr = torch.randint(0, 256, (1, 3, 10, 12), generator=torch.Generator().manual_seed(3)).float()
    plain = _model(net).sr_values(lr)
    plus = apply(_model(net), InferenceMode(self_ensemble=True))
    with torch.no_grad():
        expected = (ensemble_x8(net, lr / 255.0) * 255.0).clamp(0, 255).round()
    assert torch.equal(plus.sr_values(lr), expected)
    assert not torch.equal(plus.sr_values(lr), plain)
    assert plus.provenance["inference"]["self_ensemble"] is True
    tiled = apply(_model(net), InferenceMode(self_ensemble=True, tile=6, overlap=4))
    assert torch.equal(tiled.sr_values(lr), plus.sr_values(lr))  # overlap >= receptive radius 2


def test_bf16_runs_on_the_cpu_close_to_fp32() -> None:
    net = conv_x2().float()
    lr = torch.randint(0, 256, (1, 3, 10, 12), generator=torch.Generator().manual_seed(4)).float()
    fp32 = _model(net).sr_values(lr)
    bf16 = apply(_model(net), InferenceMode(precision="bf16")).sr_values(lr)
    assert bf16.dtype == torch.float32 and bf16.shape == fp32.shape
    diff = (bf16 - fp32).abs()
    assert 0 < diff.max() <= 8  # bf16 keeps 8 bits of mantissa: a few grey levels at most here


def test_precision_refused_where_spandrel_says_so_or_unknown() -> None:
    net = conv_x2().float()
    net._descriptor = types.SimpleNamespace(  # type: ignore[assignment]
        supports_half=False, supports_bfloat16=True, architecture=types.SimpleNamespace(name="ToyArch")
    )
    model = _model(net)
    with pytest.raises(SrbenchError, match="ToyArch as not supporting fp16"):
        check_precision(model, "fp16", "cpu")
    check_precision(model, "bf16", "cpu")
    with pytest.raises(SrbenchError, match="--precision fp8"):
        check_precision(model, "fp8", "cpu")


def test_labels_footnotes_and_records() -> None:
    mode = InferenceMode(self_ensemble=True, precision="bf16", tile=64, overlap=8)
    assert mode.suffix == "+ [bf16]" and InferenceMode().suffix == "" and InferenceMode().is_plain
    assert mode.describe() == "inference self-ensemble x8 (+), bf16, tiles 64 overlap 8"
    assert InferenceMode.from_json(mode.to_json()) == mode and InferenceMode.from_json(None).is_plain


def test_auto_tile_is_the_largest_that_fits() -> None:
    model = _model(conv_x2())
    assert auto_tile(model, (1, 3, 32, 32), 1 << 30) == 0  # fits whole
    tile = auto_tile(model, (1, 3, 512, 512), 64 << 20)
    per_pixel = 4 * 64 * 4 * 4
    assert tile % 8 == 0 and tile * tile * per_pixel <= 64 << 20 < (tile + 8) ** 2 * per_pixel
