"""The LR side of a paired dataset: LR images given, not made (``--degradation given``).

A paired dataset names, per scale, a folder of LR images (``datasets.yaml``: ``lr: {3: [DIRS]}``, each
directory relative to the mirror or the cache, the first that exists; on the command line
``--datasets NAME=HRDIR::LRDIR``). An LR folder holding subfolders named after scales (``x2``,
``X3``, ``x4``: the layout of RDN's ``LR/LRBD/Set5/x3``, EDSR's ``LR_bicubic/X2``) provides those
scales; a folder of LR images without them provides any scale, each LR checked against its HR's size.

Matching (:func:`match_lr`): an LR file belongs to the HR file whose *key* it shares, the stem with
its trailing markers removed, repeatedly: ``x<digits>`` (``0801x2``), and after ``_`` or ``-``
``HR``, ``LR<letters><digits>`` (``baby_LRBD_x3`` -> ``baby``, ``Canon_001_LR2`` -> ``Canon_001``,
``Canon_001_HR`` -> ``Canon_001``), case-insensitive; a stem is never reduced to nothing. An HR image
without an LR file is an error naming it; two LR files of one key are an error naming both.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from srbench_eval.data.datasets import cache
from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets.entry import Entry
from srbench_eval.data.datasets.folders import folder_images
from srbench_eval.digests import sha256_file
from srbench_eval.errors import SrbenchError

log = logging.getLogger(__name__)

_MARKER = re.compile(r"(?i)(x\d+|[_-](hr|lr[a-z]*\d*))$")
_SCALE_DIR = re.compile(r"(?i)^x(\d+)$")
ANY_SCALE = 0
"""The key of :attr:`LRSide.folders` for a folder of LR images that serves every scale."""


def image_key(stem: str) -> str:
    """``stem`` without its trailing scale and HR/LR markers (see the module docstring)."""
    while True:
        m = _MARKER.search(stem)
        if m is None or m.start() == 0:
            return stem
        stem = stem[: m.start()].rstrip("_-") or stem


@dataclass(frozen=True)
class LRSide:
    """Where a paired dataset's LR images are: a folder per scale (:data:`ANY_SCALE`: every scale),
    and whether LR and HR are registered at the same size (RealSR V3, DRealSR) rather than
    ``LR * scale = modcrop(HR)``."""

    folders: Mapping[int, Path] = field(default_factory=dict)
    same_size: bool = False

    def scales(self) -> list[int]:
        return sorted(s for s in self.folders if s != ANY_SCALE)

    def folder(self, scale: int, dataset: str) -> Path:
        """The LR folder at ``scale``, or a one-line error naming the scales the dataset provides."""
        found = self.folders.get(scale) or self.folders.get(ANY_SCALE)
        if found is None:
            have = ", ".join(f"x{s}" for s in self.scales()) or "none"
            raise SrbenchError(f"dataset {dataset} provides no LR images at x{scale} (its LR scales: {have})")
        return found


def lr_folder_side(folder: Path, same_size: bool = False) -> LRSide:
    """The :class:`LRSide` of a command-line LR folder: its scale subfolders, else itself for every scale."""
    if not folder.is_dir():
        raise SrbenchError(f"{folder}: no such LR folder")
    scaled = {
        int(m.group(1)): p for p in sorted(folder.iterdir()) if p.is_dir() and (m := _SCALE_DIR.match(p.name))
    }
    return LRSide(scaled or {ANY_SCALE: folder}, same_size)


def lr_cache(entry: Entry, scale: int) -> Path:
    """The cache's LR folder of a paired dataset at ``scale``: ``$SRBENCH_DATA/<name>/LR/x<scale>``."""
    return cache.data_dir() / entry.name / "LR" / f"x{scale}"


def _pins_file(folder: Path) -> Path:
    return folder.with_name(folder.name + ".sha256.json")


def install_lr(entry: Entry, mirror: str | None, *, force: bool = False) -> list[int]:
    """Put the LR images of every scale with ``lr_sources`` into the cache (:func:`lr_cache`), from
    the mirror's archive or the public URL, extracted aside and moved in whole; the scales installed.
    Without hashes in ``datasets.yaml`` the files' SHA-256 are pinned on this first install
    (``x<scale>.sha256.json`` beside the folder) and checked whenever the dataset is opened."""
    done = []
    for scale, sources in sorted(entry.lr_sources.items()):
        target = lr_cache(entry, scale)
        if not target.is_dir() or force:
            _install_scale(entry, scale, sources, mirror)
            done.append(scale)
    return done


def _install_scale(entry: Entry, scale: int, sources: Sequence[dl.Source], mirror: str | None) -> None:
    target = lr_cache(entry, scale)
    target.parent.mkdir(parents=True, exist_ok=True)
    (cache.data_dir() / "archives").mkdir(exist_ok=True)
    reasons = []
    for source in sources:
        for location in dl.archive_locations(source, mirror):
            staging = cache.temp_dir(target.parent, target.name)
            try:
                archive, _ = dl.get_archive(location, source, cache.data_dir() / "archives")
                files = dl.extract_members(archive, source, staging)
            except dl.SourceFailed as e:
                shutil.rmtree(staging, ignore_errors=True)
                reasons.append(str(e))
                continue
            pins = {p.name: entry.lr_sha256.get(p.name) or sha256_file(p) for p in files}
            _pins_file(target).write_text(json.dumps(pins, indent=1, sort_keys=True))
            cache.replace_dir(staging, target)
            return
    why = "; ".join(reasons) or "no source"
    raise SrbenchError(f"dataset {entry.name}: no source gave its x{scale} LR images ({why})")


def entry_lr_side(entry: Entry, mirror: str | None, strict: bool) -> LRSide:
    """The LR folders of a registered paired dataset: for each scale the first of its ``lr`` folders
    that exists in the mirror folder, else the cache's ``$SRBENCH_DATA/<name>/LR/x<scale>``; a scale
    found nowhere is left out (a run at it is refused naming the scales found). LR files whose
    SHA-256 is pinned (``lr_sha256``) are checked: a difference is a warning, an error with ``strict``."""
    folders: dict[int, Path] = {}
    for scale, rels in sorted(entry.lr.items()):
        candidates = [Path(mirror) / rel for rel in rels] if mirror else []
        candidates.append(lr_cache(entry, scale))
        found = next((c for c in candidates if c.is_dir()), None)
        if found is not None:
            folders[scale] = found
            _check_pinned(entry, found, strict)
    return LRSide(folders, entry.lr_same_size)


def _check_pinned(entry: Entry, folder: Path, strict: bool) -> None:
    local = _pins_file(folder)
    pins = {**(json.loads(local.read_text()) if local.is_file() else {}), **entry.lr_sha256}
    for p in folder_images(folder):
        pinned = pins.get(p.name)
        if pinned is not None and sha256_file(p) != pinned:
            message = f"{p}: SHA-256 differs from the one pinned for dataset {entry.name}; not comparable"
            if strict:
                raise SrbenchError(message + " (run without --strict to use it anyway)")
            log.warning(message)


def match_lr(hr_images: Sequence[Path], lr_folder: Path) -> dict[Path, Path]:
    """The LR file of every HR file (see the module docstring), the HR files themselves left out of
    ``lr_folder`` (a folder holding both); a one-line error naming the HR file without one, or the
    two LR files that claim one image."""
    by_key: dict[str, Path] = {}
    hr_files = {p.resolve() for p in hr_images}  # RealSR V3 keeps HR and LR in one folder
    for p in folder_images(lr_folder):
        if p.resolve() in hr_files:
            continue
        key = image_key(p.stem)
        if key in by_key:
            raise SrbenchError(f"{lr_folder}: two LR images of {key}: {by_key[key].name} and {p.name}")
        by_key[key] = p
    out: dict[Path, Path] = {}
    for hr in hr_images:
        lr = by_key.get(image_key(hr.stem))
        if lr is None:
            raise SrbenchError(f"{hr}: no LR image for it in {lr_folder} (looked for {image_key(hr.stem)}*)")
        out[hr] = lr
    return out


def hr_only(images: Sequence[Path]) -> list[Path]:
    """The HR files of a folder that holds HR and LR side by side (RealSR V3: ``Canon_001_HR.png``,
    ``Canon_001_LR2.png``): those whose stems end in ``HR``, or all when none does."""
    marked = [p for p in images if re.search(r"(?i)[_-]hr$", p.stem)]
    return marked or list(images)


__all__ = [
    "ANY_SCALE",
    "LRSide",
    "entry_lr_side",
    "hr_only",
    "install_lr",
    "lr_cache",
    "image_key",
    "lr_folder_side",
    "match_lr",
]
