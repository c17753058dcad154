"""The weight files of the metrics and losses (:data:`WEIGHTS`) in the torch hub cache: where they
are, whether they are the published ones (:func:`require`), fetching them, and the per-process cache of
the networks built from them (:func:`load_network`); see :mod:`srbench_eval.weights`.

Every file is found the same way as a published model's: the cache (the hub folder, where the
libraries read it), then a mirror (``--mirror`` / ``$SRBENCH_MIRROR``: a folder or base URL holding
``weights/<file name>``, beside ``Set5/HR/...`` and the published models' ``weights/<path>``), copied
into the cache after its SHA-256 is checked, then (``weights fetch`` only) its public URL.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import urllib.error
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from srbench_eval.data.datasets.download import is_url, resolve_mirror
from srbench_eval.digests import sha256_file_memo
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.files import copy_atomic
from srbench_eval.registry import Registry

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


FILES: Registry[WeightFile] = Registry("weights", source=lambda: WEIGHTS)
"""The registry view of :data:`WEIGHTS` (a plain dict, so that tests can swap an entry)."""


def get(key: str) -> WeightFile:
    """The weight file ``key``; an unknown key is a one-line user error with a suggestion."""
    return FILES.get(key)


def path_of(key: str) -> Path:
    return checkpoint_dir() / get(key).filename


def is_genuine(key: str) -> bool:
    """True when the file is present and its SHA-256 starts with the published prefix."""
    p = path_of(key)
    return p.is_file() and sha256_file_memo(p).startswith(get(key).sha256_prefix)


_active_mirror: list[str | None] = [None]


@contextlib.contextmanager
def mirror_in_use(mirror: str | None) -> Iterator[None]:
    """Within the block, :func:`require` looks in ``mirror`` (a run's or a training's ``--mirror``)
    when a file is not in the cache; outside, in ``$SRBENCH_MIRROR`` only."""
    before = _active_mirror[0]
    _active_mirror[0] = mirror if mirror is not None else before
    try:
        yield
    finally:
        _active_mirror[0] = before


def mirror_location(key: str, mirror: str | None = None) -> str | None:
    """``<mirror>/weights/<file name>`` of ``key``: the URL under a URL mirror, the path when a mirror
    folder holds the file, else None (``mirror``: ``--mirror``, else the active one, else
    ``$SRBENCH_MIRROR``)."""
    base = resolve_mirror(mirror if mirror is not None else _active_mirror[0])
    if not base:
        return None
    if is_url(base):
        return base.rstrip("/") + "/weights/" + get(key).filename
    found = Path(base) / "weights" / get(key).filename
    return str(found) if found.is_file() else None


def _download(url: str, dest: Path, w: WeightFile, progress: bool) -> None:
    """``url`` into ``dest`` through torch.hub's downloader (temporary file, SHA-256 prefix, rename)."""
    import torch

    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(dest), hash_prefix=w.sha256_prefix, progress=progress)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", None) or e
        raise SrbenchError(
            f"cannot download {url} ({reason}): on a machine without internet, put {w.filename} in "
            f"{dest.parent} or in a mirror as <mirror>/weights/{w.filename} (--mirror or $SRBENCH_MIRROR)"
        ) from None
    except RuntimeError as e:  # torch.hub: 'invalid hash value (expected ..., got ...)'
        raise SrbenchError(f"{url}: downloaded file failed its SHA-256 prefix check ({e})") from None


def from_mirror(key: str, mirror: str | None = None, progress: bool = False) -> bool:
    """Copy (or download) ``key``'s file from the mirror into the cache, its SHA-256 checked first
    (stand-ins only where the tests allow them); False when no mirror holds it."""
    where = mirror_location(key, mirror)
    if where is None:
        return False
    w, dest = get(key), path_of(key)
    if is_url(where):
        _download(where, dest, w, progress)
        return True
    digest = sha256_file_memo(Path(where))
    if not digest.startswith(w.sha256_prefix) and os.environ.get(ALLOW_STAND_INS_ENV) != "1":
        raise SrbenchError(
            f"{where}: SHA-256 does not start with {w.sha256_prefix}; not the published {w.filename}"
        )
    copy_atomic(Path(where), dest)
    return True


def require(key: str, user: str, mirror: str | None = None) -> Path:
    """Make sure the weights ``key`` are present before ``user`` (e.g. "metric lpips") loads them: in
    the cache, else copied from the mirror (:func:`from_mirror`).

    Raises a one-line :class:`SrbenchError` naming the user, the file, its URL and where to put it
    when the file is missing, and refuses stand-in weights unless the tests allow them.
    """
    w = get(key)
    p = path_of(key)
    if not p.is_file() and not from_mirror(key, mirror):
        raise SrbenchError(
            f"{user} needs the weights file {w.filename}, not found in {p.parent} (follows $TORCH_HOME) nor "
            f"in a mirror as <mirror>/weights/{w.filename}: run 'srbench-eval weights fetch {key}' on a "
            f"connected machine (or with --mirror DIR), or download {w.url} into one of them"
        )
    if not is_genuine(key):
        if os.environ.get(ALLOW_STAND_INS_ENV) != "1":
            raise SrbenchError(
                f"{p}: SHA-256 does not start with {w.sha256_prefix}; these are not the published "
                f"weights {user} needs. Replace the file with {w.url}"
            )
        _stand_ins_seen.add(key)
    return p


def keys_of(user: str) -> list[str]:
    """The weights keys a metric or loss (``metric lpips``, ``loss vgg``) loads; [] for none."""
    return [k for k, w in WEIGHTS.items() if user in w.used_by]


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


def status(key: str, mirror: str | None = None) -> WeightStatus:
    """Check one file (hashes it when present; the hash is remembered for this process): the cached
    copy, else the copy a mirror folder holds (``mirror``, else ``$SRBENCH_MIRROR``), as :func:`require`
    would find it."""
    p = path_of(key)
    if not p.is_file():
        where = mirror_location(key, mirror)
        if where is None or is_url(where):
            return WeightStatus(get(key), p, "missing")
        genuine = sha256_file_memo(Path(where)).startswith(get(key).sha256_prefix)
        return WeightStatus(get(key), Path(where), "ok" if genuine else "mismatch")
    return WeightStatus(get(key), p, "ok" if is_genuine(key) else "mismatch")


def fetch(key: str, progress: bool = True, mirror: str | None = None) -> WeightStatus:
    """Put the published file for ``key`` into the hub cache: from the mirror (:func:`from_mirror`),
    else from its URL. A present genuine file is kept; a present
    non-genuine one (a stand-in, a broken copy) is replaced."""
    cached = path_of(key)
    if cached.is_file() and is_genuine(key):
        return status(key)
    w = get(key)
    if from_mirror(key, mirror, progress) and is_genuine(key):
        return status(key)
    _download(w.url, cached, w, progress)
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
