"""One dataset of ``datasets.yaml``, as a record: what :mod:`~srbench_eval.data.datasets.registry`
parses and opens and :mod:`~srbench_eval.data.datasets.install` installs (both import it from here,
so neither imports the other for it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets.manifest import ImageHash


@dataclass(frozen=True)
class Entry:
    """One dataset of ``datasets.yaml``."""

    name: str
    title: str
    citation: str
    images: int
    note: str
    aliases: tuple[str, ...]
    mirror_dirs: tuple[str, ...]
    sources: tuple[dl.Source, ...]
    skimage_files: tuple[str, ...]
    manifest: dict[str, ImageHash] | None
    lr: dict[int, tuple[str, ...]] = field(default_factory=dict)  # scale -> LR folders (paired datasets)
    lr_same_size: bool = False  # LR registered at the HR's size (RealSR V3, DRealSR)
    lr_sha256: dict[str, str] = field(default_factory=dict)  # LR file name -> SHA-256 of its bytes
    lr_sources: dict[int, tuple[dl.Source, ...]] = field(default_factory=dict)  # scale -> LR archives


__all__ = ["Entry"]
