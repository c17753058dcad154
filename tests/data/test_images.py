"""Image I/O: RGB order, grey stays grey, clear errors for bad files, atomic writes, mod-crop."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from srbench_eval.data.images import modcrop, read_image, write_image
from srbench_eval.errors import SrbenchError


def test_rgb_order_and_grey(tmp_path: Path) -> None:
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 0] = 200  # red
    cv2.imwrite(str(tmp_path / "c.png"), rgb[..., ::-1])  # OpenCV writes BGR
    assert read_image(tmp_path / "c.png")[0, 0].tolist() == [200, 0, 0]
    cv2.imwrite(str(tmp_path / "g.png"), np.full((4, 6), 7, np.uint8))
    assert read_image(tmp_path / "g.png").shape == (4, 6)


def test_write_read_round_trip(tmp_path: Path) -> None:
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    write_image(tmp_path / "sub" / "x.png", img)
    assert np.array_equal(read_image(tmp_path / "sub" / "x.png"), img)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.png"]


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(SrbenchError, match=r"bad.png: cannot decode"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(SrbenchError, match="no such image"):
        read_image(tmp_path / "missing.png")
    cv2.imwrite(str(tmp_path / "deep.png"), np.zeros((3, 3), np.uint16))
    with pytest.raises(SrbenchError, match="8-bit"):
        read_image(tmp_path / "deep.png")


def test_modcrop() -> None:
    assert modcrop(np.zeros((321, 481, 3)), 4).shape == (320, 480, 3)
    assert modcrop(np.zeros((12, 12)), 3).shape == (12, 12)
