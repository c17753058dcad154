"""Aligned training patches: bicubic LR made by the protocol, counter-based sampling, sharding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from srbench_eval.data import patches
from srbench_eval.data.degrade.bicubic import degrade_bicubic
from srbench_eval.data.io.images import modcrop, read_image, write_image
from srbench_eval.errors import SrbenchError


def _images(folder: Path, sizes: list[tuple[int, int]], grey: int = -1) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i, (h, w) in enumerate(sizes):
        y, x = np.mgrid[0:h, 0:w]
        base = 127 + 80 * np.sin(x / (3 + i)) * np.cos(y / 5)
        img = np.clip(base[..., None] + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
        if i == grey:
            img = img[..., 0]
        p = folder / f"img{i}.png"
        write_image(p, img)
        paths.append(p)
    return paths


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "hr"
    _images(d, [(50, 61), (64, 48), (41, 70)], grey=2)
    return d


@pytest.mark.parametrize("preload", [True, False])
def test_patches_are_aligned_crops_of_the_whole_image_bicubic(folder: Path, preload: bool) -> None:
    scale, p = 4, 16
    pairs = patches.pairs_from_folder(folder, scale, preload=preload)
    ds = patches.PatchDataset(pairs, scale, p, seed=3)
    seen = set()
    for k in range(40):
        index, y, x, hflip, vflip, transpose = ds.choice(k)
        seen.add((hflip, vflip, transpose))
        hr = modcrop(read_image(folder / f"{pairs[index].name}.png"), scale)
        lr = degrade_bicubic(hr, scale)
        if hr.ndim == 2:
            hr, lr = (np.repeat(a[..., None], 3, axis=2) for a in (hr, lr))
        lp = p // scale
        want_lr = lr[y : y + lp, x : x + lp]
        want_hr = hr[scale * y : scale * (y + lp), scale * x : scale * (x + lp)]
        for flag, fn in ((hflip, lambda a: a[:, ::-1]), (vflip, lambda a: a[::-1])):
            if flag:
                want_lr, want_hr = fn(want_lr), fn(want_hr)
        if transpose:
            want_lr, want_hr = want_lr.transpose(1, 0, 2), want_hr.transpose(1, 0, 2)
        got_lr, got_hr = ds[k]
        assert got_lr.shape == (3, lp, lp) and got_hr.shape == (3, p, p)
        assert got_lr.dtype == torch.float32
        np.testing.assert_array_equal((got_lr * 255).round().byte().permute(1, 2, 0).numpy(), want_lr)
        np.testing.assert_array_equal((got_hr * 255).round().byte().permute(1, 2, 0).numpy(), want_hr)
    assert len(seen) == 8  # all eight flips/rotations occur


def test_every_image_once_per_epoch_and_sampling_is_a_function_of_seed_and_index(folder: Path) -> None:
    pairs = patches.pairs_from_folder(folder, 2)
    a = patches.PatchDataset(pairs, 2, 8, seed=1)
    b = patches.PatchDataset(pairs, 2, 8, seed=1)
    c = patches.PatchDataset(pairs, 2, 8, seed=2)
    for epoch in range(3):
        assert sorted(a.choice(epoch * 3 + i)[0] for i in range(3)) == [0, 1, 2]
    assert all(torch.equal(a[k][1], b[k][1]) for k in (0, 7, 100))
    assert any(a.choice(k) != c.choice(k) for k in range(6))
    assert patches.PatchDataset(pairs, 2, 8, augment=False).choice(5)[3:] == (0, 0, 0)


def test_sharded_streams_make_the_single_process_batches(folder: Path) -> None:
    ds = patches.PatchDataset(patches.pairs_from_folder(folder, 2), 2, 8)

    def batches(sampler: patches.StreamSampler, workers: int, n: int) -> list[torch.Tensor]:
        loader = DataLoader(ds, batch_size=sampler.batch, sampler=sampler, num_workers=workers)
        it = iter(loader)
        return [next(it)[1] for _ in range(n)]

    single = batches(patches.StreamSampler(4, start_step=2), 0, 2)
    rank0 = batches(patches.StreamSampler(2, start_step=2, rank=0, world=2), 2, 2)
    rank1 = batches(patches.StreamSampler(2, start_step=2, rank=1, world=2), 0, 2)
    for step in range(2):
        union = torch.cat([rank0[step], rank1[step]])
        # same samples, in another order: compare as sets of patches
        key = lambda t: sorted(x.sum().item() for x in t)  # noqa: E731
        assert key(union) == key(single[step])
    # resuming at step 3 continues the stream of a run started at step 2
    assert torch.equal(
        batches(patches.StreamSampler(4, start_step=3), 0, 1)[0],
        batches(patches.StreamSampler(4, start_step=2), 0, 2)[1],
    )


def test_the_lr_cache_is_written_once_and_reused(folder: Path) -> None:
    first = patches.pairs_from_folder(folder, 3, preload=False)
    assert all(isinstance(p.lr, Path) and p.lr.is_file() for p in first)
    assert all(p.lr.parent == patches.lr_cache_dir() for p in first)  # type: ignore[union-attr]
    mtimes = [p.lr.stat().st_mtime_ns for p in first]  # type: ignore[union-attr]
    again = patches.pairs_from_folder(folder, 3, preload=True)
    assert [p.lr.stat().st_mtime_ns for p in first] == mtimes  # type: ignore[union-attr]
    hr, lr = again[0].load(3)
    assert lr.shape[0] * 3 == hr.shape[0] and again[0].shape == hr.shape[:2]


def test_images_smaller_than_the_patch_are_named(folder: Path) -> None:
    with pytest.raises(
        SrbenchError, match=r"1 of 3 training images are smaller than the 48x48 HR patch.*img2\.png \(68x40\)"
    ):
        patches.pairs_from_folder(folder, 4, min_size=48)
    pairs = patches.pairs_from_folder(folder, 4)
    with pytest.raises(SrbenchError, match="smaller than the 64x64 HR patch"):
        patches.PatchDataset(pairs, 4, 64)
    with pytest.raises(SrbenchError, match="not a multiple of the scale"):
        patches.PatchDataset(pairs, 4, 18)


def test_subimages_are_crops_of_the_whole_image_pairs(folder: Path, tmp_path: Path) -> None:
    images = sorted(folder.glob("*.png"))
    subs = patches.extract_subimages(images, 2, size=32, step=16, root=tmp_path / "subs")
    full = {p.name: p.load(2) for p in patches.prepare_pairs(images, 2, preload=True)}
    assert len(subs) > len(images)
    for sub in subs:
        hr, lr = sub.load(2)
        assert hr.shape[:2] == (32, 32) and lr.shape[:2] == (16, 16)
        full_hr, full_lr = full[sub.name.rsplit("_s", 1)[0]]
        # find the crop position of the sub-image in the full image
        ys, xs = np.where(full_hr[:, :, 0] == hr[0, 0, 0])
        assert any(
            np.array_equal(full_hr[y : y + 32, x : x + 32], hr)
            and np.array_equal(full_lr[y // 2 : y // 2 + 16, x // 2 : x // 2 + 16], lr)
            for y, x in zip(ys, xs, strict=True)
            if y % 2 == 0 and x % 2 == 0
        )
    again = patches.extract_subimages(images, 2, size=32, step=16, root=tmp_path / "subs")
    assert [s.name for s in again] == [s.name for s in subs]
    with pytest.raises(SrbenchError, match="multiples of x3"):
        patches.extract_subimages(images, 3, size=32, step=16)
