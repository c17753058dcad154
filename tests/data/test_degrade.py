"""MATLAB bicubic: the torch implementation against hand-checkable facts and the NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srbench_eval.data.degrade.bicubic import (
    cubic_kernel,
    degrade_bicubic,
    degrade_bicubic_tensor,
    imresize,
    imresize_uint8,
    resize_taps,
    round_uint8,
    upscale_bicubic,
)
from srbench_eval.data.io.images import read_image
from tests import matlab_reference as ref
from tests.conftest import SHARED_BENCHMARKS

SCALES = (2, 3, 4)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """``(H, W)`` or ``(H, W, C)`` array -> ``(1, C, H, W)`` float64 tensor."""
    t = torch.from_numpy(np.ascontiguousarray(img)).to(torch.float64)
    return (t[None] if img.ndim == 2 else t.permute(2, 0, 1))[None]


def to_array(t: torch.Tensor) -> np.ndarray:
    t = t[0]
    return (t[0] if t.shape[0] == 1 else t.permute(1, 2, 0)).numpy()


def sample_images() -> list[np.ndarray]:
    """Real HR images when the shared mirror is there (RGB and the grey bridge), else synthetic ones."""
    names = ("Set5/HR/butterfly.png", "Set5/HR/woman.png", "Set14/HR/bridge.png")
    if all((SHARED_BENCHMARKS / n).is_file() for n in names):
        return [read_image(SHARED_BENCHMARKS / n) for n in names]
    rng = np.random.default_rng(7)
    smooth = np.cumsum(np.cumsum(rng.normal(size=(97, 131, 3)), axis=0), axis=1)
    smooth = (smooth - smooth.min()) / np.ptp(smooth) * 255
    noisy = rng.integers(0, 256, size=(61, 77), dtype=np.uint8)
    return [smooth.round().astype(np.uint8), noisy]


# --- hand-checkable facts -------------------------------------------------------------------------


def test_cubic_kernel_values() -> None:
    x = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, -0.5])
    # Keys (a = -0.5): 1 at 0, 0 at the other integers, 0.5625 at 0.5, -0.0625 at 1.5.
    expected = [1.0, 0.8671875, 0.5625, 0.0, -0.0625, 0.0, 0.0, 0.5625]
    assert cubic_kernel(x).tolist() == expected


def test_matlab_weights_for_half_scale() -> None:
    weights, taps = resize_taps(8, 4, 0.5)
    # The well-known weights of MATLAB's imresize(x, 1/2): the kernel stretched to 8 taps.
    row = [-0.01171875, -0.03515625, 0.11328125, 0.43359375, 0.43359375, 0.11328125, -0.03515625, -0.01171875]
    assert weights.tolist() == [row] * 4
    # 0-based indices with the mirrored border: -3 -> 2, -2 -> 1, -1 -> 0, 8 -> 7, 9 -> 6, 10 -> 5.
    assert taps.tolist() == [
        [2, 1, 0, 0, 1, 2, 3, 4],
        [0, 0, 1, 2, 3, 4, 5, 6],
        [1, 2, 3, 4, 5, 6, 7, 7],
        [3, 4, 5, 6, 7, 7, 6, 5],
    ]


def test_matlab_weights_for_double_scale() -> None:
    weights, taps = resize_taps(5, 10, 2.0)
    assert weights.shape == (10, 4)  # MATLAB computes 6 taps; two are zero everywhere and dropped
    assert weights[2].tolist() == [-0.0234375, 0.2265625, 0.8671875, -0.0703125]
    assert weights[3].tolist() == [-0.0703125, 0.8671875, 0.2265625, -0.0234375]
    assert taps[0].tolist() == [1, 0, 0, 1]


@pytest.mark.parametrize("scale", [2, 3, 4, 1 / 2, 1 / 3, 1 / 4, 0.7, 1.3])
def test_constant_image_stays_constant(scale: float) -> None:
    x = torch.full((2, 3, 13, 17), 117.0, dtype=torch.float64)
    out = imresize(x, scale)
    assert torch.allclose(out, torch.full_like(out, 117.0), atol=1e-12, rtol=0)


def test_upscaling_reproduces_a_linear_ramp_inside() -> None:
    # Cubic convolution reproduces linear functions; away from the mirrored borders, output sample
    # i (1-based) lies at u = i / 2 + 1/4 in 1-based input coordinates, i.e. at u - 1 0-based.
    x = torch.arange(20, dtype=torch.float64).view(1, 1, 20).expand(1, 6, 20).contiguous()
    out = imresize(x, 2.0)[0, 3]
    u = torch.arange(1, 41, dtype=torch.float64) / 2 + 0.25 - 1
    assert torch.allclose(out[4:-4], u[4:-4], atol=1e-12, rtol=0)


@pytest.mark.parametrize(
    ("size", "scale", "expected"), [(7, 0.5, 4), (10, 1 / 3, 4), (9, 0.25, 3), (5, 3, 15)]
)
def test_output_size_is_ceil(size: int, scale: float, expected: int) -> None:
    assert imresize(torch.zeros(1, size, size), scale).shape == (1, expected, expected)


def test_round_uint8_rounds_half_away_from_zero_and_saturates() -> None:
    x = torch.tensor([0.5, 1.5, 2.5, 2.4999, -0.4, -3.0, 254.5, 255.6, 300.0])
    assert round_uint8(x).tolist() == [1.0, 2.0, 3.0, 2.0, 0.0, 0.0, 255.0, 255.0, 255.0]


# --- against the NumPy reference (MATLAB's contributions() written out literally) -------------------


@pytest.mark.parametrize("scale", [2, 3, 4, 1 / 2, 1 / 3, 1 / 4, 0.7, 1.3])
@pytest.mark.parametrize("shape", [(17, 23, 3), (9, 1), (1, 9), (32, 21)])
def test_float_agreement_with_reference(shape: tuple[int, ...], scale: float) -> None:
    img = np.random.default_rng(0).random(shape) * 255
    expected = ref.imresize(img, scale)
    got = to_array(imresize(to_tensor(img), scale))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("scale", SCALES)
def test_degrade_and_upscale_match_reference_on_images(scale: int) -> None:
    for img in sample_images():
        hr = ref.modcrop(img, scale)
        lr = degrade_bicubic(img, scale, uint8_passes=False)
        lr_ref = ref.to_uint8(ref.imresize(hr, 1 / scale))
        assert lr.dtype == np.uint8 and lr.shape == lr_ref.shape
        assert lr.shape[:2] == (hr.shape[0] // scale, hr.shape[1] // scale)
        diff = np.abs(lr.astype(int) - lr_ref.astype(int))
        assert diff.max() <= 1 and diff.mean() < 1e-4  # only float ties may round apart
        sr = to_array(round_uint8(upscale_bicubic(to_tensor(lr), scale)))
        sr_ref = ref.to_uint8(ref.imresize(lr, scale))
        assert sr.shape == hr.shape
        diff = np.abs(sr.astype(int) - sr_ref.astype(int))
        assert diff.max() <= 1 and diff.mean() < 1e-4


@pytest.mark.parametrize("scale", SCALES)
def test_uint8_passes_match_reference(scale: int) -> None:
    for img in sample_images():
        lr = degrade_bicubic(img, scale, uint8_passes=True)
        lr_ref = ref.imresize_uint8(ref.modcrop(img, scale), 1 / scale)
        diff = np.abs(lr.astype(int) - lr_ref.astype(int))
        assert diff.max() <= 1 and diff.mean() < 1e-4
        # It is a different computation: some pixels do move.
        assert not np.array_equal(lr, degrade_bicubic(img, scale, uint8_passes=False))
        assert np.array_equal(lr, degrade_bicubic(img, scale))  # the default
        sr = to_array(imresize_uint8(to_tensor(lr), scale))  # the bicubic baseline
        sr_ref = ref.imresize_uint8(lr, scale)
        diff = np.abs(sr.astype(int) - sr_ref.astype(int))
        assert sr.shape == sr_ref.shape and diff.max() <= 1 and diff.mean() < 1e-4


# --- API: layouts, dtypes, batching ----------------------------------------------------------------


def test_imresize_keeps_dtype_and_layout() -> None:
    x = torch.rand(3, 12, 8, dtype=torch.float32) * 255
    out = imresize(x, 0.5)
    assert out.shape == (3, 6, 4) and out.dtype == torch.float32
    expected = ref.imresize(x.double().permute(1, 2, 0).numpy(), 0.5)
    np.testing.assert_allclose(out.permute(1, 2, 0).numpy(), expected, rtol=0, atol=1e-4)


def test_batched_equals_per_image() -> None:
    x = torch.rand(4, 3, 24, 20, dtype=torch.float64) * 255
    for scale in (4, 1 / 4):
        batch = imresize(x, scale)
        single = torch.cat([imresize(x[i : i + 1], scale) for i in range(4)])
        assert torch.equal(batch, single)
    hr = (torch.rand(3, 1, 24, 36) * 255).round()
    lr = degrade_bicubic_tensor(hr, 3)
    assert lr.dtype == hr.dtype and lr.shape == (3, 1, 8, 12)
    for i in range(3):
        expected = degrade_bicubic(hr[i, 0].numpy().astype(np.uint8), 3)
        assert np.array_equal(lr[i, 0].numpy().astype(np.uint8), expected)


def test_degrade_bicubic_grey_and_rgb_layouts() -> None:
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, size=(50, 37), dtype=np.uint8)
    rgb = rng.integers(0, 256, size=(50, 37, 3), dtype=np.uint8)
    assert degrade_bicubic(grey, 4).shape == (12, 9)
    assert degrade_bicubic(rgb, 4).shape == (12, 9, 3)
    # Channels are resized independently: a grey image equals each channel of its RGB copy.
    stacked = degrade_bicubic(np.repeat(grey[:, :, None], 3, axis=2), 4)
    assert all(np.array_equal(stacked[:, :, c], degrade_bicubic(grey, 4)) for c in range(3))


def test_imresize_is_differentiable() -> None:
    # Losses resize network outputs: the gradient of sum(A X B^T) with respect to X is A^T 1 B.
    x = torch.rand(2, 3, 12, 10, dtype=torch.float64, requires_grad=True)
    imresize(x, 0.5).sum().backward()
    assert x.grad is not None
    rows, cols = ref.resize_matrix(12, 6, 0.5), ref.resize_matrix(10, 5, 0.5)
    expected = rows.T @ np.ones((6, 5)) @ cols
    np.testing.assert_allclose(x.grad[1, 2].numpy(), expected, rtol=0, atol=1e-12)


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        degrade_bicubic(np.zeros((8, 8), dtype=np.float32), 2)
    with pytest.raises(TypeError, match="float"):
        imresize(torch.zeros(1, 4, 4, dtype=torch.uint8), 2)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        imresize(torch.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="modcrop"):
        degrade_bicubic_tensor(torch.zeros(1, 1, 9, 8), 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu() -> None:
    x = torch.rand(2, 3, 48, 36, dtype=torch.float64) * 255
    for scale in (4, 1 / 4, 3, 1 / 3):
        np.testing.assert_allclose(
            imresize(x.cuda(), scale).cpu().numpy(), imresize(x, scale).numpy(), rtol=0, atol=1e-9
        )
    # The protocol's uint8 passes: the CUDA tensor path and the CPU kernels give the same LR image.
    img = x.round().float()
    for scale in (2, 3, 4):
        lr = degrade_bicubic_tensor(img, scale)
        assert torch.equal(degrade_bicubic_tensor(img.cuda(), scale).cpu(), lr)
        assert torch.equal(imresize_uint8(lr.cuda(), scale).cpu(), imresize_uint8(lr, scale))


def test_mirror_index_is_symmetric_padding_for_arrays_and_tensors() -> None:
    from srbench_eval.data.degrade.bicubic import mirror_index

    index = np.arange(-7, 12)
    expected = np.pad(np.arange(5), 7, mode="symmetric")[: len(index)]  # NumPy's 'symmetric' of 0..4
    np.testing.assert_array_equal(mirror_index(index, 5), expected)
    assert mirror_index(torch.from_numpy(index), 5).tolist() == expected.tolist()
