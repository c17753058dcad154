"""Fetching dataset archives and unpacking their HR images, without ever leaving half a copy.

* Where: the cache is ``$SRBENCH_DATA`` (default ``~/.cache/srbench-eval``): archives in
  ``archives/``, datasets in ``<name>/HR/``, hash stamps in ``.stamps/``.
* Mirrors: ``$SRBENCH_MIRROR`` or ``--mirror`` names a local folder or a base URL that is asked for
  each archive (by its ``file`` name) before the public URL. ``SRBENCH_OFFLINE=1`` skips the public
  URLs entirely (an air-gapped machine then fails fast instead of waiting on timeouts).
* Downloads go through pooch (progress bar, SHA-256 check when the archive hash is known, a
  temporary file renamed into place); this module adds retries with back-off for network errors
  and no retry for a 4xx answer.
* Unpacking writes the selected members into a temporary folder next to the target; the caller
  verifies it and :func:`replace_dir` swaps it in with renames, so an interrupted or failed run
  leaves the previous copy (if any) untouched. A corrupt or truncated archive that was downloaded
  is deleted so that the next run fetches it again.
"""

from __future__ import annotations

import fnmatch
import gzip
import logging
import lzma
import os
import shutil
import sys
import tarfile
import time
import urllib.parse
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urlparse

from srbench_eval.data.images import is_image_file, sha256_file
from srbench_eval.errors import SrbenchError

DATA_ENV = "SRBENCH_DATA"
MIRROR_ENV = "SRBENCH_MIRROR"
OFFLINE_ENV = "SRBENCH_OFFLINE"

RETRIES = 2  # extra attempts after a network error or a hash mismatch
TIMEOUT = (15, 60)  # requests (connect, read) timeouts in seconds
ARCHIVE_FORMATS = ("zip", "tar", "tar.gz")

_CORRUPT = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError)


class SourceFailed(Exception):
    """One source (mirror file, mirror URL or public URL) could not give the images; try the next."""


@dataclass(frozen=True)
class Source:
    """One public archive holding a dataset's HR images (an entry under ``sources:`` in the yaml)."""

    url: str
    format: str
    members: tuple[str, ...]
    file: str
    sha256: str | None = None
    note: str = ""


def data_dir() -> Path:
    """The cache folder: ``$SRBENCH_DATA`` or ``~/.cache/srbench-eval``."""
    return Path(os.environ.get(DATA_ENV) or Path.home() / ".cache" / "srbench-eval").expanduser()


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


def _download(url: str, source: Source, archives: Path) -> Path:
    """Download ``url`` to ``archives/<source.file>`` with pooch; reuse a complete earlier download."""
    import pooch
    import requests

    logger = pooch.get_logger()
    if not any(isinstance(f, _QuietHashAdvice) for f in logger.filters):
        logger.addFilter(_QuietHashAdvice())
    progress = sys.stderr.isatty()
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=TIMEOUT)
    known = f"sha256:{source.sha256}" if source.sha256 else None
    last: BaseException | None = None
    for attempt in range(RETRIES + 1):
        try:
            return Path(pooch.retrieve(url, known, fname=source.file, path=archives, downloader=downloader))
        except requests.HTTPError as e:
            code = e.response.status_code if e.response is not None else 0
            if 400 <= code < 500:
                raise SourceFailed(f"{url}: HTTP {code}") from None
            last = e
        except (requests.RequestException, ValueError, OSError) as e:
            last = e
        if attempt < RETRIES:
            time.sleep(attempt + 1)
    interrupted = isinstance(last, requests.exceptions.ChunkedEncodingError)
    if isinstance(last, requests.ConnectionError) and not interrupted:
        host = urllib.parse.urlsplit(url).netloc
        raise SourceFailed(f"{host}: cannot connect after {RETRIES + 1} attempts")
    what = "download interrupted" if interrupted else "failed"
    raise SourceFailed(f"{url}: {what} after {RETRIES + 1} attempts ({_short(last) if last else '?'})")


def get_archive(location: str, source: Source, archives: Path) -> tuple[Path, bool]:
    """The archive at ``location`` (URL or local file) as a local path, and whether it is ours
    (downloaded into the cache, so it may be deleted if corrupt)."""
    if is_url(location):
        return _download(location, source, archives), True
    path = Path(location)
    if source.sha256 and sha256_file(path) != source.sha256:
        raise SourceFailed(f"{path}: SHA-256 differs from datasets.yaml ({source.sha256[:12]}...)")
    return path, False


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
        with open(target, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
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


def replace_dir(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target`` by renames; an existing ``target`` is moved aside first
    and removed only after the new one is in place (put back if the swap fails)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(new, target)
        return
    except OSError:
        if not target.exists():
            raise
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def remove_stale(root: Path, name: str, max_age_s: float = 6 * 3600) -> None:
    """Remove ``.<name>.partial-*`` / ``.<name>.old-*`` folders left by a killed run (old ones only,
    so that a download running in another process keeps its folder)."""
    now = time.time()
    for p in [*root.glob(f".{name}.partial-*"), *root.glob(f".{name}.old-*")]:
        try:
            if now - p.stat().st_mtime > max_age_s:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass
