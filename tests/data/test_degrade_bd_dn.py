"""BD and DN degradations (RDN/RCAN/SRFBN's x3 test sets): hand-checkable MATLAB facts, and the
authors' own LR files (``../shared/oracles/lr``) pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest

from srbench_eval.data.degrade.blur import (
    bd_kernel_size,
    degrade_bd,
    gaussian_kernel,
    imfilter_replicate,
    nearest_indices,
    round_saturate_uint8,
)
from srbench_eval.data.degrade.noise import (
    V4_STARTUP_STATE,
    add_noise_dn,
    degrade_dn,
    park_miller,
    randn_v4,
    randn_v4_stream,
)
from srbench_eval.data.io.images import read_image
from srbench_eval.errors import SrbenchError
from tests.conftest import SHARED, SHARED_BENCHMARKS

ORACLES = SHARED / "oracles"
SET5 = ("baby", "bird", "butterfly", "head", "woman")
requires_oracles = pytest.mark.skipif(
    not (ORACLES / "lr").is_dir() or not SHARED_BENCHMARKS.is_dir(),
    reason=f"{ORACLES / 'lr'} or {SHARED_BENCHMARKS} is absent (the authors' LR files, the HR mirror)",
)


# --- BD: hand-checkable facts ---------------------------------------------------------------------


def test_kernel_size_rule() -> None:
    # 2 ceil(3 sigma) + 1 for odd scales (7 forced at x3, sigma 1.6), 2 ceil(3 sigma) + 2 for even.
    assert [bd_kernel_size(s) for s in (1, 2, 3, 4, 5)] == [11, 12, 7, 12, 11]
    assert bd_kernel_size(3, 1.0) == 7 and bd_kernel_size(3, 2.0) == 13 and bd_kernel_size(2, 1.0) == 8


def test_fspecial_gaussian_values() -> None:
    # MATLAB: fspecial('gaussian', 3, 1) = [0.0751 0.1238 0.0751; 0.1238 0.2042 0.1238; ...]
    k = gaussian_kernel(3, 1.0)
    corner, edge, centre = np.exp(-1.0), np.exp(-0.5), 1.0
    total = centre + 4 * edge + 4 * corner
    expected = np.array([[corner, edge, corner], [edge, centre, edge], [corner, edge, corner]]) / total
    assert np.allclose(k, expected, rtol=0, atol=1e-16)
    assert np.round(k, 4).tolist() == [
        [0.0751, 0.1238, 0.0751],
        [0.1238, 0.2042, 0.1238],
        [0.0751, 0.1238, 0.0751],
    ]
    even = gaussian_kernel(12, 1.6)  # grid -5.5..5.5: four equal centre taps, symmetric, sums to 1
    assert even.sum() == pytest.approx(1.0, abs=1e-15)
    assert even[5, 5] == even[6, 6] == even[5, 6] == even.max()
    assert np.array_equal(even, even[::-1, ::-1]) and np.array_equal(even, even.T)


def test_matlab_uint8_rounding() -> None:
    values = np.array([-0.5, 0.49, 0.5, 1.5, 2.5, 254.5, 300.0])
    assert round_saturate_uint8(values).tolist() == [0, 0, 1, 2, 3, 255, 255]


def test_imfilter_is_correlation_with_matlab_centre_and_replicated_borders() -> None:
    img = np.array([[10, 20, 30, 40]], dtype=np.uint8)
    # 1x2 kernel [0 1]: centre floor((2+1)/2) = 1 (1-based), so out(j) = img(j + 1), edge replicated.
    assert imfilter_replicate(img, np.array([[0.0, 1.0]])).tolist() == [[20, 30, 40, 40]]
    # 1x3 kernel [1 0 0]: correlation reads the left neighbour (a convolution would read the right).
    assert imfilter_replicate(img, np.array([[1.0, 0.0, 0.0]])).tolist() == [[10, 10, 20, 30]]
    # halves round away from zero: (10 + 20) / 2 = 15 exactly, (0 + 1) / 2 = 0.5 -> 1
    half = np.array([[0.5, 0.5]])
    assert imfilter_replicate(np.array([[0, 1, 1]], dtype=np.uint8), half).tolist() == [[1, 1, 1]]
    flat = np.full((9, 9, 3), 77, dtype=np.uint8)
    assert np.array_equal(imfilter_replicate(flat, gaussian_kernel(7, 1.6)), flat)


def test_nearest_index_rule() -> None:
    # MATLAB imresize(., 1/3, 'nearest') keeps 2, 5, 8, ... (1-based); at 1/5: 3, 8, ...; at 1: all.
    assert (nearest_indices(12, 1 / 3) + 1).tolist() == [2, 5, 8, 11]
    assert (nearest_indices(15, 1 / 5) + 1).tolist() == [3, 8, 13]
    assert nearest_indices(7, 1.0).tolist() == list(range(7))


def _synthetic(h: int, w: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("scale", [2, 3, 4, 5])
def test_bd_steps(scale: int) -> None:
    hr = _synthetic(5 * scale + 1, 4 * scale + scale - 1)  # not a multiple of the scale: modcrop first
    lr = degrade_bd(hr, scale)
    assert lr.shape == (5, 4, 3) and lr.dtype == np.uint8
    k = bd_kernel_size(scale)
    blurred = imfilter_replicate(hr[: 5 * scale, : 4 * scale], gaussian_kernel(k, 1.6))
    first = scale - 1 - scale // 2 if scale % 2 else scale // 2 - 1  # x3: 1 (row 2), x5: 2, x2: 0, x4: 1
    assert np.array_equal(lr, blurred[first::scale, first::scale])


def test_bd_grey_is_replicated_to_rgb() -> None:
    grey = _synthetic(12, 9)[:, :, 0]
    lr = degrade_bd(grey, 3)
    assert lr.shape == (4, 3, 3)
    assert np.array_equal(lr[:, :, 0], lr[:, :, 1]) and np.array_equal(lr[:, :, 0], lr[:, :, 2])
    assert np.array_equal(lr, degrade_bd(np.repeat(grey[:, :, None], 3, axis=2), 3))


@pytest.mark.parametrize("bad", [2.5, 0, -3, "3", True])
def test_bd_rejects_bad_scales(bad: object) -> None:
    with pytest.raises(SrbenchError, match="BD scale"):
        degrade_bd(_synthetic(12, 12), bad)


def test_bd_rejects_non_uint8() -> None:
    with pytest.raises(SrbenchError, match="uint8"):
        degrade_bd(_synthetic(12, 12).astype(np.float64), 3)


# --- BD: RDN's own LR files -----------------------------------------------------------------------


@requires_oracles
@pytest.mark.parametrize("name", SET5)
def test_bd_equals_rdn_files(name: str) -> None:
    hr = read_image(SHARED_BENCHMARKS / "Set5" / "HR" / f"{name}.png")
    expected = read_image(ORACLES / "lr" / "rdn-bd" / "Set5" / "x3" / f"{name}_LRBD_x3.png")
    assert np.array_equal(degrade_bd(hr, 3), expected)


# --- DN: MATLAB 4's randn('seed', 0) --------------------------------------------------------------


def test_park_miller_check_value() -> None:
    # Park & Miller (CACM 1988): from x_0 = 1, x_10000 = 1043618065.
    states = park_miller(1, 10000)
    assert states[:3].tolist() == [16807, 282475249, 1622650073] and states[-1] == 1043618065
    assert V4_STARTUP_STATE == states[4] == 1144108930


def test_randn_v4_equals_matlab4_help() -> None:
    # MATLAB 4's randn help: "randn('seed',0) ... R = randn(3,4) produces" these values (4 decimals).
    printed = [
        [1.1650, 0.3516, 0.0591, 0.8717],
        [0.6268, -0.6965, 1.7971, -1.4462],
        [0.0751, 1.6961, 0.2641, -0.7012],
    ]
    assert np.round(randn_v4((3, 4)), 4).tolist() == printed


def test_randn_v4_layout_and_continuation() -> None:
    stream = randn_v4_stream(200_000)  # several vectorised blocks: the stream must not restart
    assert np.array_equal(stream[:12], randn_v4_stream(12))
    assert np.array_equal(randn_v4((4, 5, 3)), stream[:60].reshape((4, 5, 3), order="F"))
    assert abs(stream.mean()) < 0.01 and abs(stream.std() - 1) < 0.01
    assert not np.array_equal(randn_v4_stream(12, seed=7), stream[:12])


def test_dn_noise_rounds_and_saturates() -> None:
    noise = 30 * randn_v4((4, 4))
    for level in (0, 128, 255):
        lr = np.full((4, 4), level, dtype=np.uint8)
        expected = np.clip(np.floor(np.float32(level) + noise.astype(np.float32) + 0.5), 0, 255)
        assert np.array_equal(add_noise_dn(lr), expected.astype(np.uint8))


@pytest.mark.parametrize("seed", [-1, 2**31 - 1, 1.5])
def test_dn_rejects_bad_seeds(seed: object) -> None:
    with pytest.raises(SrbenchError, match="seed"):
        add_noise_dn(np.zeros((3, 3), dtype=np.uint8), seed=seed)


def test_dn_rejects_bad_border() -> None:
    with pytest.raises(SrbenchError, match="border 'mirror'"):
        degrade_dn(_synthetic(9, 9), 3, border="mirror")


# --- DN: SRFBN's and RDN's own LR files -----------------------------------------------------------


@requires_oracles
@pytest.mark.parametrize("name", SET5)
def test_dn_noise_field_equals_srfbn_files(name: str) -> None:
    """``LRDN = uint8(LRBI + 30 randn)`` on SRFBN's own LRBI file, every pixel."""
    folder = ORACLES / "lr" / "srfbn-bi-dn" / "Set5" / "x3"
    lrbi = read_image(folder / "LRBI" / f"{name}_LRBI_x3.png")
    assert np.array_equal(add_noise_dn(lrbi), read_image(folder / "LRDN" / f"{name}_LRDN_x3.png"))


@requires_oracles
@pytest.mark.parametrize("name", SET5)
def test_dn_from_hr_equals_srfbn_and_rdn_files(name: str) -> None:
    """From the HR image: SRFBN's LRDN with symmetric-border bicubic, RDN's with clamped borders."""
    hr = read_image(SHARED_BENCHMARKS / "Set5" / "HR" / f"{name}.png")
    srfbn = read_image(ORACLES / "lr" / "srfbn-bi-dn" / "Set5" / "x3" / "LRDN" / f"{name}_LRDN_x3.png")
    rdn = read_image(ORACLES / "lr" / "rdn-dn" / "Set5" / "x3" / f"{name}_LRDN_x3.png")
    assert np.array_equal(degrade_dn(hr, 3), srfbn)
    assert np.array_equal(degrade_dn(hr, 3, border="clamp"), rdn)
