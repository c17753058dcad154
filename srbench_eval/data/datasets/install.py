"""Installing a verified copy of a registry dataset into the cache: fetch, extract, verify, swap.

:func:`install_dataset` is the one entry point; it never opens a dataset (that is
:mod:`srbench_eval.data.datasets.registry`, which calls it). Candidates are tried in order: a copy of the
mirror folder, the mirror's archive (folder or base URL), then the public URLs. Each is unpacked
into a hidden temporary folder in the cache, its pixels are checked against the manifest, and
only then is it swapped in by renames (:func:`~srbench_eval.data.datasets.download.replace_dir`).

What is promised:

* A copy that fails its manifest never replaces one that passes (``force`` included): the good
  copy stays byte for byte and the install fails naming the images that differ.
* With no good copy yet, a complete copy that differs is installed with a warning (the README
  promises it is reported, not refused), unless ``strict``.
* An archive in the cache that produced a failing, corrupt or truncated copy is deleted, so the
  next attempt asks the mirror or the URL again.
* A full disk or an unwritable cache is a one-line error naming the path; nothing half-extracted
  is left behind.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from srbench_eval.data.datasets import cache
from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets.folders import folder_images
from srbench_eval.data.datasets.manifest import (
    ImageHash,
    Verification,
    hash_file,
    hash_images,
    verify,
    write_stamp,
)
from srbench_eval.errors import SrbenchError

if TYPE_CHECKING:
    from srbench_eval.data.datasets.entry import Entry

log = logging.getLogger(__name__)

Fill = Callable[[Path], list[Path]]


def install_dataset(
    entry: Entry,
    mirror: str | None = None,
    *,
    force: bool = False,
    strict: bool = False,
    shared_archives: frozenset[str] = frozenset(),
) -> Path:
    """Put a verified copy of ``entry`` into the cache and return its HR folder.

    An existing copy is kept as it is unless ``force``. ``shared_archives`` names archive files
    that other datasets are taken from too (``benchmark.tar``): they stay in ``archives/`` after a
    successful install; the others are deleted (DIV2K's would double the disk used). Raises
    :class:`SrbenchError` when no source gives a copy that may be installed (see the module
    docstring), naming each source and why it failed.
    """
    target = cache.dataset_dir(entry.name)
    if not force and target.is_dir() and folder_images(target):
        return target
    mirror = dl.resolve_mirror(mirror)
    root = cache.data_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise cache.local_error(e, root, "creating the dataset cache") from None
    cache.remove_stale(root, entry.name)
    dl.remove_stale_downloads(root / "archives")
    reasons: list[str] = [f"public URLs skipped ({dl.OFFLINE_ENV}=1)"] if dl.offline() else []
    fallback: tuple[Path, dict[str, ImageHash], Verification, str] | None = None
    fetched: list[Path] = []  # archives in the cache that the candidates used
    try:
        for label, fill in _candidates(entry, mirror, fetched):
            used = len(fetched)
            try:
                tmp = cache.temp_dir(root, entry.name)
            except OSError as e:
                raise cache.local_error(e, root, f"installing {entry.name}") from None
            keep = False
            try:
                hr = tmp / "HR"
                hr.mkdir()
                hashes = _rename_by_content(fill(hr), entry.manifest)
                result = verify(hashes, entry.manifest, entry.images)
                if result.ok:
                    _swap_in(tmp, target, hashes, fetched, shared_archives)
                    return target
                _discard(fetched[used:], "it gave a copy that differs from the manifest")
                if result.missing or (entry.manifest is None and len(hashes) < entry.images):
                    reasons.append(f"{label}: incomplete copy, {result.status}")
                else:
                    reasons.append(f"{label}: {result.status}")
                    if fallback is None:
                        fallback, keep = (tmp, hashes, result, label), True
            except dl.SourceFailed as e:
                reasons.append(str(e))
            except OSError as e:
                raise cache.local_error(e, tmp, f"installing {entry.name} from {label}") from None
            finally:
                if not keep:
                    shutil.rmtree(tmp, ignore_errors=True)
        if fallback is None:
            raise _unavailable(entry, reasons)
        tmp, hashes, result, label = fallback
        if _passes(entry, target):
            raise SrbenchError(
                f"dataset {entry.name}: no source matched the manifest ({'; '.join(reasons)}); the "
                f"verified copy in {target} is kept unchanged"
            )
        if strict:
            raise SrbenchError(
                f"dataset {entry.name} from {label}: {result.status}; no source matched the manifest, so "
                f"published numbers would not be comparable (run without --strict to keep this copy)"
            )
        log.warning(f"dataset {entry.name}: installing the copy from {label} although {result.status}")
        _swap_in(tmp, target, hashes, fetched, shared_archives)
        return target
    finally:
        if fallback is not None:
            shutil.rmtree(fallback[0], ignore_errors=True)


def _passes(entry: Entry, target: Path) -> bool:
    """Whether the cache copy at ``target`` exists and matches the manifest (stamped hashes are
    trusted; an unstamped copy is decoded)."""
    try:
        images = folder_images(target) if target.is_dir() else []
        if not images:
            return False
        hashes = hash_images(images, cache.stamp_dir())
    except (SrbenchError, OSError):
        return False
    return hashes is not None and verify(hashes, entry.manifest, entry.images).ok


def _discard(archives: list[Path], why: str) -> None:
    """Delete archives of the cache so that they are fetched again, not reused."""
    for path in archives:
        if path.exists():
            log.warning(f"{path}: deleted, {why}")
            path.unlink(missing_ok=True)


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


def _candidates(entry: Entry, mirror: str | None, fetched: list[Path]) -> Iterator[tuple[str, Fill]]:
    """Yield ``(label, fill)`` in the order to try; ``fill(hr)`` puts HR images into ``hr``.
    Archives of the cache (downloaded now or earlier) are appended to ``fetched`` when used."""
    if mirror and not dl.is_url(mirror):
        for rel in entry.mirror_dirs:
            folder = Path(mirror) / rel
            if folder.is_dir() and folder_images(folder):

                def copy(hr: Path, folder: Path = folder) -> list[Path]:
                    out = []
                    for p in folder_images(folder):
                        with open(p, "rb") as stream:
                            dl.write_stream(stream, hr / p.name)
                        out.append(hr / p.name)
                    return out

                yield f"mirror folder {folder}", copy
                break
    archives = cache.data_dir() / "archives"
    dead_hosts: set[str] = set()
    for source in entry.sources:
        for location in dl.archive_locations(source, mirror):

            def unpack(hr: Path, source: dl.Source = source, location: str = location) -> list[Path]:
                path, ours = dl.get_archive(location, source, archives, dead_hosts)
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


def _unavailable(entry: Entry, reasons: list[str]) -> SrbenchError:
    files = ", ".join(dict.fromkeys(s.file for s in entry.sources)) or "none known"
    why = "; ".join(reasons) if reasons else "no source"
    return SrbenchError(
        f"dataset {entry.name} is not available ({why}): put one of its archives ({files}) or a "
        f"{entry.mirror_dirs[0] if entry.mirror_dirs else entry.name} folder of its HR images in a mirror "
        f"folder and pass --mirror DIR (or set {dl.MIRROR_ENV}), or run with --datasets demo"
    )


def _swap_in(
    tmp: Path, target: Path, hashes: dict[str, ImageHash], fetched: list[Path], shared: frozenset[str]
) -> None:
    """Swap the unpacked ``tmp`` (holding ``HR/``) in as the cache copy and stamp its hashes.

    Archives of the cache that no other dataset is taken from are deleted; shared ones stay in
    ``archives/`` for the next dataset.
    """
    cache.replace_dir(tmp, target.parent)
    write_stamp(folder_images(target), hashes, cache.stamp_dir())
    for path in fetched:
        if path.name not in shared:
            path.unlink(missing_ok=True)
