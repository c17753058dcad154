"""models/feeding.py: what a network is fed under a protocol and how its output becomes the SR image."""

from __future__ import annotations

import pytest
import torch

from srbench_eval.color import luma
from srbench_eval.models.feeding import model_input, model_output
from srbench_eval.protocol import DEFAULT, resolve


def _flat(colour: tuple[float, float, float], size: int) -> torch.Tensor:
    return torch.tensor(colour, dtype=torch.float64).view(1, 3, 1, 1).expand(1, 3, size, size).clone()


def test_rgb_networks_get_lr_over_255_and_their_output_quantised() -> None:
    lr = torch.rand(1, 3, 5, 4, dtype=torch.float64) * 255
    assert torch.equal(model_input(DEFAULT, lr), lr / 255.0)
    out = torch.rand(1, 3, 10, 8)
    sr = model_output(DEFAULT, out, lr, 2)
    assert torch.equal(sr, torch.floor(out.double() * 255 + 0.5))  # half away from zero, in range


def test_a_y_network_against_rgb_images_takes_chroma_from_bicubic() -> None:
    lapsrn = resolve("lapsrn")
    lr = _flat((200.0, 100.0, 50.0), 4)
    y = model_input(lapsrn, lr)
    assert y.shape == (1, 1, 4, 4)
    torch.testing.assert_close(y, luma(lr, "float") / 255.0, rtol=0, atol=0)
    out = torch.nn.functional.interpolate(y, scale_factor=2)  # a perfect network on a flat image
    sr = model_output(lapsrn, out, lr, 2)
    assert sr.shape == (1, 3, 8, 8) and torch.equal(sr, _flat((200.0, 100.0, 50.0), 8))
    with pytest.raises(ValueError, match="the network returned"):
        model_output(lapsrn, out[..., :7], lr, 2)


def test_the_y_only_pipeline_scores_the_network_plane() -> None:
    srcnn = resolve("srcnn")
    lr = torch.rand(1, 1, 6, 5, dtype=torch.float64) * 255
    up = model_input(srcnn, lr, scale=3, pre_upsampled=True)
    assert up.shape == (1, 1, 18, 15)
    out = up.clone()
    assert torch.equal(model_output(srcnn, out, lr, 3), torch.floor(out * 255 + 0.5).clamp(0, 255))
