"""The compiled resize kernels against the tensor implementation they replace on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srbench_eval.data.degrade import bicubic as degrade
from srbench_eval.data.degrade.bicubic import imresize, imresize_uint8, resize_taps
from srbench_eval.data.degrade.resize_kernels import periodic_plan


def tensor_imresize(x: torch.Tensor, scale: float, *, uint8: bool) -> torch.Tensor:
    """The sparse-matrix tensor path (the one GPUs and autograd use), whatever the device."""
    planes = x.to(torch.float64).reshape(-1, *x.shape[-2:]).contiguous()
    if uint8:
        out = degrade._round_uint8_(degrade._resize_planes(planes, scale, between=degrade._round_uint8_))
    else:
        out = degrade._resize_planes(planes, scale)
    return out.reshape(*x.shape[:-2], *out.shape[-2:]).to(x.dtype)


def random_image(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, shape).astype(np.float32))


@pytest.mark.parametrize("scale", [2, 3, 4, 1 / 2, 1 / 3, 1 / 4, 8, 1 / 8])
def test_protocol_scales_equal_the_tensor_path_exactly(scale: float) -> None:
    for seed, shape in enumerate([(1, 3, 48, 40), (2, 1, 24, 36), (1, 3, 17, 29)]):
        x = random_image(shape, seed)
        if min(shape[-2:]) * scale < 2:
            continue
        got = imresize_uint8(x, scale)
        assert got.dtype == torch.float32 and got.shape == tensor_imresize(x, scale, uint8=True).shape
        assert torch.equal(got, tensor_imresize(x, scale, uint8=True)), (scale, shape)


@pytest.mark.parametrize("scale", [1.5, 2 / 3, 0.3, 1.7, 5 / 4])
def test_other_scales_differ_at_most_at_exact_halves(scale: float) -> None:
    """Scales such as 2/3 put some sums exactly on a half in exact arithmetic; float64 in another
    summation order may land on either side, so a few samples may differ by one grey level."""
    x = random_image((1, 3, 45, 38), 11)
    got, want = imresize_uint8(x, scale), tensor_imresize(x, scale, uint8=True)
    assert got.shape == want.shape
    diff = (got - want).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 1e-2


@pytest.mark.parametrize("scale", [4, 1 / 4, 3, 1.5, 0.3])
def test_float_resize_equals_the_tensor_path(scale: float) -> None:
    x = random_image((1, 3, 33, 27), 5).double() / 3.7 - 4.0
    got = imresize(x, scale)
    np.testing.assert_allclose(
        got.numpy(), tensor_imresize(x, scale, uint8=False).numpy(), rtol=0, atol=1e-10
    )
    # float32 input: float64 sums, a float64 intermediate, float32 only at the end.
    got32 = imresize(x.float(), scale)
    assert got32.dtype == torch.float32
    np.testing.assert_allclose(got32.numpy(), got.float().numpy(), rtol=0, atol=1e-4)


def test_periodic_plan_reproduces_the_taps_and_falls_back() -> None:
    for n_in, n_out, scale in [
        (40, 160, 4.0),
        (160, 40, 0.25),
        (33, 99, 3.0),
        (90, 30, 1 / 3),
        (30, 45, 1.5),
        (60, 20, 1 / 3),
    ]:
        weights, taps = (t.numpy() for t in resize_taps(n_in, n_out, scale))
        plan = periodic_plan(weights, taps, n_in, scale)
        assert plan is not None, (n_in, n_out, scale)
        q = plan.phase_weights.shape[0]
        # Rebuild every sample's weights and (mirrored) taps from the plan.
        for j in range(n_out):
            p, m = j % q, j // q
            np.testing.assert_array_equal(plan.phase_weights[p, :, m], weights[j])
            padded = plan.first[p] + plan.r * m - plan.pad_lo
            mirrored = np.where(padded < 0, -1 - padded, padded)
            mirrored = np.where(mirrored >= n_in, 2 * n_in - 1 - mirrored, mirrored)
            np.testing.assert_array_equal(mirrored, taps[j])
    # sqrt(2) is no ratio of small integers: the per-sample kernel takes it, with the same result.
    weights, taps = (t.numpy() for t in resize_taps(20, 29, 2**0.5))
    assert periodic_plan(weights, taps, 20, 2**0.5) is None
    x = random_image((1, 3, 20, 20), 3)
    assert torch.equal(imresize_uint8(x, 2**0.5), tensor_imresize(x, 2**0.5, uint8=True))


def test_inputs_needing_gradients_take_the_tensor_path() -> None:
    x = (random_image((1, 3, 16, 16), 4) / 255).double().requires_grad_()
    y = imresize(x, 0.5)
    assert y.requires_grad
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


# --- Bitwise: every kernel path against the definition -------------------------------------------

_MODES = {None: 0, "half-away": 1, "half-even": 2}


def _round_reference(values: np.ndarray, mode: int) -> np.ndarray:
    if mode == 1:
        return np.clip(np.floor(values + 0.5), 0.0, 255.0)
    if mode == 2:
        return np.clip(np.rint(values), 0.0, 255.0)
    return values


def reference_resize(
    planes: np.ndarray, scale: float, rounding: bool, border: str = "symmetric", final: str | None = None
) -> np.ndarray:
    """The definition the kernels must reproduce bit for bit, in NumPy: per pass and output sample,
    ``0.0 + W[j, 0] x[I[j, 0]] + W[j, 1] x[I[j, 1]] + ...`` in float64, left to right, then rounded
    (``rounding``: after each pass, half away; ``final``: the last pass only) and stored as float32
    when rounded."""
    n, h, w = planes.shape
    weights, taps = (a.numpy() for a in resize_taps(h, degrade.output_length(h, scale), scale, border))
    tall = np.zeros((n, weights.shape[0], w))
    for t in range(weights.shape[1]):
        tall = tall + weights[None, :, t, None] * planes[:, taps[:, t], :].astype(np.float64)
    tall = _round_reference(tall, 1 if rounding else 0)
    if rounding:
        tall = tall.astype(np.float32)
    last = 1 if rounding else _MODES[final]
    weights, taps = (a.numpy() for a in resize_taps(w, degrade.output_length(w, scale), scale, border))
    out = np.zeros((n, tall.shape[1], weights.shape[0]))
    for t in range(weights.shape[1]):
        out = out + weights[None, None, :, t] * tall[:, :, taps[:, t]].astype(np.float64)
    out = _round_reference(out, last)
    return out.astype(np.float32) if last else out


def assert_bitwise_equal(got: np.ndarray, want: np.ndarray, label: object) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape, (label, got.dtype, got.shape, want.shape)
    bits = np.uint64 if got.dtype == np.float64 else np.uint32
    same = got.view(bits) == want.view(bits)
    assert same.all(), (label, int((~same).sum()), np.argwhere(~same)[:3].tolist())


_SIZES = [(1, 1), (1, 5), (2, 3), (3, 8), (5, 2), (7, 7), (8, 4), (11, 13), (24, 31), (33, 40)]
_SCALES = [2, 3, 4, 1 / 2, 1 / 3, 1 / 4]
_PASSES = [(True, None), (False, "half-even"), (False, "half-away"), (False, None)]


@pytest.mark.parametrize("border", ["symmetric", "clamp"])
@pytest.mark.parametrize("scale", _SCALES)
def test_kernels_equal_the_definition_bit_for_bit(scale: float, border: str) -> None:
    """Every path (polyphase phases, the one-pass upscaling, tap groups, the gather kernel for
    clamped borders and images shorter than the plan), every rounding mode, odd and tiny sizes
    (down to 1 pixel, images narrower than the taps), float32 and float64 inputs."""
    rng = np.random.default_rng(int(1000 * scale))
    for h, w in _SIZES:
        for dtype in (np.float32, np.float64):
            planes = rng.integers(0, 256, (2, h, w)).astype(dtype)
            if dtype == np.float64:  # not only integers: float inputs of imresize
                planes = planes / 3.7 - 4.0
            for rounding, final in _PASSES:
                got = degrade._resize_planes_compiled(planes, scale, rounding, border, final)
                want = reference_resize(planes, scale, rounding, border, final)
                assert_bitwise_equal(got, want, (scale, border, h, w, dtype.__name__, rounding, final))


@pytest.mark.parametrize("scale", [2, 3, 4, 8, 1 / 2, 1 / 3, 1 / 4, 1 / 8, 1.5, 2 / 3])
def test_kernels_equal_the_definition_on_image_sizes(scale: float) -> None:
    """Benchmark-like sizes: the interior of the plans (periodic taps, long rows) and both borders."""
    rng = np.random.default_rng(7)
    h, w = (96, 120) if scale < 1 else (36, 45)
    planes = rng.integers(0, 256, (3, h, w)).astype(np.float32)
    for rounding, final in _PASSES:
        got = degrade._resize_planes_compiled(planes, scale, rounding, "symmetric", final)
        want = reference_resize(planes, scale, rounding, "symmetric", final)
        assert_bitwise_equal(got, want, (scale, rounding, final))


@pytest.mark.parametrize("scale", _SCALES)
def test_rounded_kernels_equal_the_sparse_tensor_path_bit_for_bit(scale: float) -> None:
    """The rounded results (after each pass, and rounded once in either rule) against the sparse
    matrix products that GPUs and autograd use, on odd and tiny sizes."""
    rng = np.random.default_rng(3)
    for h, w in _SIZES:
        x = torch.from_numpy(rng.integers(0, 256, (1, 2, h, w)).astype(np.float32))
        assert torch.equal(imresize_uint8(x, scale), tensor_imresize(x, scale, uint8=True)), (scale, h, w)
        planes = x.reshape(-1, h, w).double()
        tensor = degrade._resize_planes(planes, scale)
        rounded_once = {"half-even": tensor.round().clamp(0, 255), "half-away": degrade.round_uint8(tensor)}
        for final, rounded in rounded_once.items():
            got = degrade._resize_planes_compiled(planes.float().numpy(), scale, False, "symmetric", final)
            assert np.array_equal(got, rounded.float().numpy()), (scale, h, w, final)
