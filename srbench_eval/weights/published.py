"""The weight files of the published models: their store, pins, hashes, mirror and download
(see the comment below and :mod:`srbench_eval.weights`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from srbench_eval.digests import sha256_file_memo
from srbench_eval.errors import SrbenchError
from srbench_eval.files import copy_atomic, write_bytes_atomic

if TYPE_CHECKING:  # torch loads with the networks: `weights list` never needs it
    pass

# --------------------------------------------------------------------------- published models
#
# The files of the published models (srbench_eval/models/published/published.yaml) live in
# ``$SRBENCH_DATA/weights/<relative path>`` (default ``~/.cache/srbench-eval/weights``). They are
# looked for there, then in a mirror (``--mirror`` / ``$SRBENCH_MIRROR``: a folder or a base URL
# holding ``weights/<relative path>``, next to ``Set5/HR/...``; ``weights fetch`` copies it into the
# cache), then downloaded from the public URLs
# through pooch (``SRBENCH_OFFLINE=1`` skips those). Every file is hashed before use:
#
# * a full published/recorded ``sha256`` must match exactly;
# * a ``sha256_prefix`` (BasicSR / torchvision names) must be the start of the file's SHA-256;
# * a file with neither is used only with a hash the user pinned after checking the file
#   themselves (``SRBENCH_PIN_<KEY>_X<SCALE>=HEX``, e.g. ``SRBENCH_PIN_REALESRGAN_X4PLUS_X4``, or
#   ``weights fetch NAME@pub --sha256 HEX``, which records the pin next to the cached file as
#   ``<relative path>.pinned-sha256``); the file's SHA-256 goes into the provenance.
#
# A file whose hash differs is refused in one line (and deleted if we downloaded it).

PIN_ENV_PREFIX = "SRBENCH_PIN_"


def published_dir() -> Path:
    """Where published model files are cached: ``$SRBENCH_DATA/weights``."""
    from srbench_eval.data.datasets.download import data_dir

    return data_dir() / "weights"


def pin_env(key: str, scale: int | None) -> str:
    """The environment variable that pins the SHA-256 of ``key``'s file (x``scale``)."""
    name = "".join(c if c.isalnum() else "_" for c in key.upper())
    return f"{PIN_ENV_PREFIX}{name}" + (f"_X{scale}" if scale else "")


def pin_file(rel_path: str) -> Path:
    """Where ``weights fetch --sha256`` records a user's pin for the published file ``rel_path``."""
    return published_dir() / (rel_path + ".pinned-sha256")


def expected_hash(key: str, f: object, pin: str | None = None) -> tuple[str, str] | None:
    """``(kind, hex)`` the file must match: ``("sha256", full)``, ``("pinned", full)`` (argument,
    environment, recorded pin) or ``("prefix", hex)``; ``None`` when nothing is known (refused)."""
    sha, prefix = getattr(f, "sha256", None), getattr(f, "sha256_prefix", None)
    pin = pin or os.environ.get(pin_env(key, getattr(f, "scale", None)))
    recorded = pin_file(str(getattr(f, "path", "")))
    if not pin and recorded.is_file():
        pin = recorded.read_text().strip()
    if sha:
        return "sha256", sha.lower()
    if pin:
        return "pinned", pin.strip().lower()
    if prefix:
        return "prefix", prefix.lower()
    return None


def check_published(path: Path, key: str, f: object, pin: str | None = None) -> str:
    """Hash ``path`` and compare (see above); returns the SHA-256, raises a one-line refusal."""
    want = expected_hash(key, f, pin)
    digest = sha256_file_memo(path)
    if want is None:
        raise SrbenchError(
            f"{path}: no published SHA-256 for {key} ({getattr(f, 'path', '')}); check the file and pin it: "
            f"{pin_env(key, getattr(f, 'scale', None))}={digest} (or 'srbench-eval weights fetch {key}@pub "
            f"--sha256 HEX')"
        )
    kind, hexd = want
    ok = digest.startswith(hexd) if kind == "prefix" else digest == hexd
    if not ok:
        raise SrbenchError(
            f"{path}: SHA-256 {digest[:16]}... does not match the {kind} hash {hexd[:16]}... of {key}; "
            f"refusing a file that is not the published one"
        )
    return digest


def published_locations(rel_path: str, urls: Iterable[str], mirror: str | None) -> list[str]:
    """Where a published file is looked for after the cache: the mirror, then the public URLs."""
    from srbench_eval.data.datasets.download import is_url, offline, resolve_mirror

    mirror = resolve_mirror(mirror)
    out = []
    if mirror and is_url(mirror):
        out.append(mirror.rstrip("/") + "/weights/" + rel_path)
    elif mirror and (Path(mirror) / "weights" / rel_path).is_file():
        out.append(str(Path(mirror) / "weights" / rel_path))
    if not offline():
        out.extend(urls)
    return out


def _fetch_url(url: str, dest: Path) -> Path:
    """Download ``url`` to ``dest`` through pooch (temporary file, renamed into place)."""
    import pooch
    import requests

    from srbench_eval.data.datasets.download import _QuietHashAdvice

    logger = pooch.get_logger()
    if not any(isinstance(f, _QuietHashAdvice) for f in logger.filters):
        logger.addFilter(_QuietHashAdvice())
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        return Path(
            pooch.retrieve(
                url,
                None,
                fname=dest.name,
                path=dest.parent,
                downloader=pooch.HTTPDownloader(progressbar=False),
            )
        )
    except (requests.RequestException, ValueError, OSError) as e:
        raise SrbenchError(
            f"{url}: download failed ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
        ) from None


def published_path(
    entry: object,
    f: object,
    *,
    mirror: str | None = None,
    download: bool = True,
    pin: str | None = None,
    keep: bool = False,
) -> tuple[Path, str]:
    """The verified local file ``f`` of published model ``entry`` and its SHA-256 (see above);
    ``keep`` (``weights fetch``): a file found in a mirror folder is copied into the cache, so that
    ``weights list`` and runs without the mirror find it there."""
    key = entry.key  # type: ignore[attr-defined]
    rel = f.path  # type: ignore[attr-defined]
    found, digest = _published_path(key, f, rel, mirror, download, pin, keep)
    if pin and not getattr(f, "sha256", None) and expected_hash(key, f) != ("pinned", digest):
        write_bytes_atomic(pin_file(rel), (digest + "\n").encode())
    return found, digest


def _published_path(
    key: str, f: object, rel: str, mirror: str | None, download: bool, pin: str | None, keep: bool
) -> tuple[Path, str]:
    cached = published_dir() / rel
    if cached.is_file():
        return cached, check_published(cached, key, f, pin)
    failures = []
    for loc in published_locations(rel, f.urls if download else (), mirror):  # type: ignore[attr-defined]
        if not loc.startswith(("http://", "https://")):  # a mirror folder: used in place, or cached
            digest = check_published(Path(loc), key, f, pin)
            if not keep:
                return Path(loc), digest
            copy_atomic(Path(loc), cached)
            return cached, digest
        try:
            got = _fetch_url(loc, cached)
        except SrbenchError as e:
            failures.append(str(e))
            continue
        try:
            return got, check_published(got, key, f, pin)
        except SrbenchError:
            got.unlink(missing_ok=True)
            raise
    why = "; ".join(failures) or "no mirror holds it and no public URL is recorded or allowed"
    raise SrbenchError(
        f"{key}@pub: weights file {rel} not found ({why}): put it in {published_dir()}/{rel} or in a mirror "
        f"as <mirror>/weights/{rel}"
    )


def published_status(entry: object, f: object, mirror: str | None = None) -> tuple[str, Path | None]:
    """(``ok``/``missing``/``mismatch``/``unpinned``, local path) of a published file, no download."""
    key = entry.key  # type: ignore[attr-defined]
    rel = f.path  # type: ignore[attr-defined]
    candidates = [published_dir() / rel]
    candidates += [
        Path(p) for p in published_locations(rel, (), mirror) if not p.startswith(("http:", "https:"))
    ]
    for p in candidates:
        if p.is_file():
            if expected_hash(key, f) is None:
                return "unpinned", p
            try:
                check_published(p, key, f)
            except SrbenchError:
                return "mismatch", p
            return "ok", p
    return "missing", None
