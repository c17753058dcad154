"""The NumPy taps of MATLAB's bicubic resize (:mod:`srbench_eval.data.degrade.taps`) against a copy of the
torch implementation they replaced, bit for bit (float64 weights compared as their 64-bit patterns,
so ``-0.0`` and ``+0.0`` differ), and the module's import without torch."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval.data.datasets.registry import registry
from srbench_eval.data.degrade import bicubic as degrade
from srbench_eval.data.degrade import taps

# torch's sum kernel adds 4 float64 lanes on every x86 CPU (its AVX512 dispatch runs the AVX2
# kernel); an ARM build (2 NEON lanes) adds in another order, so there torch's own taps differ.
x86_only = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"),
    reason=f"the taps follow torch's x86 summation order; torch on {platform.machine()} may add in another",
)

GRID_SCALES = (1 / 2, 1 / 3, 1 / 4, 1 / 8, 2.0, 3.0, 4.0, 8.0, 0.75, 1.5, 1 / 1.5)
GRID_LENGTHS = range(16, 1001, 5)


# --- the torch implementation of srbench_eval.data.degrade.bicubic before the taps moved to NumPy ---------


def torch_cubic_kernel(x: torch.Tensor) -> torch.Tensor:
    ax = x.abs()
    near = (1.5 * ax - 2.5) * ax * ax + 1.0
    far = ((-0.5 * ax + 2.5) * ax - 4.0) * ax + 2.0
    return torch.where(ax <= 1.0, near, torch.where(ax <= 2.0, far, torch.zeros_like(ax)))


def torch_resize_taps(
    in_length: int, out_length: int, scale: float, border: str = "symmetric"
) -> tuple[torch.Tensor, torch.Tensor]:
    if scale < 1:
        width = 4.0 / scale

        def kernel(d: torch.Tensor) -> torch.Tensor:
            return scale * torch_cubic_kernel(scale * d)
    else:
        width = 4.0
        kernel = torch_cubic_kernel
    pos = torch.arange(1, out_length + 1, dtype=torch.float64) / scale + 0.5 * (1.0 - 1.0 / scale)
    first = torch.floor(pos - width / 2)
    taps_ = first[:, None] + torch.arange(math.ceil(width) + 2, dtype=torch.float64)[None, :]
    weights = kernel(pos[:, None] - taps_)
    weights = weights / weights.sum(dim=1, keepdim=True)
    used = (weights != 0).any(dim=0)
    weights, taps_ = weights[:, used], taps_[:, used].long() - 1
    if border == "symmetric":
        period = 2 * in_length
        index = (period - 1 - abs(2 * (taps_ % period) - (period - 1))) // 2
    else:
        index = taps_.clamp(0, in_length - 1)
    return weights.contiguous(), index.contiguous()


# --------------------------------------------------------------------------------------------------


def assert_same_taps(in_length: int, out_length: int, scale: float, border: str) -> None:
    weights, index = taps.resize_taps.__wrapped__(in_length, out_length, scale, border)  # uncached
    ref_weights, ref_index = (t.numpy() for t in torch_resize_taps(in_length, out_length, scale, border))
    case = (in_length, out_length, scale, border)
    assert weights.dtype == np.float64 and index.dtype == np.int64, case
    assert weights.shape == ref_weights.shape and index.shape == ref_index.shape, case
    assert np.array_equal(weights.view(np.int64), ref_weights.view(np.int64)), case
    assert np.array_equal(index, ref_index), case


@x86_only
@pytest.mark.parametrize("border", ["symmetric", "clamp"])
def test_taps_are_bit_identical_to_torch_over_lengths_and_scales(border: str) -> None:
    for in_length in GRID_LENGTHS:
        for scale in GRID_SCALES:
            assert_same_taps(in_length, taps.output_length(in_length, scale), scale, border)


def benchmark_resizes() -> set[tuple[int, int, float]]:
    """Every 1-D resize of the protocol on the benchmark images: each side of every HR image
    mod-cropped for ``s = 2, 3, 4`` and downscaled by ``1 / s``, and its LR side upscaled by ``s``,
    as :func:`srbench_eval.data.degrade.bicubic.degrade` and ``bicubic_sr`` call them (shapes from the
    manifests of ``datasets.yaml``)."""
    resizes = set()
    for name in ("set5", "set14", "bsd100", "urban100"):
        manifest = registry()[name].manifest
        assert manifest, name
        for image in manifest.values():
            for side in image.shape[:2]:
                for s in (2, 3, 4):
                    hr = side - side % s
                    lr = taps.output_length(hr, 1.0 / s)
                    resizes |= {(hr, lr, 1.0 / s), (lr, taps.output_length(lr, float(s)), float(s))}
    return resizes


@x86_only
def test_taps_are_bit_identical_to_torch_on_the_benchmark_resizes() -> None:
    resizes = benchmark_resizes()
    assert len(resizes) > 100
    for in_length, out_length, scale in sorted(resizes):
        for border in taps.BORDERS:
            assert_same_taps(in_length, out_length, scale, border)


@x86_only
def test_row_sums_add_in_torchs_order() -> None:
    """Rows of widely spread values, so that another order of the additions rounds differently:
    every width up to 80 (all the tap counts of scales down to 1/19) and some that reach the cascade
    levels of torch's sum (16 and 256 groups of 4 vectors of 4)."""
    rng = np.random.default_rng(16)
    for width in [*range(1, 81), 255, 256, 257, 1000, 4096, 4099]:
        values = rng.normal(size=(6, width)) * np.exp2(rng.integers(-30, 30, size=(6, width)))
        expected = torch.from_numpy(values).sum(dim=1).numpy()
        assert np.array_equal(taps._row_sums(values), expected), width
        # NumPy's pairwise sum is another order: the reason for _row_sums.
    values = rng.normal(size=(50, 12)) * np.exp2(rng.integers(-30, 30, size=(50, 12)))
    assert not np.array_equal(values.sum(axis=1), torch.from_numpy(values).sum(dim=1).numpy())


def test_taps_are_read_only_cached_and_the_tensors_are_copies() -> None:
    weights, index = taps.resize_taps(41, 21, 0.5)
    again = taps.resize_taps(41, 21, 0.5)
    assert again[0] is weights and again[1] is index
    assert not weights.flags.writeable and not index.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        weights[0, 0] = 0.0
    try:
        tensor_weights, tensor_index = degrade.resize_taps(41, 21, 0.5)
        assert np.array_equal(tensor_weights.numpy(), weights) and np.array_equal(tensor_index.numpy(), index)
        tensor_weights.zero_()
        tensor_index.zero_()
        assert weights.any() and index.any()  # the NumPy taps are untouched
    finally:
        degrade.resize_taps.cache_clear()


def test_unknown_border_is_refused() -> None:
    with pytest.raises(ValueError, match="border must be one of"):
        taps.resize_taps(10, 5, 0.5, "wrap")


def test_degrade_reexports_the_taps_names() -> None:
    for name in ("BORDERS", "KERNEL_WIDTH", "cubic_kernel", "mirror_index", "output_length"):
        assert getattr(degrade, name) is getattr(taps, name), name


def test_taps_import_without_torch() -> None:
    code = (
        "import sys; from srbench_eval.data.degrade import taps; taps.resize_taps(30, 90, 3.0); "
        "print('torch' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip() == "False", out.stderr
