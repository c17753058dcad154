"""LR images of every protocol: clamped borders against a dense NumPy reference, the compiled and
tensor paths against each other, and every profile against the authors' own LR files, pixel for
pixel (``../shared/oracles/lr``, ``../shared/oracles/selfexsr``)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval.data.degrade.bicubic import degrade, imresize, imresize_uint8, resize_taps
from srbench_eval.data.io.images import read_image
from srbench_eval.data.pairs import image_tensor, make_pair, protocol_hr
from srbench_eval.protocol import resolve
from tests import matlab_reference as ref
from tests.conftest import SHARED

ORACLES = SHARED / "oracles"
BENCH = SHARED / "benchmarks"
requires_oracles = pytest.mark.skipif(
    not ORACLES.is_dir(), reason=f"{ORACLES} is absent (published LR files)"
)
CPU = torch.device("cpu")
SET5 = ("baby", "bird", "butterfly", "head", "woman")


def clamped_matrix(in_length: int, out_length: int, scale: float) -> np.ndarray:
    """MATLAB's ``contributions()`` weights with out-of-range indices clamped to 1..n, as a dense matrix."""
    weights, _ = ref.contributions(in_length, out_length, scale)
    # Recompute the unmirrored indices: same taps (ref keeps the columns with a non-zero weight).
    width = 4.0 / scale if scale < 1 else 4.0
    u = np.arange(1, out_length + 1)[:, None] / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    indices = left + np.arange(math.ceil(width) + 2)[None, :]
    w_all = (scale * ref.cubic(scale * (u - indices))) if scale < 1 else ref.cubic(u - indices)
    w_all = w_all / w_all.sum(axis=1, keepdims=True)
    keep = np.any(w_all != 0, axis=0)
    indices = np.clip(indices[:, keep].astype(np.int64), 1, in_length) - 1
    assert np.allclose(w_all[:, keep], weights)
    mat = np.zeros((out_length, in_length))
    np.add.at(
        mat, (np.repeat(np.arange(out_length), indices.shape[1]), indices.ravel()), w_all[:, keep].ravel()
    )
    return mat


@pytest.mark.parametrize("scale", [1 / 2, 1 / 3, 1 / 4, 1 / 8, 2, 3, 4])
def test_clamped_taps_equal_a_dense_reference(scale: float) -> None:
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 255, (24, 40))
    mat_h = clamped_matrix(24, math.ceil(24 * scale), scale)
    mat_w = clamped_matrix(40, math.ceil(40 * scale), scale)
    expected = mat_h @ img @ mat_w.T
    got = imresize(torch.from_numpy(img)[None], scale, border="clamp")[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_clamp_differs_from_mirror_only_near_the_border() -> None:
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.integers(0, 256, (3, 48, 64)).astype(np.float32))
    a = imresize_uint8(x, 1 / 4, border="clamp")
    b = imresize_uint8(x, 1 / 4)
    diff = (a != b).any(dim=0)
    assert diff.any()
    assert not diff[2:-2, 2:-2].any()


@pytest.mark.parametrize("rounding", [True, False])
def test_clamped_compiled_path_equals_the_tensor_path(rounding: bool) -> None:
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.integers(0, 256, (2, 3, 36, 52)).astype(np.float64))
    resize = imresize_uint8 if rounding else imresize
    compiled = resize(x, 1 / 3, border="clamp")
    tensor = resize(x.clone().requires_grad_(True), 1 / 3, border="clamp").detach()
    if rounding:
        assert torch.equal(compiled, tensor)
    else:
        torch.testing.assert_close(compiled, tensor, rtol=0, atol=1e-9)


def test_unknown_border_is_refused() -> None:
    with pytest.raises(ValueError, match="border"):
        resize_taps(10, 5, 0.5, "wrap")


def test_y_double_pipeline_makes_rounded_y_hr_and_unrounded_lr(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (26, 35, 3), dtype=np.uint8)
    protocol = resolve("srcnn")
    hr = protocol_hr(img, 4, protocol)
    y = ref.rgb_to_y(ref.modcrop(img, 4))
    assert hr.shape == (24, 32) and hr.dtype == np.uint8
    assert np.array_equal(hr, np.floor(y + 0.5).astype(np.uint8))
    lr = degrade(image_tensor(hr, CPU).double(), 4, protocol)
    assert lr.dtype == torch.float64
    np.testing.assert_allclose(lr[0, 0].numpy(), ref.imresize(hr, 1 / 4), rtol=0, atol=1e-9)
    assert not torch.equal(lr, lr.round())


def test_grey_as_rgb_replicates_the_plane() -> None:
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8)
    assert protocol_hr(grey, 4, resolve("lapsrn")).shape == (8, 8, 3)
    assert protocol_hr(grey, 4, resolve("matlab")).shape == (8, 8)


def _lr(hr_path: Path, scale: int, profile: str) -> np.ndarray:
    pair = make_pair(hr_path, scale, resolve(profile), CPU)
    lr = pair.lr[0].numpy()
    return lr[0] if lr.shape[0] == 1 else lr.transpose(1, 2, 0)


def _assert_same(hr_path: Path, lr_path: Path, scale: int, profile: str) -> None:
    ours, theirs = _lr(hr_path, scale, profile), read_image(lr_path)
    assert ours.shape == theirs.shape, lr_path
    diff = np.abs(ours.astype(np.int64) - theirs.astype(np.int64))
    assert diff.max() == 0, f"{lr_path}: {int((diff > 0).sum())} pixels differ by up to {diff.max()}"


@requires_oracles
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_matlab_equals_edsr_benchmark_lr(scale: int) -> None:
    for name in SET5:
        lr = ORACLES / f"lr/edsr-benchmark/Set5/X{scale}/{name}x{scale}.png"
        _assert_same(BENCH / f"Set5/HR/{name}.png", lr, scale, "matlab")


@requires_oracles
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_matlab_legacy_equals_rcan_lrbi(scale: int) -> None:
    for name in SET5:
        lr = ORACLES / f"lr/rcan-lrbi/Set5/x{scale}/{name}_LRBI_x{scale}.png"
        _assert_same(BENCH / f"Set5/HR/{name}.png", lr, scale, "matlab-legacy")


@requires_oracles
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_matlab_legacy_and_selfexsr_equal_selfexsr_lr(scale: int) -> None:
    folder = ORACLES / f"selfexsr/Set5/x{scale}"
    for k in range(1, 6):
        hr, lr = (folder / f"img_00{k}_SRF_{scale}_{kind}.png" for kind in ("HR", "LR"))
        _assert_same(hr, lr, scale, "matlab-legacy")
        _assert_same(hr, lr, scale, "selfexsr")


@requires_oracles
def test_matlab_double_equals_edsr_x8_and_esrgan_lrbicx4() -> None:
    for name in SET5:
        _assert_same(
            BENCH / f"Set5/HR/{name}.png",
            ORACLES / f"lr/edsr-benchmark/Set5/X8/{name}x8.png",
            8,
            "matlab-double",
        )
    for name in ("baboon", "comic"):
        lr = ORACLES / f"lr/esrgan-lrbicx4/Set14/{name}.png"
        _assert_same(BENCH / f"Set14/HR/{name}.png", lr, 4, "matlab-double")
        _assert_same(BENCH / f"Set14/HR/{name}.png", lr, 4, "basicsr")


@requires_oracles
def test_the_default_differs_from_the_legacy_lr() -> None:
    """The oracles tell the conventions apart: the test above cannot pass with the wrong border."""
    ours = _lr(BENCH / "Set5/HR/bird.png", 4, "matlab")
    theirs = read_image(ORACLES / "lr/rcan-lrbi/Set5/x4/bird_LRBI_x4.png")
    assert not np.array_equal(ours, theirs)


def test_without_modcrop_a_size_off_the_scale_is_a_one_line_error(tmp_path: Path) -> None:
    from srbench_eval.data.io.images import write_image
    from srbench_eval.errors import SrbenchError

    write_image(tmp_path / "odd.png", np.zeros((30, 41, 3), np.uint8))
    with pytest.raises(SrbenchError, match=r"odd.png: 41x30 is not a multiple of the scale 4 .*modcrop=true"):
        make_pair(tmp_path / "odd.png", 4, resolve("matlab", ["modcrop=false"]), CPU)
    assert make_pair(tmp_path / "odd.png", 4, resolve("matlab"), CPU).hr.shape == (1, 3, 28, 40)


@pytest.mark.parametrize("profile", ["basicsr", "matlab-double", "lapsrn"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_once_rounded_profiles_compiled_equal_tensor_path(profile: str, scale: int) -> None:
    """``double-round`` LR and the rounded bicubic SR are rounded in the kernels' last pass on the CPU
    (half to even for ``basicsr``, half away for ``matlab-double``): the same values as the float64
    tensor path rounded afterwards, ties included (x2 makes many), in both border rules."""
    from srbench_eval.data.degrade.bicubic import bicubic_sr, degrade, imresize
    from srbench_eval.protocol import resolve

    gen = torch.Generator().manual_seed(scale)
    hr = torch.randint(0, 256, (1, 3, 12 * scale, 10 * scale), generator=gen).float()
    hr[..., : 4 * scale, :] = 128.0  # flat areas: the weights' binary fractions make exact halves
    for border in ("symmetric", "clamp"):
        protocol = dataclasses.replace(resolve(profile), border=border)
        lr = degrade(hr, scale, protocol)
        lr_tensor = degrade(hr.clone().requires_grad_(), scale, protocol).detach()
        assert lr.dtype == (torch.float32 if protocol.lr_rounded else torch.float64)
        if protocol.lr_rounded:
            assert torch.equal(lr, lr_tensor)
        else:  # unrounded: the sparse products sum in another order (ulps)
            torch.testing.assert_close(lr, lr_tensor, rtol=0, atol=1e-9)
        sr = bicubic_sr(lr, scale, protocol)
        sr_tensor = bicubic_sr(lr.clone().requires_grad_(), scale, protocol).detach()
        assert torch.equal(sr.double(), sr_tensor.double())
        expected = imresize(lr.double(), float(scale), border=border)
        expected = expected.round() if protocol.rounding == "half-even" else (expected + 0.5).floor()
        assert torch.equal(sr.double(), expected.clamp(0, 255))
