"""The SR cache: a network's SR images kept under ``$SRBENCH_DATA/sr-cache``, keyed by what determines them.

An entry is one SR image. Its key is the SHA-256 of (:func:`entry_key`):

* the model: the SHA-256 of its checkpoint or weights file as its provenance records it (a file
  changed by one byte is another model) with a digest of the rest of its provenance (format
  options, recipe, size) and of the class that runs it, else the SHA-256 of its in-memory weights
  (:func:`~srbench_eval.models.network.state_sha256`); folders of SR images and the bicubic
  baseline are not cached (they cost nothing to remake);
* the model input: the SHA-256 of the LR pixels (bytes, dtype and shape) and the protocol fields
  that turn them into the network's input and its output into the SR image (every field but the
  scoring-only ``crop_border``, ``ssim`` and ``perceptual_crop``);
* the scale, the inference mode (:class:`~srbench_eval.models.inference.InferenceMode`) and the device
  class (``cpu``, or ``cuda`` with the GPU's name: float results differ between them).

An entry is a ``.npz`` file holding the SR array (as uint8 when it holds 8-bit values, with its
dtype) and, as JSON, the key's fields; it is served only
when the stored fields equal the asked ones and its shape is the HR's, else it is a miss (a damaged
entry is removed). Writes go to a temporary file in the entry's folder, then ``os.replace``: two runs
filling one entry leave one whole entry, never a torn one. ``SRBENCH_SR_CACHE=0`` or ``--no-cache``
turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from srbench_eval.compiled import is_tensor
from srbench_eval.data.datasets.cache import data_dir
from srbench_eval.files import dir_mode, file_mode
from srbench_eval.models.base import SRModel
from srbench_eval.models.inference import InferenceMode
from srbench_eval.models.loading import BicubicModel, FolderModel
from srbench_eval.models.network import state_sha256
from srbench_eval.protocol import Protocol

if TYPE_CHECKING:
    from srbench_eval.data.degrade.bicubic import Image

ENV = "SRBENCH_SR_CACHE"
_SCORING_ONLY = ("crop_border", "ssim", "perceptual_crop", "average", "psnr")


def cache_dir() -> Path:
    """``$SRBENCH_DATA/sr-cache``."""
    return data_dir() / "sr-cache"


def enabled_by_environment() -> bool:
    """False when ``$SRBENCH_SR_CACHE`` is ``0``, ``off`` or ``false``."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "off", "false", "no")


def model_digest(model: SRModel) -> str | None:
    """What identifies a model's weights (see the module docstring); ``None``: not cached."""
    if isinstance(model, BicubicModel | FolderModel):
        return None
    recorded = model.provenance.get("sha256")
    if isinstance(recorded, str) and recorded:
        # with the rest of the provenance (format options, recipe, size) and the class that runs it
        rest = {k: v for k, v in model.provenance.items() if k not in ("path", "source", "sha256")}
        text = json.dumps([type(model).__qualname__, rest], sort_keys=True, default=str)
        return f"file:{recorded}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    network = getattr(model, "network", None) or getattr(model, "fn", None)
    if network is not None and hasattr(network, "state_dict"):
        return f"state:{state_sha256(network)}"  # type: ignore[arg-type]
    return None


def device_class(device: object) -> str:
    """``cpu``, or ``cuda:<GPU name>``."""
    text = str(device)
    if not text.startswith("cuda"):
        return text.split(":")[0]
    import torch

    return f"cuda:{torch.cuda.get_device_name(torch.device(text))}"


def lr_digest(lr: Image) -> str:
    """SHA-256 of the LR pixels: bytes (C order), dtype and shape."""
    array = lr.detach().cpu().numpy() if is_tensor(lr) else np.asarray(lr)
    h = hashlib.sha256(f"{array.dtype}|{array.shape}|".encode())
    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def model_key(
    model_id: str, protocol: Protocol, scale: int, mode: InferenceMode, device: str
) -> dict[str, Any]:
    """The fields of an entry's key that are the same for every image of a model (recorded in
    ``summary.json``)."""
    rules = {f: v for f, v in protocol.fields().items() if f not in _SCORING_ONLY}
    return {
        "model": model_id,
        "protocol": rules,
        "scale": scale,
        "inference": mode.to_json(),
        "device": device,
    }


def entry_key(fields: dict[str, Any], lr: str) -> str:
    """The SHA-256 naming one entry: the model's key fields and the LR digest."""
    return hashlib.sha256(json.dumps({**fields, "lr": lr}, sort_keys=True).encode()).hexdigest()


@dataclass
class SRCache:
    """Entries under ``root`` (see the module docstring); ``hits``/``misses`` per (model, dataset)."""

    root: Path = field(default_factory=lambda: cache_dir())
    counts: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str, fields: dict[str, Any], shape: tuple[int, ...]) -> np.ndarray | None:
        """The SR array of entry ``key`` when its stored fields are ``fields`` and its shape ``shape``."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                stored, sr = json.loads(str(data["key"])), data["sr"].astype(str(data["dtype"]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            path.unlink(missing_ok=True)  # damaged: remade and rewritten
            return None
        return sr if stored == fields and tuple(sr.shape) == tuple(shape) else None

    def put(self, key: str, fields: dict[str, Any], sr: Image) -> None:
        """Write entry ``key`` atomically (a temporary file in its folder, then ``os.replace``)."""
        array = sr.detach().cpu().numpy() if is_tensor(sr) else np.asarray(sr)
        dtype = str(array.dtype)
        if array.size and array.min() >= 0 and array.max() <= 255 and np.array_equal(array, np.round(array)):
            array = array.astype(np.uint8)  # 8-bit values (the saved SR image): a quarter of the bytes
        folder = self.path(key).parent
        folder.mkdir(parents=True, exist_ok=True, mode=dir_mode())
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, sr=array, dtype=np.array(dtype), key=np.array(json.dumps(fields, sort_keys=True)))
            os.chmod(tmp, file_mode())
            os.replace(tmp, self.path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def count(self, model: str, dataset: str, hit: bool) -> None:
        c = self.counts.setdefault((model, dataset), [0, 0])
        c[0 if hit else 1] += 1


@dataclass(frozen=True)
class Entry:
    """One cache file, for ``cache list``."""

    path: Path
    size: int
    modified: float
    fields: dict[str, Any]


def entries(root: Path | None = None) -> Iterator[Entry]:
    """Every entry under ``root`` (default :func:`cache_dir`), with its key fields (``{}`` if unreadable)."""
    base = root or cache_dir()
    for path in sorted(base.glob("??/*.npz")) if base.is_dir() else ():
        try:
            with np.load(path, allow_pickle=False) as data:
                fields = json.loads(str(data["key"]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            fields = {}
        st = path.stat()
        yield Entry(path, st.st_size, st.st_mtime, fields)


def prune(
    root: Path | None = None, *, older_than_days: float = 0.0, model: str | None = None
) -> tuple[int, int]:
    """Remove entries last written more than ``older_than_days`` ago (0: all), of model digest
    ``model`` only when given, and unreadable ones; leftover temporary files of killed runs older
    than an hour. Returns (files removed, bytes freed)."""
    base = root or cache_dir()
    now, removed, freed = time.time(), 0, 0
    for e in list(entries(base)):
        old = now - e.modified >= older_than_days * 86400
        mine = model is None or str(e.fields.get("model", "")).endswith(model)
        if (old and mine) or not e.fields:
            e.path.unlink(missing_ok=True)
            removed, freed = removed + 1, freed + e.size
    for tmp in base.glob("??/.tmp-*") if base.is_dir() else ():
        if now - tmp.stat().st_mtime > 3600:
            freed += tmp.stat().st_size
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed, freed


__all__ = [
    "ENV",
    "Entry",
    "SRCache",
    "cache_dir",
    "device_class",
    "enabled_by_environment",
    "entries",
    "entry_key",
    "lr_digest",
    "model_digest",
    "model_key",
    "prune",
]
