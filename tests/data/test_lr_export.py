"""`datasets lr`: the exported LR files are what `run` feeds the models."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from srbench_eval.cli import main
from srbench_eval.data.datasets.registry import open_dataset
from srbench_eval.data.degrade.bicubic import imresize_uint8
from srbench_eval.data.io.images import read_image, write_image
from srbench_eval.data.pairs import make_pair
from srbench_eval.protocol import resolve

CPU = torch.device("cpu")


def _export(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "lr"
    assert main(["datasets", "lr", "demo", "--scale", "4", "--out", str(out), *args]) == 0
    return out


@pytest.mark.parametrize("profile", ["matlab", "selfexsr", "basicsr"])
def test_rounded_lr_is_written_pixel_for_pixel(tmp_path: Path, profile: str) -> None:
    out = _export(tmp_path, "--protocol", profile)
    ds = open_dataset("demo")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.png" for n in ds.names())
    for path, name in zip(ds.images, ds.names(), strict=True):
        lr = make_pair(path, 4, resolve(profile), CPU).lr[0].numpy()
        lr = lr[0] if lr.shape[0] == 1 else lr.transpose(1, 2, 0)
        assert np.array_equal(read_image(out / f"{name}.png"), lr.astype(np.uint8)), name


def test_unrounded_lr_is_a_16_bit_png_within_half_a_step(tmp_path: Path) -> None:
    out = _export(tmp_path, "--protocol", "srcnn")
    ds = open_dataset("demo")
    for path, name in zip(ds.images, ds.names(), strict=True):
        lr = make_pair(path, 4, resolve("srcnn"), CPU).lr[0, 0].numpy()
        img = cv2.imread(str(out / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        assert img.dtype == np.uint16 and img.shape == lr.shape
        clipped = np.clip(lr, 0, 255)
        assert np.abs(img * (255 / 65535) - clipped).max() <= 0.5 * 255 / 65535 + 1e-9
    out = tmp_path / "npy"
    assert (
        main(
            [
                "datasets",
                "lr",
                "demo",
                "--scale",
                "4",
                "--protocol",
                "srcnn",
                "--format",
                "npy",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    for path, name in zip(ds.images, ds.names(), strict=True):
        lr = make_pair(path, 4, resolve("srcnn"), CPU).lr[0, 0].numpy()
        assert np.array_equal(np.load(out / f"{name}.npy"), lr)


def test_exported_lr_run_elsewhere_scores_as_run(tmp_path: Path) -> None:
    """Bicubic upscaling of the exported files, scored as a folder, equals the built-in bicubic."""
    out = _export(tmp_path)
    sr_dir = tmp_path / "sr"
    for f in out.iterdir():
        lr = read_image(f)
        t = torch.from_numpy(lr).double()
        t = t[None] if lr.ndim == 2 else t.permute(2, 0, 1)
        sr = imresize_uint8(t, 4.0).numpy().astype(np.uint8)
        write_image(sr_dir / f.name, sr[0] if lr.ndim == 2 else sr.transpose(1, 2, 0))
    run = tmp_path / "run"
    argv = ["run", "--quiet", "--models", f"bicubic,ext={sr_dir}", "--datasets", "demo", "--out", str(run)]
    assert main(argv) == 0
    rows = list(csv.DictReader((run / "results.csv").read_text().splitlines()))
    by = {(r["model"], r["image"], r["metric"]): float(r["value"]) for r in rows}
    for (model, image, metric), value in by.items():
        if model == "bicubic":
            assert by[("ext", image, metric)] == value


def test_a_failed_export_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hr = tmp_path / "hr"
    write_image(hr / "a.png", np.zeros((16, 16, 3), np.uint8))
    (hr / "b.png").write_bytes(b"not a png")
    out = tmp_path / "lr"
    assert main(["datasets", "lr", str(hr), "--scale", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "b.png" in err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["hr"]
