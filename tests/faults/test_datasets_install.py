"""Faults while installing a dataset copy: tampered archives, a full disk, a bad cache, leftovers.

Each case runs the real CLI (``srbench_eval.cli.main``) against a loopback mirror or a local
mirror folder and checks the exit code, the one-line error, and the files afterwards.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from srbench_eval.cli import main
from srbench_eval.data.datasets import cache
from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets import registry as ds
from tests.data import conftest as data_fixtures
from tests.data.conftest import HttpMirror, Toy, leftovers, make_tar, one_line_error, tree_hashes

srbench_env = data_fixtures.srbench_env
http_mirror = data_fixtures.http_mirror
toy = data_fixtures.toy

pytestmark = pytest.mark.usefixtures("srbench_env")


@pytest.fixture
def shared_toy(toy: Toy, monkeypatch: pytest.MonkeyPatch) -> Toy:
    """``toy`` plus a second entry taken from the same archives, so ``toy.tar`` is kept in the
    archive cache after an install (like ``benchmark.tar``, shared by four datasets)."""
    twin = dataclasses.replace(toy.entry, name="toytwin", aliases=())
    monkeypatch.setattr(ds, "registry", lambda: {"toy": toy.entry, "toytwin": twin})
    return toy


def _tampered(toy: Toy) -> Toy:
    images = dict(toy.images)
    images["alpha"] = 255 - images["alpha"]
    return Toy(toy.entry, images, toy.work)


def _download(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["datasets", "download", "toy", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_tampered_archive_never_replaces_a_verified_copy(
    shared_toy: Toy, http_mirror: HttpMirror, srbench_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toy = shared_toy
    served = http_mirror.root / "toy.tar"
    make_tar(served, toy.files())
    assert _download(capsys, "--mirror", http_mirror.url)[0] == 0
    good = tree_hashes(srbench_env / "toy")
    assert (srbench_env / "archives" / "toy.tar").is_file()  # shared: kept for toytwin

    # the archive cache and the mirror now hold a tampered archive; --force must not install it
    make_tar(served, _tampered(toy).files())
    shutil.copy(served, srbench_env / "archives" / "toy.tar")
    asked = len(http_mirror.requests)
    rc, _, err = _download(capsys, "--mirror", http_mirror.url, "--force")
    line = one_line_error(err)
    assert rc == 2
    assert "dataset toy: no source matched the manifest" in line and "pixels differ: alpha" in line
    assert f"the verified copy in {srbench_env / 'toy' / 'HR'} is kept unchanged" in line
    assert tree_hashes(srbench_env / "toy") == good and not leftovers(srbench_env)
    assert not (srbench_env / "archives" / "toy.tar").exists()  # a failing archive is not reused
    assert len(http_mirror.requests) == asked + 1  # the zip was asked for (404), the tar was cached

    # the same with --strict, and with the tampered archive downloaded from the mirror this time
    rc, _, err = _download(capsys, "--mirror", http_mirror.url, "--force", "--strict")
    assert rc == 2 and "pixels differ: alpha" in one_line_error(err)
    assert "/toy.tar" in http_mirror.requests[asked + 1 :]
    assert tree_hashes(srbench_env / "toy") == good and not leftovers(srbench_env)
    assert not (srbench_env / "archives" / "toy.tar").exists()

    # a good mirror again: --force asks it (nothing stale is reused) and installs
    make_tar(served, toy.files())
    asked = len(http_mirror.requests)
    rc, out, _ = _download(capsys, "--mirror", http_mirror.url, "--force")
    assert rc == 0 and "toy: 3 images, manifest ok" in out
    assert http_mirror.requests[asked:] == ["/toy.tar"]
    assert tree_hashes(srbench_env / "toy") == good and not leftovers(srbench_env)


def test_differing_copy_without_a_good_one_installs_with_warning_unless_strict(
    shared_toy: Toy,
    http_mirror: HttpMirror,
    srbench_env: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # README "Datasets": a copy whose pixels differ is reported; --strict refuses it
    make_tar(http_mirror.root / "toy.tar", _tampered(shared_toy).files())
    rc, _, err = _download(capsys, "--mirror", http_mirror.url, "--strict")
    line = one_line_error(err)
    assert rc == 2 and "dataset toy from http://127.0.0.1:" in line and "pixels differ: alpha" in line
    assert not (srbench_env / "toy").exists() and not leftovers(srbench_env)
    assert not (srbench_env / "archives" / "toy.tar").exists()
    with caplog.at_level(logging.WARNING):
        rc, out, err = _download(capsys, "--mirror", http_mirror.url)
    assert rc == 0 and "toy: 3 images, differs from manifest: 1 images (pixels differ: alpha)" in out
    assert "Traceback" not in err and "installing the copy from" in caplog.text
    assert "not comparable" in caplog.text
    assert not (srbench_env / "archives" / "toy.tar").exists() and not leftovers(srbench_env)


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing an unpacked image fills the disk after 100 bytes (``ENOSPC``, no file name, as
    ``write`` reports it)."""

    def full(src, dst, length=0):  # type: ignore[no-untyped-def]
        dst.write(src.read(100))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", full)


def test_disk_full_while_extracting_keeps_the_good_copy(
    toy: Toy,
    tmp_path: Path,
    srbench_env: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    make_tar(mirror / "toy.tar", toy.files())
    assert _download(capsys, "--mirror", str(mirror))[0] == 0
    good = tree_hashes(srbench_env)
    request.getfixturevalue("disk_full")
    rc, _, err = _download(capsys, "--mirror", str(mirror), "--force")
    line = one_line_error(err)
    assert rc == 2 and "disk full while installing toy from" in line and "/HR/alpha.png: " in line
    assert line.startswith(f"error: {srbench_env}/.toy.partial-")
    assert tree_hashes(srbench_env) == good and not leftovers(srbench_env)
    assert (mirror / "toy.tar").is_file()


def test_disk_full_without_a_copy_leaves_nothing(
    toy: Toy, tmp_path: Path, srbench_env: Path, capsys: pytest.CaptureFixture[str], disk_full: None
) -> None:
    toy.write_folder(tmp_path / "mirror" / "Toy" / "HR")  # the copy from a mirror folder
    rc, _, err = _download(capsys, "--mirror", str(tmp_path / "mirror"))
    assert rc == 2 and "disk full while installing toy from mirror folder" in one_line_error(err)
    assert not (srbench_env / "toy").exists() and not leftovers(srbench_env)


@pytest.mark.parametrize("command", [["datasets", "download", "toy"], ["datasets", "verify", "demo"]])
def test_data_dir_that_is_a_file(
    toy: Toy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    path = tmp_path / "not-a-folder"
    path.write_text("a file\n")
    monkeypatch.setenv(dl.DATA_ENV, str(path))
    assert main(command) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line == (
        f"error: SRBENCH_DATA={path}: not a folder; point SRBENCH_DATA at a folder for the dataset cache "
        f"(or unset it for ~/.cache/srbench-eval)"
    )
    assert path.read_text() == "a file\n"


def test_data_dir_under_a_file(
    toy: Toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv(dl.DATA_ENV, str(tmp_path / "file" / "cache"))
    toy.write_folder(tmp_path / "mirror" / "Toy" / "HR")
    assert main(["datasets", "download", "toy", "--mirror", str(tmp_path / "mirror")]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith(
        f"error: {tmp_path / 'file' / 'cache'}: Not a directory while creating the dataset cache"
    )


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_cache_files_follow_the_umask(
    shared_toy: Toy,
    http_mirror: HttpMirror,
    srbench_env: Path,
    capsys: pytest.CaptureFixture[str],
    umask_027: None,
) -> None:
    make_tar(http_mirror.root / "toy.tar", shared_toy.files())
    assert _download(capsys, "--mirror", http_mirror.url)[0] == 0
    created = [p for p in srbench_env.rglob("*")]
    assert {p.relative_to(srbench_env).as_posix() for p in created if p.is_dir()} == {
        "toy",
        "toy/HR",
        "archives",
        ".stamps",
    }
    assert (srbench_env / "archives" / "toy.tar").is_file()  # kept (shared), downloaded by pooch
    modes = {p.relative_to(srbench_env).as_posix(): oct(p.stat().st_mode & 0o777) for p in created}
    assert modes == {
        **{k: "0o750" for k in modes if (srbench_env / k).is_dir()},
        **{k: "0o640" for k in modes if (srbench_env / k).is_file()},
    }
    assert oct(srbench_env.stat().st_mode & 0o777) == "0o750"


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_leftovers_of_a_killed_run_are_removed(
    toy: Toy, tmp_path: Path, srbench_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = cache._host()
    dead = srbench_env / f".toy.partial-{host}-{_dead_pid()}-k1ll3d"
    (dead / "HR").mkdir(parents=True)
    (dead / "HR" / "alpha.png").write_bytes(b"half")
    old_dead = srbench_env / f".toy.old-{host}-{_dead_pid()}-0"
    old_dead.mkdir()
    running = srbench_env / f".toy.partial-{host}-{os.getpid()}-running"  # a live process's folder
    running.mkdir()
    other_host = srbench_env / ".toy.partial-elsewhere-1-abc"  # another machine sharing the cache
    other_host.mkdir()
    (srbench_env / "archives").mkdir()
    stale = srbench_env / "archives" / "tmpa1b2c3d4"  # pooch's temporary download of a killed run
    stale.write_bytes(b"partial download")
    long_ago = time.time() - 3600
    os.utime(stale, (long_ago, long_ago))
    fresh = srbench_env / "archives" / "tmpfresh0"  # a download running now, which holds the lock
    fresh.write_bytes(b"downloading")

    toy.write_folder(tmp_path / "mirror" / "Toy" / "HR")
    with dl.downloading(srbench_env / "archives"):
        assert _download(capsys, "--mirror", str(tmp_path / "mirror"))[0] == 0
    assert not dead.exists() and not old_dead.exists() and not stale.exists()
    assert running.is_dir() and other_host.is_dir() and fresh.is_file()
    assert ds.verify_dataset("toy").verified == "manifest ok"


def test_disk_full_while_downloading(
    toy: Toy,
    http_mirror: HttpMirror,
    srbench_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import pooch

    make_tar(http_mirror.root / "toy.tar", toy.files())
    real = pooch.HTTPDownloader.__call__

    def full(self, url, output_file, pooch_obj, check_only=False):  # type: ignore[no-untyped-def]
        with open(output_file, "wb") as f:  # pooch's temporary file, part written
            f.write(b"x" * 1000)
        real(self, url, output_file, pooch_obj, check_only)  # the request reaches the mirror
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", full)
    rc, _, err = _download(capsys, "--mirror", http_mirror.url)
    line = one_line_error(err)
    assert rc == 2 and line == (
        f"error: {srbench_env / 'archives' / 'toy.tar'}: disk full while downloading "
        f"{http_mirror.url}/toy.tar; nothing was installed (free space there, or point SRBENCH_DATA at "
        f"another disk)"
    )
    assert http_mirror.requests == ["/toy.tar"]  # a full disk is not retried, nor another source tried
    assert not (srbench_env / "toy").exists() and not leftovers(srbench_env)
    assert not list((srbench_env / "archives").iterdir())
