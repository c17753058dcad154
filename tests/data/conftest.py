"""Fixtures for the dataset tests: an isolated cache, a loopback HTTP mirror and a synthetic dataset.

No test touches the internet: ``srbench_env`` sets ``SRBENCH_OFFLINE=1`` (public URLs skipped),
points ``SRBENCH_DATA`` at a temporary folder and turns download retries off. Archives are built at
test time and served by ``http_mirror``, a ``ThreadingHTTPServer`` bound to 127.0.0.1 on a free
port, serving one temporary folder, stopped at teardown.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pooch  # noqa: F401  (imported now: its log handler binds the session's stderr, not a test's capsys)
import pytest

from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets import registry as ds
from srbench_eval.data.datasets.manifest import pixel_hash
from srbench_eval.data.io.images import write_image


@pytest.fixture
def srbench_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache in ``tmp_path/cache``, offline, no mirror, no retries; returns the cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(dl.DATA_ENV, str(cache))
    monkeypatch.setenv(dl.OFFLINE_ENV, "1")
    monkeypatch.delenv(dl.MIRROR_ENV, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(dl, "RETRIES", 0)
    monkeypatch.setenv(dl.TIMEOUT_ENV, "5")
    return cache


@dataclass
class HttpMirror:
    """A loopback HTTP server over ``root``; ``requests`` lists the paths asked for. A path in
    ``drop_after`` is answered with its full Content-Length but only that many bytes, then the
    connection is closed (an interrupted download); a path in ``status`` gets that HTTP error."""

    url: str
    root: Path
    requests: list[str] = field(default_factory=list)
    drop_after: dict[str, int] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def http_mirror(tmp_path: Path) -> Iterator[HttpMirror]:
    root = tmp_path / "served"
    root.mkdir()
    seen: list[str] = []
    drop_after: dict[str, int] = {}
    status: dict[str, int] = {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        timeout = 10

        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path in status:
                self.send_error(status[self.path])
                return
            if self.path not in drop_after:
                super().do_GET()
                return
            data = (root / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: drop_after[self.path]])
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield HttpMirror(f"http://127.0.0.1:{server.server_address[1]}", root, seen, drop_after, status)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def png_bytes(img: np.ndarray, tmp: Path) -> bytes:
    path = tmp / "_tmp_encode.png"
    write_image(path, img)
    data = path.read_bytes()
    path.unlink()
    return data


def make_tar(path: Path, files: dict[str, bytes], gz: bool = False) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


@dataclass
class Toy:
    """A synthetic registry dataset ``toy``: three images (one grey), its entry and archive helpers."""

    entry: ds.Entry
    images: dict[str, np.ndarray]
    work: Path

    def files(self, prefix: str = "toy/HR/", rename: dict[str, str] | None = None) -> dict[str, bytes]:
        """The images PNG-encoded as archive members ``prefix + name.png`` (names optionally mapped)."""
        rename = rename or {}
        return {
            f"{prefix}{rename.get(n, n)}.png": png_bytes(img, self.work) for n, img in self.images.items()
        }

    def write_folder(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for n, img in self.images.items():
            write_image(folder / f"{n}.png", img)
        return folder


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Toy:
    """Register ``toy`` (3 small images, one grey) next to the real datasets for this test."""
    rng = np.random.default_rng(0)
    images = {
        "alpha": rng.integers(0, 256, (30, 40, 3), dtype=np.uint8),
        "beta": rng.integers(0, 256, (26, 38), dtype=np.uint8),
        "gamma": rng.integers(0, 256, (50, 36, 3), dtype=np.uint8),
    }
    entry = ds.Entry(
        name="toy",
        title="Toy",
        citation="synthetic test images",
        images=3,
        note="",
        aliases=("toyset",),
        mirror_dirs=("Toy/HR",),
        sources=(
            dl.Source("http://127.0.0.1:9/toy.tar", "tar", ("toy/HR/*.png",), "toy.tar"),
            dl.Source("http://127.0.0.1:9/get?id=1", "zip", ("*image_SRF_4/*_HR.png",), "toy_SR.zip"),
        ),
        skimage_files=(),
        manifest={n: pixel_hash(img) for n, img in images.items()},
    )
    real = ds.registry()
    monkeypatch.setattr(ds, "registry", lambda: {**real, "toy": entry})
    work = tmp_path / "toywork"
    work.mkdir()
    return Toy(entry, images, work)


def tree_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` by relative path: equal before and after means intact."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def leftovers(cache: Path) -> list[str]:
    """Temporary folders and pooch downloads left in the cache (there must be none)."""
    if not cache.exists():
        return []
    hidden = [p.name for p in cache.iterdir() if ".partial-" in p.name or ".old-" in p.name]
    return sorted(hidden + [f"archives/{p.name}" for p in (cache / "archives").glob("tmp*")])


def one_line_error(err: str) -> str:
    """The text of a CLI error: exactly one ``error: ...`` line and no traceback; returns the line."""
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if x.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]
