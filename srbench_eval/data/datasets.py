"""HR datasets: the registry in ``datasets.yaml``, folders of images, and getting a verified copy.

``open_dataset(spec)`` accepts a registry name (``set5``, an alias such as ``b100``, any case) or a
folder of HR images, and returns a :class:`Dataset`: the sorted image files, a digest of their
pixel hashes for provenance and the verification state against the manifest. Where a registry
dataset comes from, in order:

1. the cache copy ``$SRBENCH_DATA/<name>/HR`` (made by a download, verified before it was moved in);
2. a local mirror folder holding one of the entry's ``mirror_dirs`` (``<mirror>/Set5/HR``): used in
   place, never copied, so ``--mirror ../shared/benchmarks`` costs no disk;
3. a download (``download=True``): a local copy from the mirror folder, the mirror's archive
   (folder or base URL), then the public sources; see :func:`download_dataset`.

The demo set is read from the scikit-image package folder. Checking pixels needs a full decode;
the per-file hashes are remembered in a stamp keyed by file size and mtime (see
:mod:`srbench_eval.data.manifest`), so opening an unchanged copy again only stats its files.
A copy whose pixels differ from the manifest is logged as a warning and carried in
``Dataset.verified`` (published numbers would not be comparable); ``strict=True`` makes it an error.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from srbench_eval.data import download as dl
from srbench_eval.data.images import IMAGE_SUFFIXES, is_image_file
from srbench_eval.data.manifest import (
    CANONICAL,
    ImageHash,
    Verification,
    hash_file,
    hash_images,
    manifest_digest,
    verify,
    write_stamp,
)
from srbench_eval.errors import SrbenchError, unknown_name

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

    def names(self) -> list[str]:
        """Image names (file stems), in the order of ``images``."""
        return [p.stem for p in self.images]


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


def _parse_entry(name: str, raw: dict) -> Entry:
    sources = tuple(
        dl.Source(
            url=s["url"],
            format=s["format"],
            members=tuple(s["members"]),
            file=s.get("file") or s["url"].rstrip("/").rsplit("/", 1)[-1],
            sha256=s.get("sha256"),
            note=str(s.get("note", "")).strip(),
        )
        for s in raw.get("sources") or ()
    )
    for s in sources:
        if s.format not in dl.ARCHIVE_FORMATS:
            raise ValueError(f"datasets.yaml: {name}: unknown archive format {s.format!r}")
    manifest = raw.get("manifest")
    return Entry(
        name=name,
        title=str(raw.get("title", name)),
        citation=" ".join(str(raw.get("citation", "")).split()),
        images=int(raw["images"]),
        note=" ".join(str(raw.get("note", "")).split()),
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        mirror_dirs=tuple(raw.get("mirror_dirs") or ()),
        sources=sources,
        skimage_files=tuple(raw.get("skimage_files") or ()),
        manifest=None if manifest is None else {str(k): ImageHash.parse(v) for k, v in manifest.items()},
    )


def load_registry(text: str) -> dict[str, Entry]:
    """Parse the text of a ``datasets.yaml``."""
    data = yaml.safe_load(text)
    if data.get("canonical") != CANONICAL:
        raise ValueError(f"datasets.yaml: manifests use {data.get('canonical')!r}, this code {CANONICAL!r}")
    return {str(name): _parse_entry(str(name), raw) for name, raw in data["datasets"].items()}


@functools.cache
def registry() -> dict[str, Entry]:
    """The datasets of the packaged ``datasets.yaml``, by name."""
    return load_registry(importlib.resources.files("srbench_eval").joinpath("datasets.yaml").read_text())


def dataset_names() -> list[str]:
    return list(registry())


def find_entry(spec: str) -> Entry | None:
    """The registry entry named ``spec`` or one of its aliases (any case), else None."""
    key = spec.strip().lower()
    for entry in registry().values():
        if key == entry.name or key in (a.lower() for a in entry.aliases):
            return entry
    return None


def get_entry(spec: str) -> Entry:
    entry = find_entry(spec)
    if entry is None:
        raise unknown_name("dataset", spec, dataset_names())
    return entry


# --- folders ---------------------------------------------------------------------------------


def folder_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, sorted by name; stems must be unique."""
    images = sorted((p for p in folder.iterdir() if p.is_file() and is_image_file(p)), key=lambda p: p.name)
    seen: dict[str, Path] = {}
    for p in images:
        if p.stem in seen:
            raise SrbenchError(
                f"{folder}: two images named {p.stem} ({seen[p.stem].name}, {p.name}); keep one of them"
            )
        seen[p.stem] = p
    return images


def _stamp_dir() -> Path:
    return dl.data_dir() / ".stamps"


def _hashes(images: Sequence[Path], rehash: bool) -> dict[str, ImageHash]:
    hashes = hash_images(images, _stamp_dir(), force=rehash)
    assert hashes is not None
    return hashes


def _finish(
    entry: Entry | None, name: str, images: list[Path], location: str, strict: bool, rehash: bool
) -> Dataset:
    hashes = _hashes(images, rehash)
    if entry is None:
        result = Verification("no manifest", ok=True)
        digest = manifest_digest(hashes)
        same = [e.name for e in registry().values() if e.manifest and manifest_digest(e.manifest) == digest]
        if same:
            result = Verification(f"manifest ok (same images as {same[0]})", ok=True)
    else:
        result = verify(hashes, entry.manifest, entry.images)
    if not result.ok:
        message = f"dataset {name} ({location}): {result.status}; published numbers are not comparable"
        if strict:
            raise SrbenchError(message + " (run without --strict to use it anyway)")
        log.warning(message)
    elif result.notes:
        log.warning(f"dataset {name} ({location}): {'; '.join(result.notes)}")
    title = entry.title if entry is not None else name
    return Dataset(name, tuple(images), manifest_digest(hashes), result.status, location, result.ok, title)


def _open_folder(spec: str, strict: bool, rehash: bool) -> Dataset:
    folder = Path(spec).expanduser()
    if not folder.exists():
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
    name = folder.parent.name if folder.name == "HR" and folder.parent.name else folder.name
    return _finish(None, name, images, f"folder {folder.resolve()}", strict, rehash)


def _looks_like_name(spec: str) -> bool:
    return "/" not in spec and "\\" not in spec and not spec.startswith((".", "~"))


# --- registry datasets ---------------------------------------------------------------------


def cache_dir(entry: Entry) -> Path:
    """Where the verified download of ``entry`` lives: ``$SRBENCH_DATA/<name>/HR``."""
    return dl.data_dir() / entry.name / "HR"


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


def _unavailable(entry: Entry, reasons: list[str]) -> SrbenchError:
    files = ", ".join(dict.fromkeys(s.file for s in entry.sources)) or "none known"
    why = "; ".join(reasons) if reasons else "no source"
    return SrbenchError(
        f"dataset {entry.name} is not available ({why}): put one of its archives ({files}) or a "
        f"{entry.mirror_dirs[0] if entry.mirror_dirs else entry.name} folder of its HR images in a mirror "
        f"folder and pass --mirror DIR (or set {dl.MIRROR_ENV}), or run with --datasets demo"
    )


def _open(spec: str, mirror: str | None, download: bool, strict: bool, rehash: bool) -> Dataset:
    entry = find_entry(spec)
    if entry is None:
        return _open_folder(spec, strict, rehash)
    mirror = dl.resolve_mirror(mirror)
    found = locate(entry, mirror)
    if found is None:
        if not download:
            raise SrbenchError(
                f"dataset {entry.name} is not in the cache ({cache_dir(entry)}) nor in a mirror folder: run "
                f"'srbench-eval datasets download {entry.name}', pass --mirror DIR, or use --datasets demo"
            )
        return download_dataset(entry.name, mirror=mirror, strict=strict)
    images, location = found
    return _finish(entry, entry.name, images, location, strict, rehash)


def open_dataset(
    spec: str, *, mirror: str | None = None, download: bool = True, strict: bool = False
) -> Dataset:
    """Open a registry dataset or a folder of HR images (see the module docstring).

    ``mirror`` defaults to ``$SRBENCH_MIRROR``. Raises :class:`SrbenchError` for an unknown name,
    an empty folder, an unreadable image, a dataset that cannot be found or downloaded, and (with
    ``strict``) a copy that differs from the manifest.
    """
    return _open(spec, mirror, download, strict, rehash=False)


def verify_dataset(spec: str, *, mirror: str | None = None, strict: bool = False) -> Dataset:
    """Decode every image of an existing copy again and check it against the manifest (no download)."""
    return _open(spec, mirror, download=False, strict=strict, rehash=True)


# --- download ------------------------------------------------------------------------------


def _rename_by_content(files: list[Path], manifest: dict[str, ImageHash] | None) -> dict[str, ImageHash]:
    """Hash unpacked ``files``; rename each whose pixels match a manifest entry of another name
    (sources name the images differently), so the copy uses the manifest's names."""
    by_sha = {h.sha256: n for n, h in (manifest or {}).items()}
    hashes: dict[str, ImageHash] = {}
    for f in sorted(files):
        try:
            h = hash_file(f)
        except SrbenchError:
            raise dl.SourceFailed(f"{f.name} in the archive is not a readable image") from None
        name = by_sha.get(h.sha256, f.stem)
        if name != f.stem and name not in hashes and not any(p.stem == name for p in files):
            f.rename(f.with_name(name + f.suffix))
        else:
            name = f.stem
        hashes[name] = h
    return hashes


Fill = Callable[[Path], list[Path]]


def _candidates(entry: Entry, mirror: str | None, fetched: list[Path]) -> Iterator[tuple[str, Fill]]:
    """Yield ``(label, fill)`` in the order to try; ``fill(hr)`` puts HR images into ``hr``.
    Archives downloaded into the cache are appended to ``fetched``."""
    if mirror and not dl.is_url(mirror):
        for rel in entry.mirror_dirs:
            folder = Path(mirror) / rel
            if folder.is_dir() and folder_images(folder):

                def copy(hr: Path, folder: Path = folder) -> list[Path]:
                    return [Path(shutil.copy2(p, hr / p.name)) for p in folder_images(folder)]

                yield f"mirror folder {folder}", copy
                break
    archives = dl.data_dir() / "archives"
    for source in entry.sources:
        for location in dl.archive_locations(source, mirror):

            def unpack(hr: Path, source: dl.Source = source, location: str = location) -> list[Path]:
                path, ours = dl.get_archive(location, source, archives)
                if ours:
                    fetched.append(path)
                try:
                    return dl.extract_members(path, source, hr)
                except dl.SourceFailed as e:
                    if not ours:
                        raise
                    path.unlink(missing_ok=True)  # a corrupt download: the next run fetches it again
                    raise dl.SourceFailed(f"{e}, deleted") from None

            yield location, unpack


def download_dataset(
    spec: str, *, mirror: str | None = None, strict: bool = False, force: bool = False
) -> Dataset:
    """Put a verified copy of a registry dataset into the cache and open it.

    Candidates are tried in order (mirror folder copy, mirror archive, public URLs) until one gives
    a complete copy whose pixels match the manifest. Each is unpacked into a temporary folder,
    verified, and only then moved into place, replacing an older copy (with ``force``) by renames.
    A complete copy that differs from the manifest is kept as a fallback and installed with a warning
    when nothing better is found, unless ``strict``. An existing cache copy is kept unless ``force``.
    """
    entry = get_entry(spec)
    mirror = dl.resolve_mirror(mirror)
    target = cache_dir(entry)
    if entry.skimage_files or (not force and target.is_dir() and folder_images(target)):
        return _open(entry.name, mirror, download=False, strict=strict, rehash=False)
    root = dl.data_dir()
    root.mkdir(parents=True, exist_ok=True)
    reasons: list[str] = []
    fallback: tuple[Path, dict[str, ImageHash], Verification, str] | None = None
    dl.remove_stale(root, entry.name)
    if dl.offline():
        reasons.append(f"public URLs skipped ({dl.OFFLINE_ENV}=1)")
    fetched: list[Path] = []
    try:
        for label, fill in _candidates(entry, mirror, fetched):
            tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{entry.name}.partial-"))
            keep = False
            try:
                hr = tmp / "HR"
                hr.mkdir()
                hashes = _rename_by_content(fill(hr), entry.manifest)
                result = verify(hashes, entry.manifest, entry.images)
                if result.ok:
                    _install(tmp, entry, hashes, fetched)
                    return _finish(entry, entry.name, folder_images(target), f"cache {target}", strict, False)
                if result.missing or (entry.manifest is None and len(hashes) < entry.images):
                    reasons.append(f"{label}: incomplete copy, {result.status}")
                else:
                    reasons.append(f"{label}: {result.status}")
                    if fallback is None:
                        fallback, keep = (tmp, hashes, result, label), True
            except dl.SourceFailed as e:
                reasons.append(str(e))
            finally:
                if not keep:
                    shutil.rmtree(tmp, ignore_errors=True)
        if fallback is None:
            raise _unavailable(entry, reasons)
        tmp, hashes, result, label = fallback
        if strict:
            raise SrbenchError(
                f"dataset {entry.name} from {label}: {result.status}; no source matched the manifest, so "
                f"published numbers would not be comparable (run without --strict to keep this copy)"
            )
        _install(tmp, entry, hashes, fetched)
        return _finish(entry, entry.name, folder_images(target), f"cache {target}", False, False)
    finally:
        if fallback is not None:
            shutil.rmtree(fallback[0], ignore_errors=True)


def _install(tmp: Path, entry: Entry, hashes: dict[str, ImageHash], fetched: list[Path]) -> None:
    """Swap the unpacked ``tmp`` (holding ``HR/``) in as the cache copy and stamp its hashes.

    Downloaded archives that no other dataset is taken from are deleted (DIV2K's would double the
    disk used); shared ones (``benchmark.tar``) stay in ``archives/`` for the next dataset.
    """
    dl.replace_dir(tmp, cache_dir(entry).parent)
    write_stamp(folder_images(cache_dir(entry)), hashes, _stamp_dir())
    for path in fetched:
        users = {e.name for e in registry().values() for s in e.sources if s.file == path.name}
        if users <= {entry.name}:
            path.unlink(missing_ok=True)


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
    hashes = hash_images(images, _stamp_dir(), decode=False)
    state = "not checked yet" if hashes is None else verify(hashes, entry.manifest, entry.images).status
    return Status(entry.name, len(images), location, state)
