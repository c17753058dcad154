"""Paired datasets (LR given) and the degradation axis: LR matching, one-line errors for bad pairs,
``--degradation`` in the plan and in ``table``, and RealSR's patch grid against ``patchLocation.m``."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets.entry import Entry
from srbench_eval.data.datasets.lr import (
    ANY_SCALE,
    LRSide,
    entry_lr_side,
    image_key,
    install_lr,
    lr_folder_side,
    match_lr,
)
from srbench_eval.data.degrade.blur import degrade_bd
from srbench_eval.data.io.images import write_image
from srbench_eval.data.pairs import GivenLR, given_lr, make_pair
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation.plan import RunConfig, resolved_protocol
from srbench_eval.metrics.fidelity import psnr, ssim
from srbench_eval.metrics.patch_average import patch_grid, patch_mean, patch_scores, patch_starts
from srbench_eval.protocol import resolve

RNG = np.random.default_rng(22)


def _img(h: int, w: int, c: int | None = 3) -> np.ndarray:
    shape = (h, w) if c is None else (h, w, c)
    return RNG.integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize(
    ("stem", "key"),
    [
        ("baby", "baby"),
        ("0801x2", "0801"),
        ("baby_LRBD_x3", "baby"),
        ("baby_LRBI_x3", "baby"),
        ("Canon_001_LR2", "Canon_001"),
        ("Canon_001_HR", "Canon_001"),
        ("DSC_1454_x1", "DSC_1454"),
        ("x2", "x2"),  # never reduced to nothing
        ("head", "head"),
    ],
)
def test_image_key_strips_scale_and_hr_lr_markers(stem: str, key: str) -> None:
    assert image_key(stem) == key


def test_match_lr_pairs_by_key_and_names_the_hr_without_lr(tmp_path: Path) -> None:
    hr, lr = tmp_path / "HR", tmp_path / "LR"
    hr.mkdir(), lr.mkdir()
    for name in ("a", "b"):
        write_image(hr / f"{name}.png", _img(6, 6))
    write_image(lr / "a_LRBD_x3.png", _img(2, 2))
    with pytest.raises(SrbenchError, match=r"HR/b\.png: no LR image for it in .*LR"):
        match_lr(sorted(hr.iterdir()), lr)
    write_image(lr / "bx3.png", _img(2, 2))
    pairs = match_lr(sorted(hr.iterdir()), lr)
    assert {h.name: p.name for h, p in pairs.items()} == {"a.png": "a_LRBD_x3.png", "b.png": "bx3.png"}
    write_image(lr / "b_LR.png", _img(2, 2))
    with pytest.raises(SrbenchError, match="two LR images of b"):
        match_lr(sorted(hr.iterdir()), lr)


def test_lr_folder_scales_and_a_scale_not_provided(tmp_path: Path) -> None:
    (tmp_path / "x3").mkdir()
    (tmp_path / "X4").mkdir()
    side = lr_folder_side(tmp_path)
    assert side.scales() == [3, 4]
    assert side.folder(4, "mine") == tmp_path / "X4"
    with pytest.raises(
        SrbenchError, match=r"dataset mine provides no LR images at x2 \(its LR scales: x3, x4\)"
    ):
        side.folder(2, "mine")
    flat = tmp_path / "x3"
    assert lr_folder_side(flat).folders == {ANY_SCALE: flat}
    assert LRSide({ANY_SCALE: flat}).folder(7, "mine") == flat
    with pytest.raises(SrbenchError, match="no such LR folder"):
        lr_folder_side(tmp_path / "absent")


def test_given_lr_checks_size_and_channels_naming_the_file(tmp_path: Path) -> None:
    protocol = resolve("matlab", ["lr_source=given"])
    hr = _img(12, 9)
    ok, small, grey = tmp_path / "ok.png", tmp_path / "small.png", tmp_path / "grey.png"
    write_image(ok, _img(4, 3))
    write_image(small, _img(3, 3))
    write_image(grey, _img(4, 3, None))
    assert given_lr(GivenLR(ok), hr, tmp_path / "hr.png", 3, protocol, hr_rgb=True).shape == (4, 3, 3)
    with pytest.raises(SrbenchError, match=r"small\.png: LR image is 3x3, expected 3x4 \(the HR's size / 3"):
        given_lr(GivenLR(small), hr, tmp_path / "hr.png", 3, protocol, hr_rgb=True)
    with pytest.raises(SrbenchError, match=r"grey\.png: grey LR image for the RGB HR image .*channel counts"):
        given_lr(GivenLR(grey), hr, tmp_path / "hr.png", 3, protocol, hr_rgb=True)
    same = tmp_path / "same.png"
    write_image(same, _img(12, 9))
    assert given_lr(GivenLR(same, True), hr, tmp_path / "hr.png", 3, protocol, hr_rgb=True).shape == (
        12,
        9,
        3,
    )
    with pytest.raises(SrbenchError, match="expected 9x12 \\(the HR's size;"):
        given_lr(GivenLR(ok, True), hr, tmp_path / "hr.png", 3, protocol, hr_rgb=True)


def test_make_pair_takes_the_lr_of_the_protocols_source(tmp_path: Path) -> None:
    hr = _img(30, 24)
    write_image(tmp_path / "hr.png", hr)
    bd = make_pair(tmp_path / "hr.png", 3, resolve("matlab", ["lr_source=bd"]), "cpu", host_arrays=True)
    assert np.array_equal(bd.lr[0].transpose(1, 2, 0), degrade_bd(hr, 3))
    write_image(tmp_path / "lr.png", degrade_bd(hr, 3))
    given = resolve("matlab", ["lr_source=given"])
    pair = make_pair(
        tmp_path / "hr.png", 3, given, "cpu", host_arrays=True, given=GivenLR(tmp_path / "lr.png")
    )
    assert np.array_equal(pair.lr, bd.lr)
    with pytest.raises(SrbenchError, match="--degradation given needs a dataset with LR images"):
        make_pair(tmp_path / "hr.png", 3, given, "cpu", host_arrays=True)


def test_degradation_is_a_recorded_protocol_override() -> None:
    p = resolved_protocol(RunConfig(models=("bicubic",), scale=3, protocol="rdn-bddn", degradation="bd"))
    assert (p.lr_source, p.label, p.y, p.grey) == ("bd", "rdn-bddn[lr_source=bd]", "rounded", "y")
    assert "degradation BD" in p.describe(3) and p.to_json()["lr_source"] == "bd"
    plain = resolved_protocol(RunConfig(models=("bicubic",), degradation="bi"))
    assert plain.label == "matlab" and "degradation" not in plain.describe(4)
    with pytest.raises(SrbenchError, match="lr_source"):
        resolve("matlab", ["lr_source=blur"])


# --- RealSR's patch grid: a transcription of patchLocation.m / im2patch.m ---------------------------


def _patch_location(imagesize: tuple[int, int], size_patch: tuple[int, int], size_skip: tuple[int, int]):
    """``patchLocation.m`` line by line (1-based linear indices into a column-major image)."""
    y = np.arange(1, imagesize[0] - size_patch[0] + 2, size_skip[0])
    x = np.arange(1, imagesize[1] - size_patch[1] + 2, size_skip[1])
    y = np.append(y, imagesize[0] - size_patch[0] + 1)
    x = np.append(x, imagesize[1] - size_patch[1] + 1)
    yy, xx = np.meshgrid(y, x)  # MATLAB [Y,X] = meshgrid(y,x)
    dy, dx = np.meshgrid(np.arange(size_patch[0]), np.arange(size_patch[1]))
    n = yy.size
    ys, xs = yy.flatten(order="F"), xx.flatten(order="F")
    dy3 = ys[None, None, :] + dy[:, :, None]
    dx3 = xs[None, None, :] + dx[:, :, None]
    return dy3 + (dx3 - 1) * imagesize[0], n


@pytest.mark.parametrize(("h", "w"), [(41, 57), (28, 28), (20, 33)])
def test_patch_grid_equals_im2patch(h: int, w: int) -> None:
    img = _img(h, w, None)
    loc, n = _patch_location((h, w), (12, 12), (8, 8))
    patches = img.flatten(order="F")[loc - 1]  # im2patch: img(patch_loc)
    grid = patch_grid((h, w), 12, 8)
    assert len(grid) == n
    for k, (top, left) in enumerate(grid):
        assert np.array_equal(patches[:, :, k], img[top : top + 12, left : left + 12].T)


def test_realsr_grid_sizes_and_the_repeated_last_patch() -> None:
    assert patch_starts(2000) == [0, 800, 800]  # MATLAB keeps the repeated last start
    assert patch_starts(2100) == [0, 800, 900]
    assert patch_grid((1200, 5000)) == [(0, 0)]  # not over 1200 in both sides: the whole image
    assert patch_grid((1201, 1300)) == [(0, 0), (0, 100), (1, 0), (1, 100)]


def test_patch_scores_average_over_patches_of_a_large_pair() -> None:
    hr = _img(1210, 1230, None).astype(np.float64)
    sr = np.clip(hr + RNG.normal(0, 5, hr.shape).round(), 0, 255)
    scores = patch_scores(sr, hr)
    assert len(scores) == 4
    top, left = patch_grid(hr.shape)[3]
    block = (slice(top, top + 1200), slice(left, left + 1200))
    a, b = sr[block][None, None], hr[block][None, None]
    assert scores[3] == pytest.approx((psnr(a, b, 0)[0], ssim(a, b, 0)[0]), abs=1e-12)
    small = patch_scores(sr[:100, :90], hr[:100, :90])
    assert len(small) == 1
    mean = patch_mean([scores, small])
    assert mean[0] == pytest.approx(np.mean([s[0] for s in scores + small]))


# --- LR archives: installed into the cache, hashes pinned on the first install ----------------------


def test_lr_archive_installs_and_pins_its_hashes(tmp_path: Path, srbench_env: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_image(tmp_path / "a.png", _img(4, 4))
    with zipfile.ZipFile(mirror / "toy_LR_X3.zip", "w") as zf:
        zf.write(tmp_path / "a.png", "toy_LR/X3/ax3.png")
    source = dl.Source("https://example.invalid/toy_LR_X3.zip", "zip", ("toy_LR/X3/*.png",), "toy_LR_X3.zip")
    entry = Entry(
        "toy", "Toy", "c", 1, "", (), (), (), (), None, lr={3: ("toy_LR/X3",)}, lr_sources={3: (source,)}
    )
    assert install_lr(entry, str(mirror)) == [3] and install_lr(entry, str(mirror)) == []
    side = entry_lr_side(entry, None, strict=True)
    assert side.folder(3, "toy") == srbench_env / "toy" / "LR" / "x3"
    assert [p.name for p in (srbench_env / "toy" / "LR" / "x3").iterdir()] == ["ax3.png"]
    write_image(srbench_env / "toy" / "LR" / "x3" / "ax3.png", _img(4, 4))  # another file in its place
    with pytest.raises(SrbenchError, match=r"ax3\.png: SHA-256 differs from the one pinned for dataset toy"):
        entry_lr_side(entry, None, strict=True)
    empty = Entry("none", "None", "c", 1, "", (), (), (), (), None, lr={2: ("x",)}, lr_sources={2: (source,)})
    with pytest.raises(SrbenchError, match="dataset none: no source gave its x2 LR images"):
        install_lr(empty, str(tmp_path))
