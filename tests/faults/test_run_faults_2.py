"""Fault injection on `srbench-eval run`, second pass (issue 27): hand-set sharding variables,
grey images with alpha or a grey palette.

Every case asserts the exit status, a one-line error naming the value, no traceback, and the files
afterwards (no run folder left).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srbench_eval.cli import main
from tests.faults import cli_error

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_run_left(out: Path) -> None:
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}") for p in out.parent.iterdir())


# --- severe 5: hand-set sharding variables --------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WORLD_SIZE": "abc"}, "$WORLD_SIZE='abc'"),
        ({"WORLD_SIZE": "2", "RANK": "abc"}, "$RANK='abc'"),
        ({"WORLD_SIZE": "2", "RANK": "1"}, "$MASTER_ADDR is not set"),
        ({"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "127.0.0.1"}, "$MASTER_PORT is not set"),
        ({"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "h", "MASTER_PORT": "99999"}, "$MASTER_PORT=99999"),
        ({"WORLD_SIZE": "2", "RANK": "2"}, "$RANK=2: a rank of $WORLD_SIZE=2"),
        ({"WORLD_SIZE": "0"}, "$WORLD_SIZE=0"),
        ({"WORLD_SIZE": "1", "LOCAL_RANK": "-1"}, "$LOCAL_RANK=-1"),
        (
            {"WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1", "SRBENCH_RENDEZVOUS_TIMEOUT": "soon"},
            "$SRBENCH_RENDEZVOUS_TIMEOUT='soon'",
        ),
        (
            {"WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1", "SRBENCH_RENDEZVOUS_TIMEOUT": "0"},
            "$SRBENCH_RENDEZVOUS_TIMEOUT='0'",
        ),
    ],
)
def test_garbage_sharding_variables_are_one_line(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SRBENCH_RENDEZVOUS_TIMEOUT", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    err = cli_error(
        capsys, ["run", "--quiet", "--models", "bicubic", "--datasets", "demo", "--out", f"{out}"]
    )
    assert expected in err
    _no_run_left(out)


def _lone_rank(tmp_path: Path, rank: int, port: int, **extra: str) -> subprocess.Popen[str]:
    """``srbench-eval run`` as rank ``rank`` of 2 whose peer never comes."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "OMP_WAIT_POLICY": "PASSIVE",
        "WORLD_SIZE": "2",
        "RANK": str(rank),
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        **extra,
    }
    cmd = [sys.executable, "-m", "srbench_eval.cli", "run", "--quiet", "--models", "bicubic"]
    cmd += ["--datasets", "demo", "--device", "cpu", "--out", str(tmp_path / "out")]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_rank_whose_peers_never_come_stops_after_the_rendezvous_timeout(tmp_path: Path) -> None:
    port = _free_port()
    started = time.monotonic()
    proc = _lone_rank(tmp_path, 1, port, SRBENCH_RENDEZVOUS_TIMEOUT="2")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    assert time.monotonic() - started < 60
    line = stderr.strip()
    assert "\n" not in line and "Traceback" not in stdout + stderr, stderr
    assert line.startswith("error: rank 1 of 2: the ranks did not all meet at 127.0.0.1:")
    assert f":{port} within 2 s ($SRBENCH_RENDEZVOUS_TIMEOUT)" in line
    _no_run_left(tmp_path / "out")


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "aborted")]
)
def test_sigterm_and_sigint_stop_a_waiting_rendezvous(tmp_path: Path, sig: int, code: int, word: str) -> None:
    """Rank 0 waits for its peer in torch's C++ code (a 10-minute rendezvous timeout here); the
    signal stops it within seconds. Rank 0 listens on MASTER_PORT while it waits: the test waits
    for that, so that the signal comes during the rendezvous."""
    port = _free_port()
    proc = _lone_rank(tmp_path, 0, port, SRBENCH_RENDEZVOUS_TIMEOUT="600")
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.5)
    signalled = time.monotonic()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    assert time.monotonic() - signalled < 10
    assert proc.returncode == code, stderr
    assert stderr.strip() == word and not stdout
    _no_run_left(tmp_path / "out")


# --- severe 6: grey with alpha, grey palette ------------------------------------------------------


def test_grey_pixels_saved_as_l_la_and_p_score_the_same(tmp_path: Path, capsys) -> None:
    """One grey image saved as L, LA (alpha 200) and P (a palette of greys): all three are grey (Y is
    the grey value), so PSNR and SSIM are equal; an RGB copy of it is colour (Y = 16 + 219/255 v)."""
    grey = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    folders = []
    for mode in ("L", "LA", "P", "RGB"):
        folder = tmp_path / f"grey_{mode}"
        folder.mkdir()
        im = Image.fromarray(grey, "L")
        if mode == "LA":
            im = Image.fromarray(np.stack([grey, np.full_like(grey, 200)], -1), "LA")
        elif mode != "L":
            im = im.convert(mode)
        im.save(folder / "img.png")
        folders.append(str(folder))
    out = tmp_path / "out"
    args = ["run", "--quiet", "--models", "bicubic", "--scale", "2", "--metrics", "psnr,ssim"]
    assert main([*args, "--datasets", ",".join(folders), "--out", str(out)]) == 0
    capsys.readouterr()
    with (out / "results.csv").open() as f:
        values = {(r["dataset"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}
    for metric in ("psnr", "ssim"):
        grey_values = {values[(f"grey_{m}", metric)] for m in ("L", "LA", "P")}
        assert len(grey_values) == 1, (metric, grey_values)
        assert values[("grey_RGB", metric)] not in grey_values


# --- tiling ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("overlap", "warned"), [(0, True), (6, False)])
def test_tiling_is_recorded_and_a_small_overlap_warned(
    tmp_path: Path, capsys, caplog: pytest.LogCaptureFixture, overlap: int, warned: bool
) -> None:
    """srcnn (9-1-5 convolutions: receptive radius 4 + 0 + 2 = 6 input pixels) on 8x8 tiles. The
    warning is a logging record (on stderr outside pytest, which captures it)."""
    out = tmp_path / "out"
    argv = [
        "run",
        "--quiet",
        "--models",
        "srcnn",
        "--datasets",
        "demo",
        "--metrics",
        "psnr",
        "--out",
        str(out),
    ]
    assert main([*argv, "--tile", "8", "--tile-overlap", str(overlap)]) == 0
    err = capsys.readouterr().err
    note = "--tile-overlap 0 is below the network's receptive radius (6 input pixels)"
    assert any(note in r.getMessage() for r in caplog.records) == warned and "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    (model,) = summary["provenance"]["models"].values()
    assert model["tiling"] == {"tile": 8, "overlap": overlap}
    table = (out / "table.md").read_text()
    assert f"networks run on 8×8 input tiles, overlap {overlap}" in table
