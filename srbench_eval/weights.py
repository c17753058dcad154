"""Pretrained network weights that metrics and losses need, found where their libraries look.

Every network is loaded through its library's own path (torchvision, lpips, pytorch-fid), which all
read ``<torch hub dir>/checkpoints/<file name>`` (``$TORCH_HOME/hub/checkpoints``, by default
``~/.cache/torch/hub/checkpoints``) and download there when the file is missing. This module lists
those files in one place so that they can be listed, fetched on a connected machine, verified, and
copied to an air-gapped one, and so that a missing file is a clear error instead of a network
traceback.

torchvision-style file names carry the first hex digits of the file's SHA-256 (``vgg19-dcbb9e9d.pth``);
a file whose hash does not start with them is not the published weights (for example the identically
seeded stand-in weights the tests use). Only that prefix is published, so verification is by prefix,
torchvision's own convention (``torch.hub.download_url_to_file(..., hash_prefix=...)``): 8 hex digits,
32 bits, enough to catch a wrong or truncated file, not to authenticate one. Results computed with
non-published files are never presented as real: :func:`require` refuses them unless
``SRBENCH_ALLOW_STAND_IN_WEIGHTS=1`` is set (the tests set it), and then :func:`stand_ins_used` reports
them for the run's provenance.

Air-gapped machines: run ``srbench-eval weights fetch`` on a connected machine, then copy its
``$TORCH_HOME/hub/checkpoints`` folder (``srbench-eval weights list`` prints it) to the same place on
the offline machine, and check it there with ``srbench-eval weights verify``.

Networks built from these files are cached per process by :func:`load_network`, so a metric object
built once per (model, dataset) loads its network once per process and device.
"""

from __future__ import annotations

import os
import sys
import threading
import urllib.error
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from srbench_eval.digests import sha256_file_memo
from srbench_eval.errors import SrbenchError, unknown_name

if TYPE_CHECKING:  # torch loads with the networks: `weights list` never needs it
    import torch

ALLOW_STAND_INS_ENV = "SRBENCH_ALLOW_STAND_IN_WEIGHTS"


@dataclass(frozen=True)
class WeightFile:
    """One weights file: its name in the hub cache, its public URL and its SHA-256 prefix."""

    key: str
    filename: str
    url: str
    sha256_prefix: str
    used_by: tuple[str, ...]


_TV = "https://download.pytorch.org/models/"

WEIGHTS: dict[str, WeightFile] = {
    w.key: w
    for w in [
        WeightFile(
            "alexnet",
            "alexnet-owt-7be5be79.pth",
            _TV + "alexnet-owt-7be5be79.pth",
            "7be5be79",
            ("metric lpips",),
        ),
        WeightFile(
            "vgg16",
            "vgg16-397923af.pth",
            _TV + "vgg16-397923af.pth",
            "397923af",
            ("metric lpips-vgg", "metric dists"),
        ),
        WeightFile(
            "vgg19", "vgg19-dcbb9e9d.pth", _TV + "vgg19-dcbb9e9d.pth", "dcbb9e9d", ("loss vgg", "loss dp")
        ),
        WeightFile(
            "resnet50",
            "resnet50-0676ba61.pth",
            _TV + "resnet50-0676ba61.pth",
            "0676ba61",
            ("loss resnet", "loss dp"),
        ),
        WeightFile(
            "inception-fid",
            "pt_inception-2015-12-05-6726825d.pth",
            "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
            "pt_inception-2015-12-05-6726825d.pth",
            "6726825d",
            ("metric fid", "metric fid-patch"),
        ),
        WeightFile(  # NIQE's pristine MVG (Mittal et al.'s modelparameters.mat, as BasicSR converted it)
            "niqe-pris",
            "niqe_pris_params.npz",
            "https://raw.githubusercontent.com/XPixelGroup/BasicSR/8d56e3a045f9fb3e1d8872f92ee4a4f07f886b0a/"
            "basicsr/metrics/niqe_pris_params.npz",
            "2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296",  # the whole SHA-256
            ("metric niqe",),
        ),
    ]
}

_stand_ins_seen: set[str] = set()


def checkpoint_dir() -> Path:
    """The folder torchvision, lpips and pytorch-fid read weights from: ``torch.hub.get_dir()``, or
    without importing torch (it is not loaded yet, so no ``set_dir`` happened) the same rule:
    ``$TORCH_HOME/hub``, ``$XDG_CACHE_HOME/torch/hub``, ``~/.cache/torch/hub``."""
    if "torch" in sys.modules:
        return Path(sys.modules["torch"].hub.get_dir()) / "checkpoints"
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return (
        Path(os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch"))))
        / "hub"
        / "checkpoints"
    )


def get(key: str) -> WeightFile:
    try:
        return WEIGHTS[key]
    except KeyError:
        raise unknown_name("weights", key, WEIGHTS) from None


def path_of(key: str) -> Path:
    return checkpoint_dir() / get(key).filename


def is_genuine(key: str) -> bool:
    """True when the file is present and its SHA-256 starts with the published prefix."""
    p = path_of(key)
    return p.is_file() and sha256_file_memo(p).startswith(get(key).sha256_prefix)


def require(key: str, user: str) -> Path:
    """Make sure the weights ``key`` are present before ``user`` (e.g. "metric lpips") loads them.

    Raises a one-line :class:`SrbenchError` naming the user, the file, its URL and where to put it
    when the file is missing, and refuses stand-in weights unless the tests allow them.
    """
    w = get(key)
    p = path_of(key)
    if not p.is_file():
        raise SrbenchError(
            f"{user} needs the weights file {w.filename}, not found in {p.parent}: run "
            f"'srbench-eval weights fetch' on a connected machine, or download {w.url} and put it there "
            f"(the folder follows $TORCH_HOME)"
        )
    if not is_genuine(key):
        if os.environ.get(ALLOW_STAND_INS_ENV) != "1":
            raise SrbenchError(
                f"{p}: SHA-256 does not start with {w.sha256_prefix}; these are not the published "
                f"weights {user} needs. Replace the file with {w.url}"
            )
        _stand_ins_seen.add(key)
    return p


def stand_ins_used() -> list[str]:
    """Keys of the stand-in (non-published) weights loaded so far in this process."""
    return sorted(_stand_ins_seen)


# --------------------------------------------------------------------------- list / fetch / verify


@dataclass(frozen=True)
class WeightStatus:
    """Where a weights file stands on this machine.

    ``state`` is ``"ok"`` (present, SHA-256 prefix matches), ``"missing"`` or ``"mismatch"``
    (present but not the published file, e.g. stand-in weights or a truncated download).
    """

    file: WeightFile
    path: Path
    state: str

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def keys_for(names: Iterable[str] = ()) -> list[str]:
    """Weights keys selected by ``names``: weights keys (``vgg19``) or users (``lpips``, ``fid``,
    ``loss vgg``, ``metric fid-patch``); no names selects every file."""
    names = list(names)
    if not names:
        return list(WEIGHTS)
    keys: list[str] = []
    for name in names:
        hits = (
            [name]
            if name in WEIGHTS
            else [k for k, w in WEIGHTS.items() if any(name in (u, u.split(" ", 1)[-1]) for u in w.used_by)]
        )
        if not hits:
            users = {u.split(" ", 1)[-1] for w in WEIGHTS.values() for u in w.used_by}
            raise unknown_name("weights or metric/loss", name, [*WEIGHTS, *users])
        keys.extend(k for k in hits if k not in keys)
    return keys


def status(key: str) -> WeightStatus:
    """Check one file (hashes it when present; the hash is remembered for this process)."""
    p = path_of(key)
    if not p.is_file():
        return WeightStatus(get(key), p, "missing")
    return WeightStatus(get(key), p, "ok" if is_genuine(key) else "mismatch")


def fetch(key: str, progress: bool = True) -> WeightStatus:
    """Download the published file for ``key`` into the hub cache, through ``torch.hub``'s own
    downloader (temporary file, SHA-256 prefix check, rename). A present genuine file is kept; a
    present non-genuine one (a stand-in, a broken copy) is replaced."""
    current = status(key)
    if current.ok:
        return current
    w = get(key)
    current.path.parent.mkdir(parents=True, exist_ok=True)
    import torch

    try:
        torch.hub.download_url_to_file(
            w.url, str(current.path), hash_prefix=w.sha256_prefix, progress=progress
        )
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", None) or e
        raise SrbenchError(
            f"cannot download {w.url} ({reason}): on a machine without internet, copy {w.filename} "
            f"from a connected machine's hub cache into {current.path.parent}"
        ) from None
    except RuntimeError as e:  # torch.hub: 'invalid hash value (expected ..., got ...)'
        raise SrbenchError(f"{w.url}: downloaded file failed its SHA-256 prefix check ({e})") from None
    return status(key)


# --------------------------------------------------------------------------- network cache


def file_identity(key: str) -> tuple[str, int, int]:
    """(resolved path, size, modification time) of the weights file: what caches of a network, or
    of features computed with it, are keyed on, so that a replaced file is never mixed with another."""
    p = path_of(key).resolve()
    st = p.stat()
    return str(p), st.st_size, st.st_mtime_ns


M = TypeVar("M", bound="torch.nn.Module")

_networks: dict[tuple[object, ...], torch.nn.Module] = {}
_networks_lock = threading.Lock()


def load_network(name: str, key: str, user: str, device: torch.device | str, build: Callable[[], M]) -> M:
    """Build a pretrained network once per process and device, after :func:`require`.

    ``build`` loads the network through its library's real path (which reads the hub cache), on
    the CPU; the result is moved to ``device``, set to eval mode and cached under ``name``, the
    device and the weights file's identity, so a replaced file (or another ``$TORCH_HOME``) is
    loaded afresh. :func:`require` runs on every call, so a missing file is always a clear error
    and never reaches a library's download code.
    """
    import torch

    require(key, user)
    cache_key = (name, str(torch.device(device)), *file_identity(key))
    with _networks_lock:
        net = _networks.get(cache_key)
        if net is None:
            net = build().to(device).eval()
            for p in net.parameters():
                p.requires_grad_(False)
            _networks[cache_key] = net
    return net  # type: ignore[return-value]


# --------------------------------------------------------------------------- published models
#
# The files of the published models (srbench_eval/models/published/published.yaml) live in
# ``$SRBENCH_DATA/weights/<relative path>`` (default ``~/.cache/srbench-eval/weights``). They are
# looked for there, then in a mirror (``--mirror`` / ``$SRBENCH_MIRROR``: a folder or a base URL
# holding ``weights/<relative path>``, next to ``Set5/HR/...``), then downloaded from the public URLs
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
    entry: object, f: object, *, mirror: str | None = None, download: bool = True, pin: str | None = None
) -> tuple[Path, str]:
    """The verified local file ``f`` of published model ``entry`` and its SHA-256 (see above)."""
    key = entry.key  # type: ignore[attr-defined]
    rel = f.path  # type: ignore[attr-defined]
    found, digest = _published_path(key, f, rel, mirror, download, pin)
    if pin and not getattr(f, "sha256", None) and expected_hash(key, f) != ("pinned", digest):
        from srbench_eval.data.io.images import write_bytes_atomic

        write_bytes_atomic(pin_file(rel), (digest + "\n").encode())
    return found, digest


def _published_path(
    key: str, f: object, rel: str, mirror: str | None, download: bool, pin: str | None
) -> tuple[Path, str]:
    cached = published_dir() / rel
    if cached.is_file():
        return cached, check_published(cached, key, f, pin)
    failures = []
    for loc in published_locations(rel, f.urls if download else (), mirror):  # type: ignore[attr-defined]
        if not loc.startswith(("http://", "https://")):
            return Path(loc), check_published(Path(loc), key, f, pin)
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
