"""Decoding ahead (srbench_eval/data/io/prefetch.py): the images handed over are the decoder's own,
a changed or broken file is read (and reported) by the run itself, the budget holds, and
``find_images`` lists what ``open_dataset`` opens without writing anything."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from srbench_eval.data.datasets.registry import find_images, open_dataset
from srbench_eval.data.io import images
from srbench_eval.data.io.images import read_image, write_image
from srbench_eval.data.io.png_decode import unfilter_rows
from srbench_eval.data.io.prefetch import Prefetcher, prefetching
from srbench_eval.errors import SrbenchError


def _images(folder: Path, n: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    paths = []
    for k in range(n):
        shape = (20 + k, 17, 3) if k % 2 else (19, 23 + k)
        write_image(folder / f"im{k}.png", rng.integers(0, 256, shape, dtype=np.uint8))
        paths.append(folder / f"im{k}.png")
    return paths


def _wait_until(condition, timeout: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the prefetch thread did not get there"
        time.sleep(0.01)


def test_prefetched_images_are_the_decoded_ones(tmp_path: Path) -> None:
    paths = _images(tmp_path, 5)
    expected = [images.decode_image(p) for p in paths]
    with prefetching(paths) as ahead:
        _wait_until(lambda: len(ahead._ready) == len(paths))
        got = [read_image(p) for p in paths]
        assert not ahead._ready and ahead._held == 0  # every one handed over
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert images.prefetched is None


def test_a_file_changed_after_its_decoding_is_read_again(tmp_path: Path) -> None:
    paths = _images(tmp_path, 2)
    with prefetching(paths) as ahead:
        _wait_until(lambda: len(ahead._ready) == 2)
        new = np.full((9, 8, 3), 77, np.uint8)
        write_image(paths[0], new)
        os.utime(paths[0], ns=(1, 1))  # another modification time, whatever the clock's resolution
        assert np.array_equal(read_image(paths[0]), new)


def test_a_broken_file_is_reported_by_the_run(tmp_path: Path) -> None:
    paths = _images(tmp_path, 2)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with prefetching([tmp_path / "bad.png", *paths]) as ahead:
        _wait_until(lambda: len(ahead._ready) == 2)
        with pytest.raises(SrbenchError, match="bad.png: cannot decode image"):
            read_image(tmp_path / "bad.png")


def test_the_budget_bounds_what_waits(tmp_path: Path) -> None:
    paths = _images(tmp_path, 6)
    ahead = Prefetcher(paths, budget=0)  # holds one image at a time
    try:
        _wait_until(lambda: len(ahead._ready) == 1)
        assert ahead._thread.is_alive() and len(ahead._ready) == 1
        taken = ahead.take(paths[0])  # a PNG comes inflated only: read_image unfilters it
        assert taken == images.prefetch_image(paths[0]) and hasattr(taken, "layout")
        assert np.array_equal(unfilter_rows(taken), images.decode_image(paths[0]))
        assert ahead.take(paths[0]) is None  # handed over once
        _wait_until(lambda: len(ahead._ready) == 1)
        assert list(ahead._ready) == [os.path.abspath(paths[1])]
    finally:
        ahead.close()
    assert not ahead._thread.is_alive() and not ahead._ready


def test_find_images_is_what_open_dataset_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "data"))
    folder = tmp_path / "mine" / "HR"
    folder.mkdir(parents=True)
    _images(folder, 3)
    for spec in (str(folder), str(folder.parent), f"lbl={folder.parent}"):
        assert find_images(spec) == list(open_dataset(spec).images)
    before = sorted(p for p in tmp_path.rglob("*"))
    assert find_images(str(tmp_path / "absent")) == []
    assert find_images("set5", mirror=str(tmp_path / "no-mirror")) == []  # would download: nothing
    assert sorted(p for p in tmp_path.rglob("*")) == before
