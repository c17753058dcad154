"""`datasets lr --scale 2.5`: the LR of Meta-SR's and LIIF's size rules, as `run` feeds it, written
under the name the arbitrary-scale repositories give the folder (Meta-SR's ``X%.2f``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from srbench_eval.cli import main
from srbench_eval.data.degrade.scale_rule import liif_sizes, metasr_sizes
from srbench_eval.data.io.images import read_image
from srbench_eval.data.lr_export import folder_name
from srbench_eval.data.pairs import make_pair
from srbench_eval.protocol import resolve


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "hr"
    folder.mkdir()
    rng = np.random.default_rng(11)
    for i, (h, w) in enumerate(((41, 37), (36, 45))):
        cv2.imwrite(str(folder / f"im{i}.png"), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return folder


@pytest.mark.parametrize(("profile", "scale"), [("matlab", 2.5), ("metasr", 3.5), ("liif", 2.5), ("liif", 6)])
def test_non_integer_lr_is_what_run_feeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], profile: str, scale: float
) -> None:
    hr = _folder(tmp_path)
    out = tmp_path / "lr"
    argv = ["datasets", "lr", str(hr), "--scale", str(scale), "--protocol", profile, "--out", str(out)]
    assert main(argv) == 0
    protocol = resolve(profile)
    assert f"LR_bicubic/{folder_name(scale, protocol)}" in capsys.readouterr().out
    for path in sorted(hr.iterdir()):
        written = read_image(out / path.name)
        lr = make_pair(path, scale, protocol, "cpu", host_arrays=True).lr[0].transpose(1, 2, 0)
        assert np.array_equal(written, lr.astype(np.uint8)), path.name
        h, w = read_image(path).shape[:2]
        sizes = liif_sizes(h, w, scale) if profile == "liif" else metasr_sizes(h, w, scale)
        assert written.shape[:2] == sizes.lr


def test_folder_names() -> None:
    assert folder_name(2.5, resolve("matlab")) == "X2.50" and folder_name(1.1, resolve("metasr")) == "X1.10"
    assert folder_name(2, resolve("metasr")) == "X2.00" and folder_name(2, resolve("matlab")) == "X2"
    assert folder_name(2.5, resolve("liif")) == "X2.5" and folder_name(3, resolve("liif")) == "X3"


def test_one_scale_and_bicubic_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hr = _folder(tmp_path)
    for extra, msg in (
        (["--scale", "2,3"], "writes one scale"),
        (["--scale", "2.5", "--degradation", "bd"], "integer scales only"),
        (["--scale", "0.5"], "scale 0.5 does not fit"),
    ):
        assert main(["datasets", "lr", str(hr), "--out", str(tmp_path / "x"), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert msg in err and "\n" not in err
        assert not (tmp_path / "x").exists()
