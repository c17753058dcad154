"""srbench_eval.color: MATLAB's rgb2ycbcr constants, round trips, the protocol's Y rules, grey images."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from srbench_eval import color
from srbench_eval.color import (
    display_grey,
    luma,
    protocol_grey,
    rgb2gray_uint8,
    rgb_to_y,
    rgb_to_ycbcr,
    rgb_to_ycbcr_unit,
    ycbcr_to_rgb,
    ycbcr_to_rgb_unit,
)
from tests import basicsr_reference, matlab_reference

PIXELS = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 200, 30)]


def _batch(pixels: list[tuple[int, int, int]]) -> torch.Tensor:
    """``(1, 3, 1, len(pixels))`` float64 RGB 0..255."""
    return torch.tensor(pixels, dtype=torch.float64).T.reshape(1, 3, 1, len(pixels))


def _random_rgb(seed: int, shape: tuple[int, ...] = (2, 3, 9, 7)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.float32)


def test_matlab_rgb2ycbcr_constants() -> None:
    ycc = rgb_to_ycbcr(_batch(PIXELS))[0, :, 0].T.numpy()
    # Black and white: Y 16 and 235 (16 + 219), Cb = Cr = 128; the primaries reach 240 and 16.
    np.testing.assert_allclose(ycc[0], [16, 128, 128], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ycc[1], [235, 128, 128], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ycc[2], [16 + 65.481, 128 - 37.797, 240], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ycc[3], [16 + 128.553, 128 - 74.203, 128 - 93.786], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ycc[4], [16 + 24.966, 240, 128 - 18.214], rtol=0, atol=1e-12)
    assert color.YCBCR_MATRIX[0] == color.Y_WEIGHTS and color.YCBCR_OFFSET[0] == color.Y_OFFSET


def test_y_is_the_first_row_of_ycbcr_and_matches_the_reference() -> None:
    rgb = _random_rgb(1)
    y = rgb_to_y(rgb)
    assert isinstance(y, np.ndarray) and y.dtype == np.float64 and y.shape == (2, 1, 9, 7)
    np.testing.assert_allclose(y, rgb_to_ycbcr(torch.from_numpy(rgb))[:, :1].numpy(), rtol=0, atol=1e-12)
    for k in range(2):
        expected = matlab_reference.rgb_to_y(rgb[k].transpose(1, 2, 0))
        np.testing.assert_allclose(y[k, 0], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [2, 3])
def test_ycbcr_round_trips(seed: int) -> None:
    rgb = torch.from_numpy(_random_rgb(seed)).double()
    torch.testing.assert_close(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, rtol=0, atol=1e-10)
    unit = rgb / 255
    ycc = rgb_to_ycbcr_unit(unit)
    torch.testing.assert_close(ycc, rgb_to_ycbcr(rgb) / 255, rtol=0, atol=1e-13)
    torch.testing.assert_close(ycbcr_to_rgb_unit(ycc), unit, rtol=0, atol=1e-12)


def test_rounded_rule_is_matlab_uint8_rounding() -> None:
    rgb = _random_rgb(4, (1, 3, 40, 40))
    exact = rgb_to_y(rgb)
    rounded = luma(rgb, "rounded")
    # MATLAB rounds half away from zero; Y >= 16 here, so that is floor(Y + 0.5), never half to even.
    np.testing.assert_array_equal(rounded, np.sign(exact) * np.floor(np.abs(exact) + 0.5))
    assert np.abs(rounded - exact).max() <= 0.5
    assert np.array_equal(rounded, luma(torch.from_numpy(rgb), "rounded").numpy())
    grey128 = luma(_batch([(128, 128, 128)]), "rounded")  # 16 + 219 * 128 / 255 = 125.93
    assert grey128.item() == 126.0


def test_float32_rule_is_basicsr_to_y_channel() -> None:
    rgb = _random_rgb(5, (1, 3, 16, 16))
    ours = luma(rgb, "float32")
    tensor = luma(torch.from_numpy(rgb).requires_grad_(), "float32").detach()  # the tensor code
    np.testing.assert_array_equal(ours, tensor.numpy())
    bgr = rgb[0].transpose(1, 2, 0)[..., ::-1]
    np.testing.assert_allclose(ours[0, 0], basicsr_reference.to_y_channel(bgr), rtol=0, atol=1e-4)
    with pytest.raises(ValueError, match="unknown Y variant 'half'"):
        luma(rgb, "half")


@pytest.mark.parametrize("rule", ["float", "rounded", "float32"])
def test_a_grey_image_is_its_own_y(rule: str) -> None:
    grey = np.random.default_rng(6).random((1, 1, 5, 4)) * 255
    np.testing.assert_array_equal(luma(grey, rule), grey)
    torch.testing.assert_close(luma(torch.from_numpy(grey), rule), torch.from_numpy(grey), rtol=0, atol=0)


def test_grey_as_rgb_replicates() -> None:
    img = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    assert protocol_grey(img, "y") is img
    rgb = protocol_grey(img, "rgb")
    assert rgb.shape == (3, 4, 3) and all(np.array_equal(rgb[..., c], img) for c in range(3))
    colour = np.zeros((3, 4, 3), dtype=np.uint8)
    assert protocol_grey(colour, "rgb") is colour
    # Replicated grey g has Y = 16 + 219 g / 255 (the weights sum to 219).
    y = rgb_to_y(rgb.transpose(2, 0, 1)[None].astype(np.float64))
    np.testing.assert_allclose(y[0, 0], 16 + 219 * img.astype(np.float64) / 255.0, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="unknown grey rule 'grey'"):
        protocol_grey(img, "grey")


def test_rgb2gray_weights_are_matlabs() -> None:
    yiq_to_rgb = torch.tensor(
        [[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.106, 1.703]], dtype=torch.float64
    )
    assert tuple(float(v) for v in torch.linalg.inv(yiq_to_rgb)[0]) == color.RGB2GRAY_WEIGHTS
    np.testing.assert_allclose(color.RGB2GRAY_WEIGHTS, (0.2989, 0.5870, 0.1140), rtol=0, atol=1e-4)
    grey = rgb2gray_uint8(_batch([(255, 255, 255), (10, 200, 30)]))
    assert grey[0, 0, 0].tolist() == [255.0, round(0.2989 * 10 + 0.5870 * 200 + 0.1140 * 30)]


def test_display_grey_is_bt601_unscaled() -> None:
    img = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(display_grey(img)[0], [0.299 * 255, 0.587 * 255, 0.114 * 255, 255], atol=1e-12)
    plane = np.ones((2, 2), dtype=np.uint8)
    assert display_grey(plane).dtype == np.float64 and np.array_equal(display_grey(plane), plane)


def test_colour_and_protocol_import_without_torch_or_numerics() -> None:
    code = (
        "import sys, srbench_eval.color, srbench_eval.protocol\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('srbench_eval.data', "
        "'srbench_eval.metrics', 'srbench_eval.models'))]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
