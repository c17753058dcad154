"""HR datasets: the registry in ``datasets.yaml``, folders of images, and opening a copy.

``open_dataset(spec)`` accepts a registry name (``set5``, an alias such as ``b100``, any case) or a
folder of HR images, either optionally behind a label (``mine=/data/good``: the label, a safe name
checked by :func:`srbench_eval.names.safe_name`, becomes the dataset's name; a
folder's name is otherwise its own, or its parent's for ``.../Set5/HR``). It returns a
:class:`Dataset`: the sorted image files, a digest of their pixel hashes for provenance and the
verification state against the manifest. Where a registry dataset comes from, in order:

1. the cache copy ``$SRBENCH_DATA/<name>/HR`` (made by a download, verified before it was moved in);
2. a local mirror folder holding one of the entry's ``mirror_dirs`` (``<mirror>/Set5/HR``): used in
   place, never copied, so ``--mirror ../shared/benchmarks`` costs no disk;
3. an install (``download=True``) by :func:`srbench_eval.data.datasets.install.install_dataset`: a local copy
   from the mirror folder, the mirror's archive (folder or base URL), then the public sources.

This module reads; :mod:`srbench_eval.data.datasets.install` writes the cache and never opens a dataset.
The demo set is read from the scikit-image package folder. Checking pixels needs a full decode;
the per-file hashes are remembered in a stamp keyed by file size and mtime (see
:mod:`srbench_eval.data.datasets.manifest`), so opening an unchanged copy again only stats its files.
A copy whose pixels differ from the manifest is logged as a warning and carried in
``Dataset.verified`` (published numbers would not be comparable); ``strict=True`` makes it an error.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from srbench_eval import yamlio
from srbench_eval.data.datasets import cache
from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets.entry import Entry
from srbench_eval.data.datasets.folders import folder_images
from srbench_eval.data.datasets.install import install_dataset
from srbench_eval.data.datasets.lr import LRSide, entry_lr_side, hr_only, install_lr, lr_folder_side
from srbench_eval.data.datasets.manifest import (
    CANONICAL,
    ImageHash,
    Verification,
    hash_images,
    manifest_digest,
    verify,
)
from srbench_eval.data.io.images import IMAGE_SUFFIXES
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.names import name_problem, safe_name
from srbench_eval.registry import Registry

__all__ = [
    "Dataset",
    "Entry",
    "Status",
    "cache_dir",
    "dataset_names",
    "dataset_status",
    "download_dataset",
    "find_entry",
    "folder_images",
    "get_entry",
    "load_registry",
    "locate",
    "open_dataset",
    "registry",
    "split_label",
    "verify_dataset",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dataset:
    """A set of HR images ready to evaluate or train on."""

    name: str  # registry name ("set5") or folder name for ad-hoc folders
    images: tuple[Path, ...]  # HR image files, sorted by name
    manifest_digest: str  # SHA-256 over the per-image pixel hashes, sorted by name
    verified: str  # "manifest ok" | "no manifest" | "differs from manifest: N images (...)" ...
    location: str = ""  # where the images were found, e.g. "cache /root/.cache/srbench-eval/set5/HR"
    ok: bool = True  # False when the copy differs from its manifest or has the wrong image count
    title: str = ""  # display name for tables ("Set5"); the folder name for ad-hoc folders
    lr: LRSide | None = None  # a paired dataset's LR images (data.datasets.lr), None: HR only

    def names(self) -> list[str]:
        """Image names (file stems), in the order of ``images``."""
        return [p.stem for p in self.images]


def _parse_sources(raw: list | None) -> tuple[dl.Source, ...]:
    return tuple(
        dl.Source(
            url=s["url"],
            format=s["format"],
            members=tuple(s["members"]),
            file=s.get("file") or s["url"].rstrip("/").rsplit("/", 1)[-1],
            sha256=s.get("sha256"),
            note=str(s.get("note", "")).strip(),
        )
        for s in raw or ()
    )


def _parse_entry(name: str, raw: dict) -> Entry:
    sources = _parse_sources(raw.get("sources"))
    lr_sources = {int(k): _parse_sources(v) for k, v in (raw.get("lr_sources") or {}).items()}
    for s in sources + tuple(s for group in lr_sources.values() for s in group):
        if s.format not in dl.ARCHIVE_FORMATS:
            raise ValueError(f"datasets.yaml: {name}: unknown archive format {s.format!r}")
    manifest = raw.get("manifest")
    return Entry(
        name=name,
        title=str(raw.get("title", name)),
        citation=" ".join(str(raw.get("citation", "")).split()),
        images=int(raw["images"] or 0),  # null: unknown (mirror-only paired sets), not checked
        note=" ".join(str(raw.get("note", "")).split()),
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        mirror_dirs=tuple(raw.get("mirror_dirs") or ()),
        sources=sources,
        skimage_files=tuple(raw.get("skimage_files") or ()),
        manifest=None if manifest is None else {str(k): ImageHash.parse(v) for k, v in manifest.items()},
        lr={int(k): tuple(str(d) for d in v) for k, v in (raw.get("lr") or {}).items()},
        lr_same_size=bool(raw.get("lr_same_size", False)),
        lr_sha256={str(k): str(v) for k, v in (raw.get("lr_sha256") or {}).items()},
        lr_sources=lr_sources,
    )


def load_registry(text: str) -> dict[str, Entry]:
    """Parse the text of a ``datasets.yaml``."""
    data = yamlio.safe_load(text)
    if data.get("canonical") != CANONICAL:
        raise ValueError(f"datasets.yaml: manifests use {data.get('canonical')!r}, this code {CANONICAL!r}")
    return {str(name): _parse_entry(str(name), raw) for name, raw in data["datasets"].items()}


@functools.cache
def registry() -> dict[str, Entry]:
    """The datasets of the packaged ``datasets.yaml``, by name."""
    return load_registry(importlib.resources.files("srbench_eval").joinpath("datasets.yaml").read_text())


DATASETS: Registry[Entry] = Registry(
    "dataset", key=lambda s: s.strip().lower(), source=lambda: registry(), aliases=lambda e: e.aliases
)
"""The datasets of :func:`registry` by name, looked up in any case or by an alias."""


def dataset_names() -> list[str]:
    return DATASETS.names()


def find_entry(spec: str) -> Entry | None:
    """The registry entry named ``spec`` or one of its aliases (any case), else None."""
    name = DATASETS.find(spec)
    return None if name is None else registry()[name]


def get_entry(spec: str) -> Entry:
    return DATASETS.get(spec)


# --- dataset specs: NAME, FOLDER or LABEL=NAME|FOLDER ------------------------------------------


def split_label(spec: str) -> tuple[str | None, str]:
    """Split ``LABEL=SPEC`` into the label and the registry name or folder it names.

    A spec without ``=`` before its first path separator, or an existing path that contains
    ``=``, has no label. The label must pass :func:`srbench_eval.names.safe_name`.
    """
    label, sep, rest = spec.partition("=")
    if not sep or "/" in label or "\\" in label or _exists(Path(spec).expanduser()):
        return None, spec
    safe_name("dataset label", label.strip(), f"in '{spec}'")
    if not rest.strip():
        raise SrbenchError(f"dataset {spec!r}: nothing after '='; write LABEL=FOLDER (e.g. mine=/data/HR)")
    return label.strip(), rest.strip()


def _hashes(images: Sequence[Path], rehash: bool) -> dict[str, ImageHash]:
    hashes = hash_images(images, cache.stamp_dir(), force=rehash)
    assert hashes is not None
    return hashes


UNCHECKED = "pixels not checked here"
"""``Dataset.verified`` of a copy opened with ``check_pixels=False``."""


def _finish(
    entry: Entry | None, name: str, images: list[Path], location: str, strict: bool, rehash: bool | None
) -> Dataset:
    """The :class:`Dataset` of ``images``; ``rehash=None``: without decoding (nor verifying) them."""
    title = entry.title if entry is not None else name
    if rehash is None:
        return Dataset(name, tuple(images), "", UNCHECKED, location, True, title)
    hashes = _hashes(images, rehash)
    if entry is None:
        result = Verification("no manifest", ok=True)
        digest = manifest_digest(hashes)
        same = [e.name for e in registry().values() if e.manifest and manifest_digest(e.manifest) == digest]
        if same:
            result = Verification(f"manifest ok (same images as {same[0]})", ok=True)
    else:
        result = verify(hashes, entry.manifest, entry.images or None)
    if not result.ok:
        message = f"dataset {name} ({location}): {result.status}; published numbers are not comparable"
        if strict:
            raise SrbenchError(message + " (run without --strict to use it anyway)")
        log.warning(message)
    elif result.notes:
        log.warning(f"dataset {name} ({location}): {'; '.join(result.notes)}")
    return Dataset(name, tuple(images), manifest_digest(hashes), result.status, location, result.ok, title)


def _open_folder(spec: str, label: str | None, strict: bool, rehash: bool | None) -> Dataset:
    folder = Path(spec).expanduser()
    if not _exists(folder):
        if _looks_like_name(spec):
            raise unknown_name("dataset", spec, dataset_names())
        raise SrbenchError(f"{folder}: no such folder; give a folder of HR images or a dataset name")
    if not folder.is_dir():
        raise SrbenchError(f"{folder}: not a folder; give a folder of HR images or a dataset name")
    images = folder_images(folder)
    if not images and (folder / "HR").is_dir():
        folder = folder / "HR"
        images = folder_images(folder)
    if not images:
        raise SrbenchError(
            f"{folder}: no image files ({' '.join(IMAGE_SUFFIXES)}) in this folder; point --datasets at a "
            f"folder of HR images"
        )
    name = label or _folder_name(folder, spec)
    return _finish(None, name, images, f"folder {folder.resolve()}", strict, rehash)


def _folder_name(folder: Path, spec: str) -> str:
    """The name a folder dataset travels under without a label: the folder's name, or its
    parent's for ``.../Set5/HR`` (``.`` and ``..`` resolved, symbolic links not followed)."""
    path = Path(os.path.abspath(folder))
    name = path.parent.name if path.name == "HR" and path.parent.name else path.name
    problem = name_problem(name)
    if problem is not None:
        raise SrbenchError(
            f"{folder}: the folder name {name!r} cannot name a dataset ({problem}); "
            f"give it a label: LABEL={spec}"
        )
    return name


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except ValueError:  # a NUL byte
        return False


def _looks_like_name(spec: str) -> bool:
    return "/" not in spec and "\\" not in spec and not spec.startswith((".", "~"))


# --- registry datasets ---------------------------------------------------------------------


def cache_dir(entry: Entry) -> Path:
    """Where the verified download of ``entry`` lives: ``$SRBENCH_DATA/<name>/HR``."""
    return cache.dataset_dir(entry.name)


def skimage_dir() -> Path:
    return Path(str(importlib.resources.files("skimage.data")))


def _skimage_images(entry: Entry) -> list[Path]:
    folder = skimage_dir()
    images = [folder / f for f in entry.skimage_files]
    for p in images:
        if not p.is_file():
            raise SrbenchError(
                f"{p}: missing from the scikit-image package data that the {entry.name} dataset reads; "
                f"reinstall scikit-image (pip install --force-reinstall scikit-image)"
            )
    return sorted(images, key=lambda p: p.name)


def locate(entry: Entry, mirror: str | None) -> tuple[list[Path], str] | None:
    """An existing copy of ``entry`` (images, location) without downloading, or None."""
    if entry.skimage_files:
        return _skimage_images(entry), f"scikit-image {skimage_dir()}"
    cached = cache_dir(entry)
    if cached.is_dir():
        images = folder_images(cached)
        if images:
            return images, f"cache {cached}"
    if mirror and not dl.is_url(mirror):
        for rel in entry.mirror_dirs:
            folder = Path(mirror) / rel
            if folder.is_dir():
                images = folder_images(folder)
                if images:
                    return images, f"mirror {folder}"
    return None


def _install(entry: Entry, mirror: str | None, strict: bool, force: bool) -> None:
    """Install a copy of ``entry`` into the cache
    (:func:`srbench_eval.data.datasets.install.install_dataset`)."""
    shared = frozenset(s.file for e in registry().values() if e.name != entry.name for s in e.sources)
    install_dataset(entry, mirror, force=force, strict=strict, shared_archives=shared)


def _open(spec: str, mirror: str | None, download: bool, strict: bool, rehash: bool | None) -> Dataset:
    label, spec = split_label(spec)
    spec, paired, lr_dir = spec.partition("::")
    if paired:  # HRDIR::LRDIR (or NAME::LRDIR): LR images given
        if not lr_dir.strip():
            raise SrbenchError(f"dataset {spec}::: nothing after '::'; write HRDIR::LRDIR")
        d = _open(spec if label is None else f"{label}={spec}", mirror, download, strict, rehash)
        return dataclasses.replace(d, lr=lr_folder_side(Path(lr_dir.strip()).expanduser()))
    entry = find_entry(spec)
    if label is not None:
        other = find_entry(label)
        if other is not None and other is not entry:
            raise SrbenchError(
                f"dataset label {label!r} is the registry dataset {other.name}, not {spec}; choose another "
                f"label (e.g. my{other.name}={spec})"
            )
    if entry is None:
        return _open_folder(spec, label, strict, rehash)
    mirror = dl.resolve_mirror(mirror)
    found = locate(entry, mirror)
    if found is None:
        if not download:
            raise SrbenchError(
                f"dataset {entry.name} is not in the cache ({cache_dir(entry)}) nor in a mirror folder: run "
                f"'srbench-eval datasets download {entry.name}', pass --mirror DIR, or use --datasets demo"
            )
        _install(entry, mirror, strict, force=False)
        found = (folder_images(cache_dir(entry)), f"cache {cache_dir(entry)}")
    images, location = found
    d = _finish(entry, entry.name, hr_only(images) if entry.lr else images, location, strict, rehash)
    if entry.lr:
        local = mirror if mirror and not dl.is_url(mirror) else None
        d = dataclasses.replace(d, lr=entry_lr_side(entry, local, strict))
    return d if label is None else dataclasses.replace(d, name=label, title=label)


def find_images(spec: str, mirror: str | None = None) -> list[Path]:
    """The HR files :func:`open_dataset` would open for ``spec``, found without downloading,
    decoding or writing anything; ``[]`` where it would download, fail or refuse (it then says why)."""
    try:
        label, spec = split_label(spec)
        entry = find_entry(spec)
        if entry is None:
            folder = Path(spec).expanduser()
            if not folder.is_dir():
                return []
            return folder_images(folder) or (folder_images(folder / "HR") if (folder / "HR").is_dir() else [])
        found = locate(entry, dl.resolve_mirror(mirror))
    except (SrbenchError, OSError):
        return []
    return found[0] if found else []


def open_dataset(
    spec: str,
    *,
    mirror: str | None = None,
    download: bool = True,
    strict: bool = False,
    check_pixels: bool = True,
) -> Dataset:
    """Open a registry dataset or a folder of HR images (see the module docstring).

    ``spec`` is a registry name, a folder, or either behind a label (``mine=/data/HR``): the
    label becomes the dataset's name. ``mirror`` defaults to ``$SRBENCH_MIRROR``. Raises
    :class:`SrbenchError` for an unknown name, a bad label, an empty folder, an unreadable image, a
    dataset that cannot be found or downloaded, and (with ``strict``) a copy that differs from the
    manifest.

    ``check_pixels=False`` lists the image files without decoding any (no pixel hashes, no
    manifest check: ``manifest_digest`` is empty and ``verified`` is :data:`UNCHECKED`), for the
    other ranks of a sharded run, which read only their own images while rank 0 checks the set.
    """
    return _open(spec, mirror, download, strict, rehash=False if check_pixels else None)


def verify_dataset(spec: str, *, mirror: str | None = None, strict: bool = False) -> Dataset:
    """Decode every image of an existing copy again and check it against the manifest (no download)."""
    return _open(spec, mirror, download=False, strict=strict, rehash=True)


def download_dataset(
    spec: str, *, mirror: str | None = None, strict: bool = False, force: bool = False
) -> Dataset:
    """Put a verified copy of a registry dataset into the cache (see
    :func:`srbench_eval.data.datasets.install.install_dataset`) and open it. An existing cache copy is
    kept unless ``force``; a copy that differs from the manifest never replaces one that matches."""
    entry = get_entry(spec)
    mirror = dl.resolve_mirror(mirror)
    if not entry.skimage_files:
        _install(entry, mirror, strict, force)
    install_lr(entry, mirror, force=force)
    return _open(entry.name, mirror, download=False, strict=strict, rehash=False)


@dataclass(frozen=True)
class Status:
    """What ``datasets list`` shows for one entry, found without decoding or downloading."""

    name: str
    images: int
    where: str  # "cache PATH" | "mirror PATH" | "scikit-image PATH" | "absent"
    verified: str  # the verification state from the stamp, or "not checked yet" / "-"


def dataset_status(entry: Entry, mirror: str | None = None) -> Status:
    """Where a copy of ``entry`` is and its last verification state (cheap: stats files only)."""
    found = locate(entry, dl.resolve_mirror(mirror))
    if found is None:
        return Status(entry.name, entry.images, "absent", "-")
    images, location = found
    hashes = hash_images(images, cache.stamp_dir(), decode=False)
    state = "not checked yet" if hashes is None else verify(hashes, entry.manifest, entry.images).status
    return Status(entry.name, len(images), location, state)
