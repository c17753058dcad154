"""Pretrained network weights that metrics and losses need, found where their libraries look.

Every network is loaded through its library's own path (torchvision, lpips, pytorch-fid), which all
read ``<torch hub dir>/checkpoints/<file name>`` (``$TORCH_HOME/hub/checkpoints``, by default
``~/.cache/torch/hub/checkpoints``) and download there when the file is missing. This module lists
those files in one place so that they can be listed, fetched on a connected machine, verified, and
copied to an air-gapped one, and so that a missing file is a clear error instead of a network
traceback.

torchvision-style file names carry the first hex digits of the file's SHA-256 (``vgg19-dcbb9e9d.pth``);
a file whose hash does not start with them is not the published weights (for example the identically
seeded stand-in weights the tests use). Results computed with such files are never presented as
real: :func:`require` refuses them unless ``SRBENCH_ALLOW_STAND_IN_WEIGHTS=1`` is set (the tests
set it), and then :func:`stand_ins_used` reports them for the run's provenance.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from srbench_eval.errors import SrbenchError, unknown_name

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
            "vgg16", "vgg16-397923af.pth", _TV + "vgg16-397923af.pth", "397923af", ("metric lpips-vgg",)
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
    ]
}

_stand_ins_seen: set[str] = set()


def checkpoint_dir() -> Path:
    """The folder torchvision, lpips and pytorch-fid read weights from."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def get(key: str) -> WeightFile:
    try:
        return WEIGHTS[key]
    except KeyError:
        raise unknown_name("weights", key, WEIGHTS) from None


def path_of(key: str) -> Path:
    return checkpoint_dir() / get(key).filename


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_genuine(key: str) -> bool:
    """True when the file is present and its SHA-256 starts with the published prefix."""
    p = path_of(key)
    return p.is_file() and sha256_of(p).startswith(get(key).sha256_prefix)


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
