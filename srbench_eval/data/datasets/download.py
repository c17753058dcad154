"""Fetching dataset archives and unpacking their HR images, without ever leaving half a copy.

* Where: downloads go to ``archives/`` of the cache (:mod:`srbench_eval.data.datasets.cache`).
* Mirrors: ``$SRBENCH_MIRROR`` or ``--mirror`` names a local folder or a base URL that is asked for
  each archive (by its ``file`` name) before the public URL. ``SRBENCH_OFFLINE=1`` skips the public
  URLs entirely (an air-gapped machine then fails fast instead of waiting on timeouts).
* Downloads go through pooch (progress bar, SHA-256 check when the archive hash is known, a
  temporary file renamed into place). Each connection and each read waits at most
  ``$SRBENCH_TIMEOUT`` seconds (15). Only transient faults (5xx, a reset or truncated transfer) are
  retried, with back-off; a timeout, a refused connection, a 4xx answer or a hash mismatch fail at
  once, and a host that timed out or refused is not asked for its other files. Errors name the URL
  and the cause.
* Unpacking writes the selected members into a temporary folder given by the caller
  (:mod:`srbench_eval.data.datasets.install`, which verifies it and swaps it in), only by file name, so no
  member can write outside it. A downloaded archive gets the umask's mode (pooch's temporary file
  is 0600); :func:`remove_stale_downloads` removes pooch's temporary files left by a killed run.
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import gzip
import logging
import lzma
import os
import shutil
import socket
import sys
import tarfile
import time
import urllib.parse
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urlparse

from srbench_eval.data.datasets.cache import DATA_ENV as DATA_ENV  # re-exported: the cache is named here too
from srbench_eval.data.datasets.cache import data_dir as data_dir
from srbench_eval.data.datasets.cache import local_error
from srbench_eval.data.io.images import is_image_file
from srbench_eval.digests import sha256_file
from srbench_eval.errors import SrbenchError
from srbench_eval.files import file_mode

MIRROR_ENV = "SRBENCH_MIRROR"
OFFLINE_ENV = "SRBENCH_OFFLINE"
TIMEOUT_ENV = "SRBENCH_TIMEOUT"

RETRIES = 2  # extra attempts after a transient fault (5xx, connection reset, truncated transfer)
BACKOFF_S = 1.0  # wait before attempt n+1: n * BACKOFF_S seconds
TIMEOUT = 15.0  # seconds to wait for a connection and for each read, unless $SRBENCH_TIMEOUT says
ARCHIVE_FORMATS = ("zip", "tar", "tar.gz")
STALE_DOWNLOAD_S = 600  # a pooch temporary file not written to for this long is abandoned

_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError)


class SourceFailed(Exception):
    """One source (mirror file, mirror URL or public URL) could not give the images; try the next.

    ``dead_host`` is set when the host did not answer at all (timeout, refused): its other files
    are not asked for in the same install."""

    def __init__(self, message: str, dead_host: str | None = None) -> None:
        super().__init__(message)
        self.dead_host = dead_host


@dataclass(frozen=True)
class Source:
    """One public archive holding a dataset's HR images (an entry under ``sources:`` in the yaml)."""

    url: str
    format: str
    members: tuple[str, ...]
    file: str
    sha256: str | None = None
    note: str = ""


def timeout_s() -> float:
    """Seconds to wait for a connection and for each read: ``$SRBENCH_TIMEOUT`` or 15."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise SrbenchError(f"{TIMEOUT_ENV}={text}: not a positive number of seconds (default {TIMEOUT:g})")
    return value


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes")


def is_url(text: str) -> bool:
    return urlparse(text).scheme in ("http", "https", "ftp")


def resolve_mirror(mirror: str | None) -> str | None:
    """``mirror`` or ``$SRBENCH_MIRROR``: a base URL, or an existing folder (made absolute)."""
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    if not mirror or is_url(mirror):
        return mirror or None
    path = Path(mirror).expanduser()
    if not path.is_dir():
        raise SrbenchError(
            f"mirror {mirror}: no such folder; give a folder laid out like <mirror>/Set5/HR/*.png or "
            f"holding the archives, or a base URL (http://...)"
        )
    return str(path.resolve())


def archive_locations(source: Source, mirror: str | None) -> list[str]:
    """Where ``source``'s archive is looked for, in order: mirror file or URL, then the public URL."""
    locations = []
    if mirror and is_url(mirror):
        locations.append(mirror.rstrip("/") + "/" + source.file)
    elif mirror and (Path(mirror) / source.file).is_file():
        locations.append(str(Path(mirror) / source.file))
    if not offline():
        locations.append(source.url)
    return locations


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0].rstrip(":") if str(err).strip() else type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


class _QuietHashAdvice(logging.Filter):
    """Drop pooch's advice to pass the downloaded file's hash to ``pooch.retrieve`` (meant for
    pooch users, not for ours); its "Downloading ..." lines stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        return "known_hash" not in text and not text.startswith("SHA256 hash of downloaded file")


def host_of(url: str) -> str:
    """``scheme://host:port`` of a URL: the unit that is given up on after it timed out or refused."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class _Fault:
    """What went wrong with one download attempt, in words, and what to do about it."""

    cause: str  # "timed out (no answer in 15 s)", "connection refused", "HTTP 404 Not Found", ...
    transient: bool = False  # worth another attempt at the same URL
    dead: bool = False  # the host does not answer: do not ask it for other files either


def _chain(err: BaseException) -> list[BaseException]:
    """``err`` and the exceptions it wraps (causes, contexts, urllib3 ``reason`` and ``args``)."""
    out: list[BaseException] = []
    stack: list[object] = [err]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or any(e is seen for seen in out):
            continue
        out.append(e)
        stack += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return out


def _classify(err: BaseException) -> _Fault:
    """Name the real cause of a failed download (``requests``/``urllib3``/pooch exception)."""
    import requests
    import urllib3.exceptions

    if isinstance(err, requests.HTTPError):
        response = err.response
        code = response.status_code if response is not None else 0
        reason = f" {response.reason}" if response is not None and response.reason else ""
        return _Fault(f"HTTP {code}{reason}", transient=code >= 500 or code == 429)
    chain = _chain(err)
    for e in chain:
        if isinstance(e, urllib3.exceptions.IncompleteRead):
            got, more = e.partial, e.expected
            if isinstance(got, int) and isinstance(more, int):
                return _Fault(f"truncated transfer ({got} of {got + more} bytes)", transient=True)
            return _Fault("truncated transfer (fewer bytes than Content-Length)", transient=True)
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return _Fault("connection refused", dead=True)
        if isinstance(e, socket.gaierror):
            return _Fault("unknown host (name resolution failed)", dead=True)
        if isinstance(e, ConnectionResetError):
            return _Fault("connection reset", transient=True)
    for e in chain:  # urllib3's NewConnectionError is a timeout class too: looked at above first
        if isinstance(e, (TimeoutError, requests.Timeout, urllib3.exceptions.TimeoutError)):
            return _Fault(f"timed out (no answer in {timeout_s():g} s, {TIMEOUT_ENV})", dead=True)
    if isinstance(err, ValueError) and "hash" in str(err).lower():
        return _Fault("hash mismatch (SHA-256 differs from datasets.yaml)")
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return _Fault(f"transfer interrupted ({_short(err)})", transient=True)
    if isinstance(err, requests.ConnectionError):
        return _Fault(f"connection failed ({_short(err)})", transient=True)
    return _Fault(_short(err))


def _download(url: str, source: Source, archives: Path) -> Path:
    """Download ``url`` to ``archives/<source.file>`` with pooch; reuse a complete earlier download.

    Each attempt waits at most ``timeout_s()`` for a connection and for each read. Only transient
    faults (5xx, a reset or truncated transfer) are retried; a timeout, a refused connection, a
    4xx answer or a hash mismatch fails at once with the URL and the cause.
    """
    import pooch
    import requests

    logger = pooch.get_logger()
    if not any(isinstance(f, _QuietHashAdvice) for f in logger.filters):
        logger.addFilter(_QuietHashAdvice())
    progress = sys.stderr.isatty()
    wait = timeout_s()
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=(wait, wait))
    known = f"sha256:{source.sha256}" if source.sha256 else None
    attempts = RETRIES + 1
    for attempt in range(attempts):
        try:
            with downloading(archives):  # a killed download's temporary file is removed next time
                path = Path(
                    pooch.retrieve(url, known, fname=source.file, path=archives, downloader=downloader)
                )
            path.chmod(file_mode())  # pooch's temporary file was 0600
            return path
        except (requests.RequestException, ValueError) as e:
            fault = _classify(e)
        except OSError as e:  # the cache side: a full disk, an unwritable folder
            raise local_error(e, archives / source.file, f"downloading {url}") from None
        if not fault.transient or attempt == attempts - 1:
            break
        time.sleep(BACKOFF_S * (attempt + 1))
    tries = f" (after {attempt + 1} attempts)" if attempt else ""
    raise SourceFailed(f"{url}: {fault.cause}{tries}", dead_host=host_of(url) if fault.dead else None)


def get_archive(
    location: str, source: Source, archives: Path, dead_hosts: set[str] | None = None
) -> tuple[Path, bool]:
    """The archive at ``location`` (URL or local file) as a local path, and whether it is ours
    (downloaded into the cache, so it may be deleted if corrupt or if it gave a wrong copy).

    A URL on a host in ``dead_hosts`` (one that timed out or refused earlier) is not asked again;
    a host that fails that way now is added to it.
    """
    if is_url(location):
        dead = dead_hosts if dead_hosts is not None else set()
        host = host_of(location)
        cached = archives / source.file
        if host in dead and not cached.is_file():
            raise SourceFailed(f"{location}: skipped, {host} did not answer before")
        try:
            return _download(location, source, archives), True
        except SourceFailed as e:
            if e.dead_host:
                dead.add(e.dead_host)
            raise
    path = Path(location)
    if source.sha256 and sha256_file(path) != source.sha256:
        raise SourceFailed(f"{path}: SHA-256 differs from datasets.yaml ({source.sha256[:12]}...)")
    return path, False


def write_stream(stream: IO[bytes], target: Path) -> None:
    """Copy ``stream`` into the new file ``target`` (mode from the umask); a failed write names
    ``target`` in its ``OSError`` (a full disk reports no file name of its own)."""
    try:
        with open(target, "xb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
    except OSError as e:
        if e.filename is None:
            raise OSError(e.errno, e.strerror or str(e), str(target)) from None
        raise


def _matches(member: str, patterns: tuple[str, ...]) -> bool:
    name = PurePosixPath(member).name
    return is_image_file(Path(name)) and any(fnmatch.fnmatchcase(member, p) for p in patterns)


def extract_members(archive: Path, source: Source, dest: Path) -> list[Path]:
    """Write the members of ``archive`` that match ``source.members`` flat into ``dest``.

    Raises :class:`SourceFailed` when the archive is corrupt or truncated, when nothing matches,
    or when two members share a file name. Only file names are used, so no member can write
    outside ``dest``.
    """
    written: list[Path] = []

    def put(member: str, stream: IO[bytes]) -> None:
        target = dest / PurePosixPath(member).name
        if target.exists():
            raise SourceFailed(f"{archive.name}: two members named {target.name}; unexpected layout")
        write_stream(stream, target)
        written.append(target)

    try:
        if source.format == "zip":
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    if not info.is_dir() and _matches(info.filename, source.members):
                        with zf.open(info) as stream:
                            put(info.filename, stream)
        elif source.format in ("tar", "tar.gz"):
            with tarfile.open(archive, "r:*") as tf:
                for m in tf:
                    if m.isfile() and _matches(m.name, source.members):
                        stream = tf.extractfile(m)
                        if stream is not None:
                            put(m.name, stream)
        else:
            raise ValueError(f"unknown archive format {source.format!r}")
    except _CORRUPT as e:
        raise SourceFailed(f"{archive}: corrupt or truncated archive ({_short(e)})") from None
    if not written:
        raise SourceFailed(
            f"{archive.name}: no member matches {', '.join(source.members)}; the archive layout "
            f"differs from datasets.yaml"
        )
    return written


def remove_stale_downloads(archives: Path) -> None:
    """Remove pooch's temporary ``tmp*`` downloads in ``archives`` that a killed run left. When no
    process is downloading (nobody holds :func:`downloading`'s lock on the folder: a process killed
    with SIGKILL holds none), every one of them; otherwise only those not written to for
    ``STALE_DOWNLOAD_S`` (a live download writes at least once per timeout; also the rule where the
    file system has no ``flock``, or a process of another machine may share the cache)."""
    if not archives.is_dir():
        return
    now = time.time()
    quiet = max(STALE_DOWNLOAD_S, 2 * timeout_s())
    with _folder_lock(archives, exclusive=True) as alone:
        for p in archives.glob("tmp*"):
            try:
                if p.is_file() and (alone or now - p.stat().st_mtime > quiet):
                    p.unlink()
            except OSError:
                pass


@contextmanager
def downloading(archives: Path) -> Iterator[None]:
    """Held while this process downloads into ``archives``: a shared ``flock`` on the folder itself
    (no lock file is left), released by the kernel when the process ends however it ends."""
    with contextlib.suppress(OSError):
        archives.mkdir(parents=True, exist_ok=True)
    with _folder_lock(archives, exclusive=False):
        yield


@contextmanager
def _folder_lock(folder: Path, exclusive: bool) -> Iterator[bool]:
    """An ``flock`` on ``folder`` (shared, waiting; or exclusive, not waiting): whether it was had."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX | fcntl.LOCK_NB) if exclusive else fcntl.LOCK_SH)
            had = True
        except OSError:
            had = False
        yield had
    finally:
        os.close(fd)
