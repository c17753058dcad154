"""MATLAB ``imresize`` at non-integer factors (x1/1.5 .. x3.5) on odd sizes: the library's taps and
resize against a loop-by-loop transcription of ``imresize.m``'s ``contributions`` written here, and
against BasicSR's Python port (``calculate_weights_indices``, ``tests/basicsr_reference.py``); the
output size rule; the arbitrary-scale size rules of Meta-SR and LIIF (``scale_rule``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srbench_eval.data.degrade import scale_rule, taps
from srbench_eval.data.degrade.bicubic import imresize, imresize_uint8
from srbench_eval.errors import SrbenchError
from tests import basicsr_reference

FACTORS = (1 / 1.5, 1 / 2.5, 1 / 3.5, 1.5, 2.5, 3.5)
SIZES = (7, 9, 13, 17, 31, 45, 101)


def _keys(x: float) -> float:
    """``cubic`` of ``imresize.m`` for one sample."""
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax**3 - 2.5 * ax**2 + 1
    if ax <= 2:
        return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return 0.0


def contributions(in_length: int, out_length: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``imresize.m``'s ``contributions(in, out, scale, @cubic, 4, true)`` one output sample at a time:
    ``u = x/scale + 0.5*(1 - 1/scale)``, ``left = floor(u - kernel_width/2)``, ``P = ceil(kernel_width)
    + 2`` taps, ``h = @(x) scale*cubic(scale*x)`` and ``kernel_width / scale`` when ``scale < 1``,
    weights divided by their sum, indices mirrored by ``aux = [1:in, in:-1:1]``, columns that are zero
    for every output sample removed. Returns weights and 0-based indices."""
    antialias = scale < 1
    width = 4.0 / scale if antialias else 4.0
    p = math.ceil(width) + 2
    aux = list(range(1, in_length + 1)) + list(range(in_length, 0, -1))
    weights = np.zeros((out_length, p))
    indices = np.zeros((out_length, p), dtype=np.int64)
    for x in range(1, out_length + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        row = []
        for t in range(p):
            j = left + t
            row.append(scale * _keys(scale * (u - j)) if antialias else _keys(u - j))
            indices[x - 1, t] = aux[(j - 1) % len(aux)] - 1
        weights[x - 1] = np.array(row) / sum(row)
    kill = ~np.any(weights != 0, axis=0)
    return weights[:, ~kill], indices[:, ~kill]


def dense(weights: np.ndarray, indices: np.ndarray, in_length: int) -> np.ndarray:
    """The ``(out, in)`` matrix of a 1-D resize (taps mirrored onto one sample summed)."""
    m = np.zeros((weights.shape[0], in_length))
    np.add.at(m, (np.repeat(np.arange(weights.shape[0]), weights.shape[1]), indices.ravel()), weights.ravel())
    return m


def basicsr_dense(in_length: int, scale: float) -> np.ndarray:
    """BasicSR's taps (a contiguous window of the symmetrically padded input) as a dense matrix."""
    out = math.ceil(in_length * scale)
    weights, first, before, _ = basicsr_reference.weights_indices(in_length, out, scale)
    window = first[:, None] + np.arange(weights.shape[1])[None, :] - before  # 0-based, maybe outside
    period = 2 * in_length
    folded = window % period
    return dense(weights, np.where(folded < in_length, folded, period - 1 - folded), in_length)


@pytest.mark.parametrize("scale", FACTORS, ids=lambda s: f"x{s:.4f}")
@pytest.mark.parametrize("n", SIZES)
def test_taps_are_imresize_contributions(scale: float, n: int) -> None:
    out = taps.output_length(n, scale)
    ours_w, ours_i = taps.resize_taps(n, out, scale)
    ref_w, ref_i = contributions(n, out, scale)
    assert ours_w.shape == ref_w.shape
    np.testing.assert_array_equal(ours_i, ref_i)
    # Last-bit differences only: taps.py evaluates the kernel in Horner form and sums the normaliser in
    # torch's order; imresize.m writes 1.5*absx.^3 - 2.5*absx.^2 + 1. At non-integer factors the
    # distances u - j are inexact (thirds, fifths, sevenths), so the two forms round differently.
    np.testing.assert_allclose(ours_w, ref_w, rtol=0, atol=1e-14)  # a few ulps of u (up to ~100)


@pytest.mark.parametrize("scale", FACTORS, ids=lambda s: f"x{s:.4f}")
def test_basicsr_port_agrees_with_the_transcription(scale: float) -> None:
    for n in SIZES:
        ref = dense(*contributions(n, math.ceil(n * scale), scale), n)
        np.testing.assert_allclose(basicsr_dense(n, scale), ref, rtol=0, atol=1e-15)


@pytest.mark.parametrize("scale", FACTORS, ids=lambda s: f"x{s:.4f}")
def test_imresize_is_the_separable_product_of_contributions(scale: float) -> None:
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (2, 1, 17, 23)).astype(np.float64)
    out = imresize(img, scale)
    rows = dense(*contributions(17, math.ceil(17 * scale), scale), 17)
    cols = dense(*contributions(23, math.ceil(23 * scale), scale), 23)
    ref = np.einsum("ij,ncjk,lk->ncil", rows, img, cols)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-9)


@pytest.mark.parametrize("scale", (1 / 1.5, 1 / 2.5, 1 / 3.5))
def test_uint8_passes_round_after_each_pass(scale: float) -> None:
    """MATLAB on a uint8 image: rows, rounded half away from zero and saturated, then columns (the
    LR degradation at non-integer factors)."""
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (1, 3, 19, 15)).astype(np.float32)
    rows = dense(*contributions(19, math.ceil(19 * scale), scale), 19)
    cols = dense(*contributions(15, math.ceil(15 * scale), scale), 15)
    tall = np.clip(np.floor(np.einsum("ij,ncjk->ncik", rows, img.astype(np.float64)) + 0.5), 0, 255)
    ref = np.clip(np.floor(np.einsum("ncik,lk->ncil", tall, cols) + 0.5), 0, 255)
    np.testing.assert_array_equal(imresize_uint8(img, scale), ref)


@pytest.mark.parametrize("scale", (1.5, 2.5, 3.5))
def test_upscaled_uint8_differs_from_the_transcription_only_on_exact_ties(scale: float) -> None:
    """Upscaling by 2.5 puts weights k(0.2) = 0.912, ... on integer pixels, so exact halves occur and
    their rounding follows the last bit of the weights: the library and the power-form transcription
    may round such a tie apart (MATLAB's own mex is a third party there), never anything else."""
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (1, 3, 41, 37)).astype(np.float64)
    rows = dense(*contributions(41, math.ceil(41 * scale), scale), 41)
    cols = dense(*contributions(37, math.ceil(37 * scale), scale), 37)
    ref = np.einsum("ij,ncjk,lk->ncil", rows, img, cols)
    ours = np.floor(imresize(img, scale) + 0.5)
    apart = ours != np.floor(ref + 0.5)
    assert np.all(np.abs(ref[apart] - np.floor(ref[apart]) - 0.5) < 1e-9)


@pytest.mark.parametrize(
    ("n", "scale", "expected"),
    [
        (17, 1 / 1.5, 12),  # 11.33 -> 12
        (9, 1 / 2.5, 4),  # 3.6 -> 4
        (7, 1 / 3.5, 2),
        (7, 1.5, 11),  # 10.5 -> 11
        (9, 2.5, 23),
        (5, 3.5, 18),
        (15, 1 / 1.5, 10),  # whole: 15 * (1 / 1.5) rounds to exactly 10.0 in float64
        (508, 1 / 1.5, 339),
    ],
)
def test_output_size_is_ceil_of_scale_times_size(n: int, scale: float, expected: int) -> None:
    assert taps.output_length(n, scale) == expected
    assert imresize(np.zeros((1, 1, n, 3)), scale).shape[-2] == expected


def test_matlab_mod_and_colon() -> None:
    assert scale_rule.matlab_mod(512, 2.5) == 2.0
    assert scale_rule.matlab_mod(512, 1.5) == 0.5
    assert scale_rule.matlab_mod(510, 1.5) == 0.0
    scales = scale_rule.matlab_colon(1.1, 0.1, 4)
    assert len(scales) == 30 and scales[0] == 1.1 and scales[-1] == 4.0
    assert [f"{s:.2f}" for s in scales[:5]] == ["1.10", "1.20", "1.30", "1.40", "1.50"]
    assert scales[4] == 1.5 and scales[14] == 2.5  # the binary-exact scales come out exact


@pytest.mark.parametrize(
    ("size", "scale", "resized", "lr", "scored"),
    [
        (512, 2.0, 512, 256, 512),  # divides: no trim
        (512, 1.5, 508, 339, 508),  # mod 0.5: trimmed by 4, 508 / 1.5 = 338.7 -> 339, int(508.5)
        (512, 2.5, 508, 204, 510),  # the scored HR (510) is not the resized HR (508)
        (512, 3.5, 508, 146, 511),
        (255, 1.5, 255, 170, 255),
    ],
)
def test_metasr_size_rule(size: int, scale: float, resized: int, lr: int, scored: int) -> None:
    sizes = scale_rule.metasr_sizes(size, 9, scale)
    assert (sizes.resized_hr[0], sizes.lr[0], sizes.scored_hr[0]) == (resized, lr, scored)


def test_liif_size_rule() -> None:
    assert scale_rule.liif_sizes(512, 255, 2.5) == scale_rule.ScaleSizes((510, 255), (204, 102), (510, 255))
    assert scale_rule.liif_sizes(9, 9, 1.5).lr == (6, 6)  # 9 / 1.5 = 6 exactly: no off-by-one


def test_scales_below_one_are_one_line_errors() -> None:
    for bad in (0.5, 0.0, float("nan")):
        with pytest.raises(SrbenchError, match="below 1") as e:
            scale_rule.lr_length(10, bad)
        assert "\n" not in str(e.value)
    with pytest.raises(SrbenchError, match="step 0 must be positive"):
        scale_rule.matlab_colon(1.1, 0, 4)
