"""Fault injection on the files a command reads and writes, second pass (issue 27): unreadable
images, names longer than the file system allows, `datasets lr` into a non-empty folder or a
finished run, a cache whose stamps cannot be written, one scale rule.

Every case asserts the exit status, a one-line error naming the file or value, no traceback, and
the files afterwards (no partial output, finished runs and the user's files byte for byte).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from srbench_eval.cli import main
from srbench_eval.data.io.images import write_image
from srbench_eval.defaults import MAX_SCALE, SCALE_RANGE
from tests.data import conftest as data_fixtures
from tests.data.conftest import Toy, leftovers
from tests.faults import cli_error, run_argv

REPO = Path(__file__).resolve().parents[2]


def _hr_folder(folder: Path, names: list[str], size: int = 24) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name in names:
        write_image(folder / name, rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    return folder


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def _only_entries(folder: Path, *names: str) -> None:
    """``folder`` holds exactly ``names``: no staging folder or temporary file was left."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


# --- unreadable files ------------------------------------------------------------------------------


def _unreadable(monkeypatch: pytest.MonkeyPatch, name: str, code: int) -> None:
    """Reading a file called ``name`` fails with ``code`` (EACCES or EIO: root reads any file, so
    the fault is injected where the bytes are read)."""
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == name:
            raise OSError(code, errno.errorcode[code] + " " + __import__("os").strerror(code), str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EIO], ids=["EACCES", "EIO"])
@pytest.mark.parametrize("where", ["hr", "sr", "lr", "manifest"])
def test_an_unreadable_image_is_one_line_naming_it(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, code: int, where: str
) -> None:
    hr = _hr_folder(tmp_path / "hr", ["a.png", "b.png"])
    sr = _hr_folder(tmp_path / "sr", ["a_x2.png", "b_x2.png"])
    bad = {"sr": "b_x2.png"}.get(where, "b.png")
    _unreadable(monkeypatch, bad, code)
    out = tmp_path / "out"
    argv = {
        "hr": run_argv("bicubic", str(hr), out),
        "sr": run_argv(f"S={sr}", str(hr), out),
        "lr": ["datasets", "lr", str(hr), "--scale", "2", "--out", str(out)],
        "manifest": ["datasets", "manifest", str(hr)],
    }[where]
    err = cli_error(capsys, argv)
    assert err.startswith(f"error: {(sr if where == 'sr' else hr) / bad}: cannot read the image (")
    assert not out.exists()
    _only_entries(tmp_path, "hr", "sr")


# --- names too long --------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--out", "--datasets", "--mirror", "lr --out", "label"])
@pytest.mark.parametrize("name", ["a" * 300, "画" * 100], ids=["300 chars", "100 x 画"])
def test_a_name_longer_than_the_file_system_allows_is_one_line(
    tmp_path: Path, capsys, option: str, name: str
) -> None:
    long = tmp_path / name
    out = tmp_path / "out"
    run = ["run", "--quiet", "--models", "bicubic", "--datasets", "demo", "--out", str(out)]
    argv = {
        "--out": run[:-1] + [str(long)],
        "--datasets": ["run", "--quiet", "--models", "bicubic", "--datasets", str(long), "--out", str(out)],
        "--mirror": [*run[:-4], "--datasets", "set5", "--mirror", str(long), "--out", str(out)],
        "lr --out": ["datasets", "lr", "demo", "--scale", "2", "--out", str(long)],
        "label": [
            "run",
            "--quiet",
            "--models",
            f"{name}={tmp_path}",
            "--datasets",
            "demo",
            "--out",
            str(out),
        ],
    }[option]
    err = cli_error(capsys, argv)
    assert name in err or name[:40] in err
    assert list(tmp_path.iterdir()) == []


# --- datasets lr --out -----------------------------------------------------------------------------


def test_lr_out_under_a_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("mine")
    err = cli_error(
        capsys, ["datasets", "lr", "demo", "--scale", "2", "--out", str(tmp_path / "afile" / "sub")]
    )
    assert f"{tmp_path / 'afile'} is a file, not a folder" in err
    assert (tmp_path / "afile").read_text() == "mine"
    _only_entries(tmp_path, "afile")


def test_lr_into_a_non_empty_folder_needs_force_and_never_half_writes(tmp_path: Path, capsys) -> None:
    hr = _hr_folder(tmp_path / "hr", ["a.png", "woman.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    argv = ["datasets", "lr", str(hr), "--scale", "2", "--out", str(out)]
    err = cli_error(capsys, argv)
    assert err == f"error: --out {out}: the folder is not empty; pass --force to replace its LR images"
    (out / "woman.png").mkdir()  # a folder standing where an LR image goes
    before = _snapshot(out)
    err = cli_error(capsys, [*argv, "--force"])
    assert err == f"error: {out / 'woman.png'}: not a file; the LR image cannot replace it"
    assert _snapshot(out) == before  # not one of the other files moved in
    _only_entries(tmp_path, "hr", "out")
    (out / "woman.png").rmdir()
    assert main([*argv, "--force"]) == 0
    _only_entries(out, "notes.txt", "a.png", "woman.png")
    assert (out / "notes.txt").read_text() == "mine"


def test_lr_into_a_finished_run_is_refused_even_with_force(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert (
        main(["run", "--quiet", "--models", "bicubic", "--datasets", "demo", "--save-sr", "--out", str(run)])
        == 0
    )
    capsys.readouterr()
    before = _snapshot(run)
    sr = next(p for p in (run / "sr").rglob("*") if p.is_dir() and any(q.is_file() for q in p.iterdir()))
    for out in (sr, run, run / "new"):
        for force in ([], ["--force"]):
            err = cli_error(capsys, ["datasets", "lr", "demo", "--scale", "4", "--out", str(out), *force])
            assert f"error: --out {out}: inside the finished run or study {run}; write elsewhere" == err
    assert _snapshot(run) == before
    _only_entries(tmp_path, "run")


# --- the cache's stamps, the scale rule ------------------------------------------------------------


def test_a_cache_whose_stamps_cannot_be_written_does_not_stop_a_run(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only or full ``SRBENCH_DATA`` (here: a file where ``.stamps/`` goes, which fails for
    root too) costs a decode next time, never the run, when nothing has to be downloaded."""
    data = tmp_path / "data"
    data.mkdir()
    (data / ".stamps").write_text("")
    monkeypatch.setenv("SRBENCH_DATA", str(data))
    hr = _hr_folder(tmp_path / "hr", ["a.png", "b.png"])
    out = tmp_path / "out"
    assert main(run_argv("bicubic", str(hr), out)) == 0
    assert (out / "results.csv").is_file()
    _only_entries(data, ".stamps")


@pytest.mark.parametrize("command", ["run", "lr"])
@pytest.mark.parametrize("scale", [0, MAX_SCALE + 1])
def test_one_scale_rule_and_message(tmp_path: Path, capsys, command: str, scale: int) -> None:
    out = tmp_path / "out"
    argv = (
        [
            "run",
            "--quiet",
            "--models",
            "bicubic",
            "--datasets",
            "demo",
            "--scale",
            str(scale),
            "--out",
            str(out),
        ]
        if command == "run"
        else ["datasets", "lr", "demo", "--scale", str(scale), "--out", str(out)]
    )
    err = cli_error(capsys, argv)
    assert err == f"error: scale {scale} does not fit: use {SCALE_RANGE}"
    assert not out.exists()


# --- a download killed with SIGKILL ----------------------------------------------------------------

srbench_env = data_fixtures.srbench_env
toy = data_fixtures.toy

KILLED_DOWNLOAD = """
import sys, time
from pathlib import Path
from srbench_eval.data.datasets.download import downloading
archives = Path(sys.argv[1])
with downloading(archives):
    (archives / "tmpk1ll3d").write_bytes(b"x" * 1000)  # as pooch's temporary download
    print("downloading", flush=True)
    time.sleep(600)
"""


def test_a_download_killed_with_sigkill_leaves_no_temporary_file_after_the_next(
    toy: Toy, tmp_path: Path, srbench_env: Path, capsys
) -> None:
    archives = srbench_env / "archives"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_DOWNLOAD, str(archives)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "downloading"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (archives / "tmpk1ll3d").is_file()  # written a moment ago: no age rule would remove it
    toy.write_folder(tmp_path / "mirror" / "Toy" / "HR")
    assert main(["datasets", "download", "toy", "--mirror", str(tmp_path / "mirror")]) == 0
    capsys.readouterr()
    assert leftovers(srbench_env) == []
    assert not list(archives.iterdir())
