"""Fault injection on `srbench-eval run` (issue 10): hostile names, huge images, wrong SR matches,
clashing datasets, bad options, an --out that cannot be had, a full disk, a killed run, SIGTERM.

Every case asserts the exit status, a one-line error naming the file or value, no traceback, and
the files afterwards: nothing outside the run folder, no partial run left behind.
"""

from __future__ import annotations

import os
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval.cli import main
from srbench_eval.data.io.images import read_image, write_image
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.runs.results import RESERVATION
from tests.faults import cli_error

REPO = Path(__file__).resolve().parents[2]


def _run_args(out: Path, *args: str) -> list[str]:
    return ["run", "--quiet", "--out", str(out), *args]


def _no_run_left(out: Path) -> None:
    """Neither the run folder nor its staging folder exists."""
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}") for p in out.parent.iterdir())


def _hr_folder(folder: Path, names: list[str], size: int = 48, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for name in names:
        write_image(folder / name, rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    return folder


# --- names that become paths -------------------------------------------------------------------


def _relabelled_checkpoint(tmp_path: Path, label: str) -> Path:
    """The shipped srcnn demo checkpoint with its embedded label replaced (preset 'paper': the label
    alone is the column)."""
    src = ckpts.find_in_zoo("srcnn", 4)
    assert src is not None
    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    ckpt["label"], ckpt["preset"] = label, "paper"
    path = tmp_path / "evil.pt"
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize("relative", [True, False], ids=["dotdot", "absolute"])
def test_checkpoint_label_cannot_write_outside_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], relative: bool
) -> None:
    victim = tmp_path / "victim"
    # The staging folder is tmp_path/.out.partial: sr/../../victim is tmp_path/victim.
    label = "../../victim" if relative else str(victim)
    ckpt = _relabelled_checkpoint(tmp_path, label)
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", str(ckpt), "--datasets", "demo", "--save-sr"))
    assert f"model label '{label}'" in err and str(ckpt) in err
    assert not victim.exists()
    _no_run_left(out)


@pytest.mark.parametrize("label", ["..", ".hidden", "a/b", "a\\b"])
def test_typed_model_label_is_checked_by_the_same_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str
) -> None:
    sr = _hr_folder(tmp_path / "sr", ["a.png"])
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", f"{label}={sr}", "--datasets", "demo"))
    assert f"model label {label!r}" in err
    _no_run_left(out)


def test_image_name_with_a_newline_is_refused_by_name(tmp_path: Path, capsys) -> None:
    hr = _hr_folder(tmp_path / "hr", ["a.png", "b\nc.png"])
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", "bicubic", "--datasets", str(hr), "--save-sr"))
    assert "image name 'b\\nc'" in err and str(hr) in err
    _no_run_left(out)


def test_two_images_with_one_name_are_refused(tmp_path: Path, capsys) -> None:
    hr = _hr_folder(tmp_path / "hr", ["a.png", "a.bmp", "b.png"])
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", "bicubic", "--datasets", str(hr)))
    assert "two images named" in err and "a.bmp" in err and "a.png" in err
    _no_run_left(out)


def test_two_datasets_with_one_name_are_refused(tmp_path: Path, capsys) -> None:
    a = _hr_folder(tmp_path / "a" / "good", ["x.png"], seed=1)
    b = _hr_folder(tmp_path / "b" / "good", ["y.png"], seed=2)
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", "bicubic", "--datasets", f"{a},{b}"))
    assert "two datasets are named 'good'" in err and "--datasets mine=" in err and str(b) in err
    _no_run_left(out)


# --- SR images matched to the right HR image ----------------------------------------------------


def test_exact_match_of_one_hr_image_never_serves_another(tmp_path: Path, capsys) -> None:
    hr = _hr_folder(tmp_path / "hr", ["x.png", "x_2.png"])
    sr = tmp_path / "sr"
    sr.mkdir()
    (sr / "x_2.png").write_bytes((hr / "x_2.png").read_bytes())
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", f"m={sr}", "--datasets", str(hr), "--scale", "2"))
    assert "no SR image for 'x'" in err and str(sr) in err
    _no_run_left(out)


def test_suffixed_sr_files_go_to_the_longest_hr_name(tmp_path: Path, capsys) -> None:
    hr = _hr_folder(tmp_path / "hr", ["x.png", "x_2.png"])
    sr = tmp_path / "sr"
    sr.mkdir()
    for name in ("x", "x_2"):  # result sets carry suffixes: x_2_x2_SR.png must go to x_2, not x
        (sr / f"{name}_x2_SR.png").write_bytes((hr / f"{name}.png").read_bytes())
    out = tmp_path / "out"
    assert main(_run_args(out, "--models", f"m={sr}", "--datasets", str(hr), "--scale", "2")) == 0
    rows = (out / "results.csv").read_text().splitlines()
    assert {r.split(",")[-1] for r in rows[1:] if ",psnr," in r} == {"inf"}  # each scored against itself


# --- the pixel budget ----------------------------------------------------------------------------


def _png(width: int, height: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _zero_grey_png(side: int, rows_per_block: int = 100) -> bytes:
    """A valid ``side`` x ``side`` black grey PNG, built without holding its pixels: identical
    full-flushed deflate blocks of ``rows_per_block`` zero rows, then the final block and Adler-32."""
    assert side % rows_per_block == 0
    rows = bytes((side + 1) * rows_per_block)  # a filter byte and the pixels of every row
    c = zlib.compressobj(9)
    first = c.compress(rows) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(rows) + c.flush(zlib.Z_FULL_FLUSH)
    n_bytes = (side + 1) * side
    adler = ((n_bytes % 65521) << 16) | 1  # Adler-32 of zeros
    idat = first + again * (side // rows_per_block - 1) + b"\x03\x00" + struct.pack(">I", adler)
    return _png(side, side, idat)


def test_header_bomb_png_is_refused_before_decoding(tmp_path: Path, capsys) -> None:
    hr = _hr_folder(tmp_path / "hr", ["a.png"])
    bomb = hr / "bomb.png"
    bomb.write_bytes(_png(100_000, 100_000, zlib.compress(b"\0" * 8)))
    assert bomb.stat().st_size < 80
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", "bicubic", "--datasets", str(hr)))
    assert str(bomb) in err and "10000000000 pixels" in err and "--max-pixels" in err
    _no_run_left(out)


def test_valid_30000_square_png_is_refused_before_decoding(tmp_path: Path, capsys) -> None:
    hr = tmp_path / "hr"
    hr.mkdir()
    big = hr / "big.png"
    big.write_bytes(_zero_grey_png(30_000))
    assert big.stat().st_size < 1_000_000
    assert zlib.decompressobj().decompress(big.read_bytes()[41:1041], 64)  # a real deflate stream
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", "bicubic", "--datasets", str(hr)))
    assert str(big) in err and "900000000 pixels, over the budget" in err
    _no_run_left(out)


def test_pixel_budget_option_and_environment(tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    base = _run_args(out, "--models", "bicubic", "--datasets", "demo")
    err = cli_error(capsys, [*base, "--max-pixels", "1000"])
    assert "over the budget of 1000" in err and "astronaut.png" in err
    monkeypatch.setenv("SRBENCH_MAX_PIXELS", "1000")
    assert "over the budget of 1000" in cli_error(capsys, base)
    monkeypatch.setenv("SRBENCH_MAX_PIXELS", "lots")
    assert "$SRBENCH_MAX_PIXELS 'lots'" in cli_error(capsys, base)
    assert "--max-pixels 0" in cli_error(capsys, [*base, "--max-pixels", "0"])
    _no_run_left(out)
    monkeypatch.setenv("SRBENCH_MAX_PIXELS", "1000")
    assert main([*base, "--max-pixels", "262144"]) == 0  # the option wins over the variable
    capsys.readouterr()


# --- one-line errors for bad sizes and options ----------------------------------------------------


def test_image_too_small_for_ssim_after_the_crop_names_the_image(tmp_path: Path, capsys) -> None:
    hr = _hr_folder(tmp_path / "hr", ["ok.png"], size=64)
    write_image(hr / "tiny.png", np.zeros((16, 16, 3), np.uint8))
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", "bicubic", "--datasets", str(hr)))
    assert str(hr / "tiny.png") in err and "16x16 leaves 8x8" in err and "11x11" in err
    _no_run_left(out)
    (hr / "tiny.png").unlink()
    for border, expected in (("27", "64x64 leaves 10x10"), ("123", "with a 123-pixel border crop")):
        args = _run_args(out, "--models", "bicubic", "--datasets", str(hr), "--crop-border", border)
        err = cli_error(capsys, args)
        assert str(hr / "ok.png") in err and expected in err
        _no_run_left(out)


def test_image_smaller_than_fid_patches_names_the_image(tmp_path: Path, capsys, stand_in_weights) -> None:
    stand_in_weights("inception-fid")  # fid-patch's HR features are made as the image is read
    hr = _hr_folder(tmp_path / "hr", ["a.png", "b.png"], size=48)
    out = tmp_path / "out"
    args = _run_args(out, "--models", "bicubic", "--datasets", str(hr), "--metrics", "fid-patch")
    err = cli_error(capsys, args)
    assert str(hr / "a.png") in err and "smaller than the patch size 64" in err
    _no_run_left(out)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--metrics", "fid-patch", "--metric-option", "fid-patch.patch_size=abc"], "patch_size takes"),
        (["--metrics", ""], "no metrics given"),
        (["--metrics", ","], "no metrics given"),
    ],
    ids=["option-type", "empty", "comma"],
)
def test_bad_metric_lists_and_options(tmp_path: Path, capsys, args: list[str], expected: str) -> None:
    out = tmp_path / "out"
    err = cli_error(capsys, _run_args(out, "--models", "bicubic", "--datasets", "demo", *args))
    assert expected in err
    _no_run_left(out)


# --- the run folder --------------------------------------------------------------------------------


def test_out_under_a_file(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    err = cli_error(capsys, _run_args(blocker / "run", "--models", "bicubic", "--datasets", "demo"))
    assert str(blocker) in err
    assert blocker.read_text() == "keep me"


def test_out_in_an_unwritable_folder(tmp_path: Path, capsys) -> None:
    if os.geteuid() != 0:
        parent = tmp_path / "ro"
        parent.mkdir()
        parent.chmod(0o555)
    else:  # root writes anywhere but into sysfs
        parent = Path("/sys")
        try:
            (parent / "srbench-probe").mkdir()
        except OSError:
            pass
        else:
            (parent / "srbench-probe").rmdir()
            pytest.skip("running as root and /sys is writable: no unwritable folder to test")
    err = cli_error(capsys, _run_args(parent / "run", "--models", "bicubic", "--datasets", "demo"))
    assert str(parent) in err and "cannot create the run folder" in err
    assert not (parent / "run").exists()


def test_out_taken_by_a_live_run_fails_at_once_and_a_killed_ones_is_cleared(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    staging = tmp_path / ".out.partial"
    staging.mkdir()
    holder = subprocess.Popen(["sleep", "60"])
    try:
        (staging / RESERVATION).write_text(f"{holder.pid}\n{os.uname().nodename}\n")
        # Refused before any work: the dataset, which does not exist, is never opened.
        err = cli_error(capsys, _run_args(out, "--models", "bicubic", "--datasets", str(tmp_path / "absent")))
        assert "another run is writing this folder" in err and f"pid {holder.pid}" in err
        assert staging.is_dir() and not out.exists()  # the other run's folder is left alone
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone: its staging folder is stale, removed by the next run in the folder.
    other = tmp_path / "other"
    assert main(_run_args(other, "--models", "bicubic", "--datasets", "demo", "--metrics", "psnr")) == 0
    assert not staging.exists() and (other / "results.csv").is_file()
    capsys.readouterr()


def test_disk_full_while_writing_results_or_sr_images(tmp_path: Path, capsys, monkeypatch) -> None:
    """The kernel's own ENOSPC: the temporary file of the chosen output is /dev/full."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    real_mkstemp = tempfile.mkstemp

    def full_for(target: str):
        def mkstemp(*args, **kwargs):
            if kwargs.get("prefix", "").startswith(f".{target}."):
                return os.open("/dev/full", os.O_WRONLY), str(Path(kwargs["dir"]) / "never-written.tmp")
            return real_mkstemp(*args, **kwargs)

        return mkstemp

    for target in ("results.csv", "camera.png"):
        monkeypatch.setattr(tempfile, "mkstemp", full_for(target))
        out = tmp_path / f"out-{target}"
        args = _run_args(out, "--models", "bicubic", "--datasets", "demo", "--metrics", "psnr", "--save-sr")
        err = cli_error(capsys, args)
        assert target in err and "the disk is full" in err
        _no_run_left(out)


def test_outputs_honour_the_umask(tmp_path: Path, capsys) -> None:
    old = os.umask(0o027)
    try:
        out = tmp_path / "out"
        args = _run_args(out, "--models", "bicubic", "--datasets", "demo", "--metrics", "psnr", "--save-sr")
        assert main(args) == 0
    finally:
        os.umask(old)
    capsys.readouterr()
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert modes["."] == 0o750 and modes["sr/bicubic/demo"] == 0o750
    assert modes["results.csv"] == modes["summary.json"] == modes["sr/bicubic/demo/camera.png"] == 0o640
    assert read_image(out / "sr/bicubic/demo/camera.png").ndim == 2


def test_sigterm_removes_the_partial_run(tmp_path: Path) -> None:
    hr = _hr_folder(tmp_path / "hr", [f"{i:03d}.png" for i in range(60)], size=256)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "srbench_eval.cli"] + _run_args(
        out, "--models", "bicubic", "--datasets", str(hr), "--metrics", "psnr,ssim", "--save-sr"
    )
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    staging = tmp_path / ".out.partial"
    deadline = time.monotonic() + 120
    while not (staging / "sr").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "terminated" in stderr and "Traceback" not in stderr + stdout
    _no_run_left(out)
