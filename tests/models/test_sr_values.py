"""What the evaluation loop gets from a model: 8-bit values, grey handling, refused NaN output."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from srbench_eval.data.degrade.bicubic import imresize_uint8
from srbench_eval.models.archs.bicubic import Bicubic
from srbench_eval.models.loading import BicubicModel, resolve_model
from srbench_eval.models.network import NetworkModel

CPU = torch.device("cpu")


def _lr(channels: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (2, channels, 9, 11), generator=gen).float()


@pytest.mark.parametrize("channels", [1, 3])
def test_bicubic_fast_path_equals_the_generic_network_path(channels: int) -> None:
    lr = _lr(channels)
    fast = resolve_model("bicubic", 4, CPU)
    assert isinstance(fast, BicubicModel)
    generic = NetworkModel("bicubic", 4, accepts_grey=True, network=Bicubic(4))
    sr = fast.sr_values(lr)
    assert sr.dtype == torch.float32 and sr.shape == (2, channels, 36, 44)
    assert torch.equal(sr, generic.sr_values(lr))
    assert torch.equal(sr, imresize_uint8(lr.double(), 4).float())


class _Const(nn.Module):
    def __init__(self, value: float, channels: int = 3) -> None:
        super().__init__()
        self.value, self.channels = value, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == 3  # an RGB-only network
        n, _, h, w = x.shape
        out = torch.full((n, 3, 2 * h, 2 * w), self.value)
        out[:, 1] = self.value / 2
        return out


def test_generic_path_rounds_like_matlab_and_averages_grey_back() -> None:
    model = NetworkModel("c", 2, network=_Const(0.5 / 255 + 1e-9))  # 0.5 grey levels -> rounds up
    rgb = model.sr_values(_lr(3))
    assert torch.equal(rgb[:, 0], torch.ones_like(rgb[:, 0]))
    assert torch.equal(rgb[:, 1], torch.zeros_like(rgb[:, 1]))
    grey = model.sr_values(_lr(1))  # replicated in, averaged out: (v + v/2 + v) / 3 of 255 v = 0.5
    assert grey.shape == (2, 1, 18, 22) and torch.equal(grey, torch.zeros_like(grey))
    clipped = NetworkModel("big", 2, network=_Const(7.0)).sr_values(_lr(3))
    assert float(clipped.max()) == 255.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_or_infinite_output_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="NaN or infinite"):
        NetworkModel("bad", 2, network=_Const(bad)).sr_values(_lr(3))


@pytest.mark.parametrize(("tile", "overlap"), [(8, 3), (7, 5), (16, 3)])
def test_tiling_with_overlap_of_the_receptive_radius_gives_the_untiled_output(
    tile: int, overlap: int
) -> None:
    """Two 3x3 convolutions and a x2 pixel shuffle: each output pixel sees 2 LR pixels on each
    side, so any overlap >= 2 reproduces the whole-image output (zero padding falls on the true
    image border in both); an overlap of 0 does not."""
    from srbench_eval.models.base import tiled
    from tests.tiny_networks import conv_x2

    net = conv_x2()
    x = torch.rand(1, 3, 21, 30, dtype=torch.float64)
    with torch.no_grad():
        whole = net(x)
        torch.testing.assert_close(tiled(net, x, tile, overlap), whole, rtol=0, atol=1e-12)
        assert (tiled(net, x, tile, 0) - whole).abs().max() > 1e-3
