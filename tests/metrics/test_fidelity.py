"""Y-channel PSNR and SSIM against scikit-image, the NumPy/OpenCV reference and hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from srbench_eval.metrics import METRICS, fidelity_kernels, get_metric
from srbench_eval.metrics.base import MetricSettings
from srbench_eval.metrics.fidelity import (
    PSNR,
    SSIM,
    gaussian_window,
    luma,
    psnr,
    rgb_to_y,
    ssim,
    ssim_reference,
)
from tests import matlab_reference as ref


def pair(shape: tuple[int, ...], seed: int = 0, noise: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """An 8-bit HR image with structure and a noisy 8-bit 'SR' copy of it."""
    rng = np.random.default_rng(seed)
    base = np.cumsum(np.cumsum(rng.normal(size=shape), axis=0), axis=1)
    hr = np.clip((base - base.min()) / np.ptp(base) * 255, 0, 255).round()
    sr = np.clip(hr + rng.normal(scale=noise, size=shape), 0, 255).round()
    return sr.astype(np.uint8), hr.astype(np.uint8)


def batch(*imgs: np.ndarray) -> torch.Tensor:
    """``(H, W)`` / ``(H, W, 3)`` uint8 arrays -> ``(N, C, H, W)`` float32 0..255, as the metrics get them."""
    ts = [torch.from_numpy(i.astype(np.float32)) for i in imgs]
    return torch.stack([t[None] if t.ndim == 2 else t.permute(2, 0, 1) for t in ts])


def y_cropped(img: np.ndarray, border: int) -> np.ndarray:
    return ref.crop(ref.rgb_to_y(img), border)


def test_rgb_to_y_is_matlab_rgb2ycbcr_luma() -> None:
    x = torch.tensor([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0], [255.0, 0.0, 0.0], [10.0, 200.0, 30.0]])
    y = rgb_to_y(x.view(4, 3, 1, 1)).flatten()
    assert y.dtype == torch.float64
    # Black -> 16, white -> 235 (16 + 219), pure red -> 16 + 65.481; not rounded.
    expected = [16.0, 235.0, 81.481, 16 + (65.481 * 10 + 128.553 * 200 + 24.966 * 30) / 255]
    np.testing.assert_allclose(y.numpy(), expected, rtol=0, atol=1e-12)
    grey = torch.rand(2, 1, 5, 5)
    assert torch.equal(rgb_to_y(grey), grey.double())


def test_gaussian_window() -> None:
    g = gaussian_window()
    assert g.shape == (11,) and abs(float(g.sum()) - 1) < 1e-15
    # sigma 1.5: neighbouring taps at the centre are in ratio exp(-1 / 4.5).
    assert math.isclose(float(g[6] / g[5]), math.exp(-1 / 4.5), rel_tol=1e-14)


@pytest.mark.parametrize("border", [0, 2, 4])
@pytest.mark.parametrize("shape", [(48, 61, 3), (40, 33)])
def test_psnr_matches_skimage_and_reference(shape: tuple[int, ...], border: int) -> None:
    sr, hr = pair(shape)
    got = float(psnr(batch(sr), batch(hr), border)[0])
    a, b = y_cropped(sr, border), y_cropped(hr, border)
    assert math.isclose(got, peak_signal_noise_ratio(b, a, data_range=255), rel_tol=0, abs_tol=1e-10)
    assert math.isclose(got, ref.psnr(a, b), rel_tol=0, abs_tol=1e-10)


@pytest.mark.parametrize("border", [0, 3, 4])
@pytest.mark.parametrize("shape", [(48, 61, 3), (40, 33)])
def test_ssim_matches_skimage_and_reference(shape: tuple[int, ...], border: int) -> None:
    sr, hr = pair(shape, seed=1)
    got = float(ssim(batch(sr), batch(hr), border)[0])
    a, b = y_cropped(sr, border), y_cropped(hr, border)
    sk = structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    assert math.isclose(got, sk, rel_tol=0, abs_tol=1e-7)
    assert math.isclose(got, ref.ssim(a, b), rel_tol=0, abs_tol=1e-10)
    assert 0.2 < got < 0.99  # a real, non-trivial value was compared


def test_hand_computed_psnr() -> None:
    hr = np.full((10, 10), 100, dtype=np.uint8)
    sr = hr.copy()
    sr[5, 5] = 110  # one pixel off by 10 in the 4x4 centre left by a border of 3: MSE = 100 / 16
    value = float(psnr(batch(sr), batch(hr), 3)[0])
    assert math.isclose(value, 10 * math.log10(255**2 / (100 / 16)), rel_tol=0, abs_tol=1e-12)
    sr[0, 0] = 0  # inside the border: no effect
    assert float(psnr(batch(sr), batch(hr), 3)[0]) == value


def test_identical_images() -> None:
    _, hr = pair((30, 30, 3))
    assert float(psnr(batch(hr), batch(hr), 2)[0]) == math.inf
    assert float(ssim(batch(hr), batch(hr), 2)[0]) == pytest.approx(1.0, abs=1e-12)


def test_grey_input_is_used_as_y() -> None:
    sr, hr = pair((36, 36), seed=2)
    rgb_sr, rgb_hr = (np.repeat(x[:, :, None], 3, axis=2) for x in (sr, hr))
    # For R = G = B = v, Y = 16 + 219 v / 255 != v: grey files are not run through rgb2ycbcr.
    assert float(psnr(batch(sr), batch(hr), 0)[0]) == pytest.approx(ref.psnr(sr, hr), abs=1e-10)
    assert float(psnr(batch(sr), batch(hr), 0)[0]) != pytest.approx(
        float(psnr(batch(rgb_sr), batch(rgb_hr), 0)[0]), abs=0.1
    )


def test_batched_equals_single() -> None:
    pairs = [pair((40, 44, 3), seed=s, noise=4 + 4 * s) for s in range(3)]
    sr = batch(*(p[0] for p in pairs))
    hr = batch(*(p[1] for p in pairs))
    for fn in (psnr, ssim):
        batched = fn(sr, hr, 4)
        assert batched.shape == (3,) and batched.dtype == torch.float64
        single = torch.cat([fn(sr[i : i + 1], hr[i : i + 1], 4) for i in range(3)])
        np.testing.assert_allclose(batched.numpy(), single.numpy(), rtol=0, atol=1e-12)
    assert len(set(psnr(sr, hr, 4).tolist())) == 3


def test_too_small_and_negative_crop_are_refused() -> None:
    sr, hr = pair((20, 20))
    with pytest.raises(ValueError, match="SSIM needs"):
        ssim(batch(sr), batch(hr), 5)
    with pytest.raises(ValueError, match="too small"):
        psnr(batch(sr), batch(hr), 10)
    with pytest.raises(ValueError, match=">= 0"):
        psnr(batch(sr), batch(hr), -1)


def test_metric_classes_are_registered_and_accumulate() -> None:
    assert get_metric("psnr") is PSNR and get_metric("ssim") is SSIM
    assert METRICS["psnr"].label == "PSNR" and METRICS["ssim"].label == "SSIM"
    assert PSNR.higher_is_better and SSIM.higher_is_better
    assert (PSNR.decimals, SSIM.decimals) == (2, 4) and PSNR.per_image and SSIM.per_image
    settings = MetricSettings(scale=2)
    pairs = [pair((32, 30, 3), seed=s) for s in range(3)]
    metric = PSNR(settings)
    metric.update(batch(pairs[0][0], pairs[1][0]), batch(pairs[0][1], pairs[1][1]))
    values = metric.update(batch(pairs[2][0]), batch(pairs[2][1]))
    assert values.shape == (1,)
    expected = [ref.psnr(y_cropped(s, 2), y_cropped(h, 2)) for s, h in pairs]
    result = metric.compute()
    assert result.n_samples == 3
    assert math.isclose(result.value, sum(expected) / 3, rel_tol=0, abs_tol=1e-10)
    ssim_metric = SSIM(settings)
    ssim_metric.update(batch(pairs[0][0]), batch(pairs[0][1]))
    assert math.isclose(
        ssim_metric.compute().value,
        ref.ssim(y_cropped(pairs[0][0], 2), y_cropped(pairs[0][1], 2)),
        abs_tol=1e-10,
    )


# --- the fast paths against the plain formulas ------------------------------------------------------


def _direct_psnr(sr: torch.Tensor, hr: torch.Tensor, border: int) -> torch.Tensor:
    """10 log10(255^2 / mean((Y(sr) - Y(hr))^2)), one Y image per input."""
    a = rgb_to_y(sr)[..., border : sr.shape[-2] - border, border : sr.shape[-1] - border]
    b = rgb_to_y(hr)[..., border : hr.shape[-2] - border, border : hr.shape[-1] - border]
    return 10 * torch.log10(255.0**2 / (a - b).square().mean(dim=(1, 2, 3)))


@pytest.mark.parametrize("channels", [1, 3])
def test_psnr_gram_form_equals_the_direct_formula(channels: int) -> None:
    gen = torch.Generator().manual_seed(3)
    hr = torch.randint(0, 256, (2, channels, 37, 29), generator=gen).float()
    sr = (hr + torch.randint(-9, 10, hr.shape, generator=gen)).clamp(0, 255)
    np.testing.assert_allclose(psnr(sr, hr, 4).numpy(), _direct_psnr(sr, hr, 4).numpy(), rtol=0, atol=1e-11)
    # Non-integer inputs too (the Gram form is exact algebra, not an 8-bit trick).
    sr_f = sr + torch.rand(sr.shape, generator=gen)
    expected = _direct_psnr(sr_f, hr, 0).numpy()
    np.testing.assert_allclose(psnr(sr_f, hr, 0).numpy(), expected, rtol=0, atol=1e-11)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_and_tensor_paths_agree(channels: int, dtype: torch.dtype) -> None:
    """The CPU path runs the numba kernels; the tensor path (GPU, autograd) must give the same values
    and the same HR moments."""
    sr, hr = pair((53, 47, 3) if channels == 3 else (53, 47), seed=5)
    x, y = batch(sr, hr).to(dtype), batch(hr, sr).to(dtype)
    x_grad = x.clone().double().requires_grad_()  # forces the tensor code
    np.testing.assert_allclose(psnr(x, y, 4).numpy(), psnr(x_grad, y, 4).detach().numpy(), rtol=0, atol=1e-11)
    np.testing.assert_allclose(ssim(x, y, 4).numpy(), ssim(x_grad, y, 4).detach().numpy(), rtol=0, atol=1e-13)
    fast, slow = ssim_reference(y, 4), ssim_reference(y.clone().double().requires_grad_(), 4)
    for name in ("y", "mu", "sq"):
        got, want = getattr(fast, name), getattr(slow, name).detach()
        assert got.shape == want.shape and got.dtype == torch.float64
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-14, atol=1e-11, err_msg=name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_the_cpu_kernels() -> None:
    sr, hr = pair((64, 57, 3), seed=9)
    x, y = batch(sr, hr), batch(hr, sr)
    np.testing.assert_allclose(psnr(x.cuda(), y.cuda(), 4).cpu().numpy(), psnr(x, y, 4).numpy(), atol=1e-11)
    np.testing.assert_allclose(ssim(x.cuda(), y.cuda(), 4).cpu().numpy(), ssim(x, y, 4).numpy(), atol=1e-13)


def test_compiled_path_takes_non_contiguous_batches() -> None:
    sr, hr = pair((30, 34, 3), seed=8)
    x, y = batch(sr), batch(hr)
    x_nc = x.permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2)  # same values, other strides
    assert not x_nc.is_contiguous()
    assert torch.equal(psnr(x_nc, y, 2), psnr(x, y, 2))
    assert torch.equal(ssim(x_nc, y, 2), ssim(x, y, 2))


def test_ssim_with_a_precomputed_reference_is_the_same() -> None:
    sr, hr = pair((41, 45, 3), seed=6)
    x, y = batch(sr, hr), batch(hr, sr)
    reference = ssim_reference(y, 3)
    assert torch.equal(ssim(x, y, 3, reference), ssim(x, y, 3))
    metric = SSIM(MetricSettings(scale=3))
    assert torch.equal(metric.update(x, y, metric.reference(y)), ssim(x, y, 3))
    with pytest.raises(ValueError, match="do not match"):
        ssim(x[..., :-1], y[..., :-1], 3, reference)


def test_inputs_are_not_modified() -> None:
    sr, hr = pair((24, 26, 3), seed=7)
    for dtype in (torch.float32, torch.float64):
        x, y = batch(sr).to(dtype), batch(hr).to(dtype)
        x0, y0 = x.clone(), y.clone()
        rgb_to_y(x), psnr(x, y, 2), ssim(x, y, 2)
        assert torch.equal(x, x0) and torch.equal(y, y0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_float32_luma_is_the_tensor_one(dtype: torch.dtype) -> None:
    """BasicSR's float32 Y: the compiled pass gives the tensor code's values bit for bit, on 8-bit
    values and on unrounded ones (an SR image kept in float), for RGB and grey batches."""
    gen = torch.Generator().manual_seed(11)
    rgb = torch.randint(0, 256, (2, 3, 37, 29), generator=gen).to(dtype)
    for x in (rgb, rgb + torch.rand(rgb.shape, generator=gen).to(dtype) * 0.999, rgb[:, :1]):
        fast = luma(x, "float32")
        slow = luma(x.clone().requires_grad_(), "float32").detach()  # forces the tensor code
        assert fast.dtype == slow.dtype == torch.float64 and fast.shape == slow.shape == (2, 1, 37, 29)
        assert torch.equal(fast, slow)


@pytest.mark.parametrize("y", ["float", "rounded", "float32"])
def test_metrics_reuse_the_hr_y_of_their_reference(y: str) -> None:
    """Under a protocol with its own Y rule the HR's Y is made once per image (the metric's
    ``reference``, shared by every model); the values equal those computed without it."""
    from srbench_eval.protocol import resolve

    protocol = resolve("basicsr" if y == "float32" else "selfexsr" if y == "rounded" else "matlab")
    assert protocol.y == y
    sr, hr = pair((43, 39, 3), seed=12)
    x, t = batch(sr, hr), batch(hr, sr)
    for cls in (PSNR, SSIM):
        metric = cls(MetricSettings(scale=4, protocol=protocol))
        ref = metric.reference(t)
        assert (ref is None) == (y == "float" and cls is PSNR)
        assert torch.equal(metric.score(x, t, ref), metric.score(x, t))


def test_the_11_tap_filter_passes_are_the_tap_loops_bit_for_bit() -> None:
    """SSIM's window has 11 taps: its written-out passes (one output row or four) keep each
    sum in a register but add the same products in the same order as the loop over the taps, so the
    bits are the same."""
    rng = np.random.default_rng(11)
    y = rng.random((25, 203)) * 255
    y_hr = np.round(rng.random((27, 203)) * 255)
    g = gaussian_window().numpy()
    fast, loop, quad = np.empty((3, 203)), np.empty((3, 203)), np.empty((12, 203))
    for i in (0, 7, 11):
        fidelity_kernels._vertical11_cross(y, i, y_hr, i + 2, g, fast)
        fidelity_kernels._vertical_cross_taps(y, i, y_hr, i + 2, g, loop)
        assert np.array_equal(fast, loop)
        fidelity_kernels._vertical11_cross_quad(y, i, y_hr, i + 2, g, quad)
        for r in range(4):
            fidelity_kernels._vertical_cross_taps(y, i + r, y_hr, i + r + 2, g, loop)
            assert np.array_equal(quad[3 * r : 3 * r + 3], loop)
        fidelity_kernels._vertical11(y_hr, i, g, fast)
        fidelity_kernels._vertical_taps(y_hr, i, g, loop)
        assert np.array_equal(fast[:2], loop[:2])
        fidelity_kernels._vertical11_quad(y_hr, i, g, quad)
        for r in range(4):
            fidelity_kernels._vertical_taps(y_hr, i + r, g, loop)
            assert np.array_equal(quad[2 * r : 2 * r + 2], loop[:2])
        out_fast, out_loop = np.empty(193), np.empty(193)
        fidelity_kernels._horizontal11(fast[1], g, out_fast)
        fidelity_kernels._horizontal_taps(fast[1], g, out_loop)
        assert np.array_equal(out_fast, out_loop)


def test_the_compiled_window_is_the_gaussian_formula_bit_for_bit() -> None:
    from srbench_eval.metrics.fidelity import SSIM_GAUSSIAN

    assert SSIM_GAUSSIAN.view(np.int64).tolist() == gaussian_window().numpy().view(np.int64).tolist()


def test_correctly_rounded_log10_is_the_exact_value_on_every_path() -> None:
    """PSNR takes ``log10_rounded`` on arrays and tensors alike: the float64 nearest to the exact
    log10 (checked at 60 digits), where NumPy's log10 and, on AVX-512 CPUs, torch's are off by an ulp;
    so the array and tensor paths give the same dB on every machine."""
    import decimal

    from srbench_eval.metrics.fidelity import log10_rounded, psnr

    rng = np.random.default_rng(16)
    x = np.concatenate([rng.uniform(1.0, 1e6, 2000), np.exp(rng.uniform(0.0, 16.0, 2000))])
    exact = [float(decimal.Decimal(float(v)).log10(decimal.Context(prec=60))) for v in x]
    assert log10_rounded(x).tolist() == exact
    assert np.count_nonzero(np.log10(x) != log10_rounded(x)) > 0  # what it is there for
    sr = rng.integers(0, 256, (6, 3, 40, 40)).astype(np.float64)
    hr = np.clip(sr + rng.integers(-9, 10, sr.shape), 0, 255)
    on_arrays = psnr(sr, hr, 4)
    on_tensors = psnr(torch.from_numpy(sr), torch.from_numpy(hr), 4).numpy()
    assert on_arrays.tolist() == on_tensors.tolist()
    assert log10_rounded(np.array([np.inf]))[0] == np.inf


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("y", ["float", "rounded", "float32"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_arrays_give_the_tensor_values_bit_for_bit(channels: int, y: str, dtype: type) -> None:
    """The evaluation's CPU path hands the metrics NumPy arrays: every value (and its type) is the
    tensor path's NumPy twin, to the last bit."""
    from srbench_eval.protocol import resolve

    shape = (37, 41, 3) if channels == 3 else (37, 41)
    imgs = [pair(shape, seed=s) for s in range(2)]
    sr_t, hr_t = (
        batch(*(i[0] for i in imgs)).to(getattr(torch, np.dtype(dtype).name)),
        batch(*(i[1] for i in imgs)),
    )
    sr_a, hr_a = sr_t.numpy(), hr_t.numpy().copy()
    for name in ("psnr", "ssim"):
        for ssim_variant in ("wang", "matlab"):
            settings = MetricSettings(3, resolve("matlab", [f"y={y}", f"ssim={ssim_variant}"]))
            metric = get_metric(name)(settings)
            want = metric.update(sr_t, hr_t, metric.reference(hr_t))
            got = get_metric(name)(settings).update(sr_a, hr_a, metric.reference(hr_a))
            assert isinstance(got, np.ndarray)
            assert np.asarray(got).tolist() == want.tolist(), (name, ssim_variant)
    assert np.array_equal(luma(sr_a, y), luma(sr_t, y).numpy())
    same = get_metric("psnr")(MetricSettings(3)).update(hr_a, hr_a)
    assert same.tolist() == [math.inf, math.inf]
