"""Network faults while downloading a dataset, all on 127.0.0.1: a mirror that accepts and never
answers, one that stalls mid-transfer, one that refuses, HTTP 404 and 5xx answers, a truncated
transfer and an archive whose hash differs. Each fails with the URL and the real cause in one line,
retries only what is transient, gives up on a host that did not answer, and leaves no file behind.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from srbench_eval.cli import main
from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets import registry as ds
from tests.data import conftest as data_fixtures
from tests.data.conftest import HttpMirror, Toy, leftovers, make_tar, one_line_error

srbench_env = data_fixtures.srbench_env
http_mirror = data_fixtures.http_mirror
toy = data_fixtures.toy


@pytest.fixture(autouse=True)
def _network(srbench_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real retry policy (two extra attempts) without the back-off waits; a 1 s timeout."""
    monkeypatch.setattr(dl, "RETRIES", 2)
    monkeypatch.setattr(dl, "BACKOFF_S", 0.0)
    monkeypatch.setenv(dl.TIMEOUT_ENV, "1")


@dataclass
class RawServer:
    """A TCP server on 127.0.0.1 that accepts connections and then answers ``reply`` (maybe
    nothing) and stalls; ``connections`` counts the connections accepted."""

    url: str
    connections: list[socket.socket] = field(default_factory=list)


def _raw_server(reply: bytes) -> Iterator[RawServer]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    server = RawServer(f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server.connections.append(conn)
            if reply:
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in server.connections:
            conn.close()
        listener.close()


@pytest.fixture
def silent_server() -> Iterator[RawServer]:
    yield from _raw_server(b"")


@pytest.fixture
def stalling_server() -> Iterator[RawServer]:
    yield from _raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)


def _download(capsys: pytest.CaptureFixture[str], name: str, mirror: str) -> str:
    """Run ``datasets download NAME --mirror MIRROR``, expect exit 2; return the error line."""
    assert main(["datasets", "download", name, "--mirror", mirror]) == 2
    return one_line_error(capsys.readouterr().err)


def _nothing_written(cache: Path) -> None:
    assert not leftovers(cache)
    assert not [p for p in cache.rglob("*") if p.is_file()], "no archive, no image, no stamp"


def test_silent_mirror_fails_after_one_timeout(
    silent_server: RawServer, srbench_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # set5 has 3 archives, all asked for on the mirror: one timeout, then the host is skipped
    url = silent_server.url
    line = _download(capsys, "set5", url)
    assert f"{url}/benchmark.tar: timed out (no answer in 1 s, SRBENCH_TIMEOUT)" in line
    assert f"{url}/Set5_HR.tar.gz: skipped, {url} did not answer before" in line
    assert f"{url}/Set5_SR.zip: skipped" in line and "attempts" not in line
    assert len(silent_server.connections) == 1  # no retry, no other file asked for
    _nothing_written(srbench_env)


def test_stalled_transfer_is_a_timeout_not_a_connect_error(
    toy: Toy, stalling_server: RawServer, srbench_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = stalling_server.url
    line = _download(capsys, "toy", url)
    assert f"{url}/toy.tar: timed out (no answer in 1 s, SRBENCH_TIMEOUT)" in line
    assert f"{url}/get?id=1" not in line and f"{url}/toy_SR.zip: skipped" in line
    assert len(stalling_server.connections) == 1
    _nothing_written(srbench_env)


def test_refused_connection(toy: Toy, srbench_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    line = _download(capsys, "toy", url)
    assert f"{url}/toy.tar: connection refused;" in line
    assert f"{url}/toy_SR.zip: skipped, {url} did not answer before" in line
    _nothing_written(srbench_env)


def test_http_404_is_not_retried(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _download(capsys, "toy", http_mirror.url)
    assert f"{http_mirror.url}/toy.tar: HTTP 404 File not found;" in line
    assert f"{http_mirror.url}/toy_SR.zip: HTTP 404 File not found)" in line
    assert http_mirror.requests == ["/toy.tar", "/toy_SR.zip"]  # once each; the host answered
    _nothing_written(srbench_env)


def test_http_403_is_not_retried(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    http_mirror.status["/toy.tar"] = 403
    line = _download(capsys, "toy", http_mirror.url)
    assert f"{http_mirror.url}/toy.tar: HTTP 403 Forbidden;" in line
    assert http_mirror.requests == ["/toy.tar", "/toy_SR.zip"]
    _nothing_written(srbench_env)


def test_http_5xx_is_retried_then_named(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    http_mirror.status["/toy.tar"] = 500
    http_mirror.status["/toy_SR.zip"] = 503
    line = _download(capsys, "toy", http_mirror.url)
    assert f"{http_mirror.url}/toy.tar: HTTP 500 Internal Server Error (after 3 attempts)" in line
    assert f"{http_mirror.url}/toy_SR.zip: HTTP 503 Service Unavailable (after 3 attempts)" in line
    assert http_mirror.requests == ["/toy.tar"] * 3 + ["/toy_SR.zip"] * 3
    _nothing_written(srbench_env)


def test_truncated_transfer_is_retried_then_named(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = make_tar(http_mirror.root / "toy.tar", toy.files()).stat().st_size
    http_mirror.drop_after["/toy.tar"] = 3000
    line = _download(capsys, "toy", http_mirror.url)
    assert f"{http_mirror.url}/toy.tar: truncated transfer (3000 of {size} bytes) (after 3 attempts)" in line
    assert http_mirror.requests == ["/toy.tar"] * 3 + ["/toy_SR.zip"]
    _nothing_written(srbench_env)


def test_hash_mismatch_is_not_retried(
    toy: Toy,
    http_mirror: HttpMirror,
    srbench_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = dataclasses.replace(toy.entry.sources[0], sha256="0" * 64)
    entry = dataclasses.replace(toy.entry, sources=(source,))
    monkeypatch.setattr(ds, "registry", lambda: {"toy": entry})
    make_tar(http_mirror.root / "toy.tar", toy.files())
    line = _download(capsys, "toy", http_mirror.url)
    assert f"{http_mirror.url}/toy.tar: hash mismatch (SHA-256 differs from datasets.yaml)" in line
    assert http_mirror.requests == ["/toy.tar"]
    _nothing_written(srbench_env)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "inf"])
def test_bad_timeout_value(
    toy: Toy,
    http_mirror: HttpMirror,
    srbench_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    monkeypatch.setenv(dl.TIMEOUT_ENV, value)
    make_tar(http_mirror.root / "toy.tar", toy.files())
    line = _download(capsys, "toy", http_mirror.url)
    assert line == f"error: SRBENCH_TIMEOUT={value}: not a positive number of seconds (default 15)"
    assert http_mirror.requests == []
    _nothing_written(srbench_env)
