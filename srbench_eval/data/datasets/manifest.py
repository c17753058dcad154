"""Content manifests: one SHA-256 per image of its decoded pixels, and the check against them.

Canonicalisation (``CANONICAL``, recorded in ``datasets.yaml``): decode the file with
:func:`srbench_eval.data.io.images.read_image` (8-bit; ``(H, W)`` grey or ``(H, W, 3)`` RGB; alpha
dropped), crop the bottom/right border so height and width are multiples of 12 (MATLAB
``modcrop(img, 12)``), then hash ``b"<h>x<w>x<c>\\n"`` (the cropped shape, ``c`` = 1 for grey)
followed by the pixel bytes in row-major RGB order::

    sha256 = SHA256(f"{h}x{w}x{c}\\n".encode() + modcrop(img, 12).tobytes())

Why mod-12: 12 is a multiple of every benchmark scale (2, 3, 4), and ``modcrop(modcrop(img, s), 12)
== modcrop(img, 12)`` for each of them, so a copy that was already cropped for one scale (the
SelfExSR ``image_SRF_4`` HR images, the ``480x321`` BSD100 crops of the ``481x321`` originals) has
the same hash as the original. Hashing decoded pixels, not files, makes PNG re-encodes verify too.
The channel count is part of the hash on purpose: a grey image saved as RGB gives different Y
values and so different published numbers.

A manifest entry also records the full shape of the reference copy (``"512x512x3 <sha256>"``).
When the pixels match but the shape differs, the copy is still verified; if a mod-2/3/4 crop of it
has a different size from that of the reference, the check adds a note that results at that scale
are not comparable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from srbench_eval.data.io.images import modcrop, read_image
from srbench_eval.digests import sha256_text
from srbench_eval.errors import SrbenchError
from srbench_eval.files import write_bytes_atomic

if TYPE_CHECKING:
    import numpy as np

CANONICAL = "modcrop12-sha256-v1"
CANONICAL_MODULO = 12
SCALES = (2, 3, 4)


@dataclass(frozen=True)
class ImageHash:
    """The canonical pixel hash of one image and the full ``(height, width, channels)`` shape."""

    sha256: str
    shape: tuple[int, int, int]

    def __str__(self) -> str:
        h, w, c = self.shape
        return f"{h}x{w}x{c} {self.sha256}"

    @classmethod
    def parse(cls, text: str) -> ImageHash:
        """Parse ``"<h>x<w>x<c> <sha256>"`` as written in ``datasets.yaml``."""
        try:
            shape_text, sha = str(text).split()
            h, w, c = (int(v) for v in shape_text.split("x"))
        except ValueError:
            raise ValueError(f"bad manifest entry {text!r}: expected '<h>x<w>x<c> <sha256>'") from None
        if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
            raise ValueError(f"bad manifest entry {text!r}: not a lower-case hex SHA-256")
        return cls(sha, (h, w, c))


def pixel_hash(img: np.ndarray) -> ImageHash:
    """Canonical hash of a decoded ``uint8`` image (see the module docstring)."""
    import numpy as np

    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ValueError(f"pixel_hash expects a uint8 (H, W) or (H, W, 3) array, got {img.dtype} {img.shape}")
    c = 1 if img.ndim == 2 else img.shape[2]
    crop = np.ascontiguousarray(modcrop(img, CANONICAL_MODULO))
    h, w = crop.shape[:2]
    digest = hashlib.sha256(f"{h}x{w}x{c}\n".encode())
    digest.update(crop.tobytes())
    return ImageHash(digest.hexdigest(), (img.shape[0], img.shape[1], c))


def hash_file(path: Path) -> ImageHash:
    """Decode ``path`` and return its canonical hash (raises ``SrbenchError`` for a bad file)."""
    return pixel_hash(read_image(path))


def manifest_digest(hashes: Mapping[str, ImageHash]) -> str:
    """SHA-256 over ``"<name> <sha256>\\n"`` lines sorted by image name: one value for provenance."""
    lines = "".join(f"{name} {hashes[name].sha256}\n" for name in sorted(hashes))
    return sha256_text(lines)


def manifest_yaml(hashes: Mapping[str, ImageHash], indent: int = 4) -> str:
    """The ``manifest:`` block for ``datasets.yaml`` listing ``hashes``."""
    pad = " " * indent
    return "manifest:\n" + "".join(f'{pad}"{name}": {hashes[name]}\n' for name in sorted(hashes))


def _differs_at(found: tuple[int, int, int], ref: tuple[int, int, int]) -> list[int]:
    """Scales at which a mod-s crop of ``found`` differs in size from that of ``ref``."""
    return [s for s in SCALES if any(a - a % s != b - b % s for a, b in zip(found[:2], ref[:2], strict=True))]


@dataclass(frozen=True)
class Verification:
    """Outcome of comparing a copy's hashes with a manifest (or only with the image count)."""

    status: str
    ok: bool
    mismatched: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


def _names(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def verify(
    found: Mapping[str, ImageHash], manifest: Mapping[str, ImageHash] | None, expected_count: int | None
) -> Verification:
    """Compare ``found`` (image name -> hash) with ``manifest``.

    Without a manifest only the image count is checked. ``ok`` is False when pixels differ, an
    image is missing or an unexpected image is present; a differently cropped border only adds a note.
    """
    if manifest is None:
        if expected_count is not None and len(found) != expected_count:
            return Verification(f"no manifest; {len(found)} images, expected {expected_count}", ok=False)
        return Verification("no manifest", ok=True)
    mismatched = tuple(n for n in sorted(found) if n in manifest and found[n].sha256 != manifest[n].sha256)
    missing = tuple(n for n in sorted(manifest) if n not in found)
    extra = tuple(n for n in sorted(found) if n not in manifest)
    if mismatched or missing or extra:
        parts = []
        if mismatched:
            parts.append(f"pixels differ: {_names(mismatched)}")
        if missing:
            parts.append(f"missing: {_names(missing)}")
        if extra:
            parts.append(f"not in manifest: {_names(extra)}")
        n = len(mismatched) + len(missing) + len(extra)
        return Verification(
            f"differs from manifest: {n} images ({'; '.join(parts)})",
            ok=False,
            mismatched=mismatched,
            missing=missing,
            extra=extra,
        )
    notes: dict[int, list[str]] = {}
    for n in sorted(found):
        for s in _differs_at(found[n].shape, manifest[n].shape):
            notes.setdefault(s, []).append(n)
    if not notes:
        return Verification("manifest ok", ok=True)
    text = tuple(
        f"x{s}: {len(names)} images cropped differently from the reference ({_names(names, 3)}), "
        f"results at x{s} are not comparable"
        for s, names in sorted(notes.items())
    )
    return Verification("manifest ok; " + "; ".join(text), ok=True, notes=text)


# --- hash cache ("stamp"): decoded-pixel hashes remembered by file size and mtime ---------------


def _stamp_path(stamp_dir: Path, folder: Path) -> Path:
    key = sha256_text(str(folder))[:20]
    return stamp_dir / f"{key}.json"


def _read_stamp(stamp_dir: Path | None, folder: Path) -> dict[str, list]:
    if stamp_dir is None:
        return {}
    try:
        data = json.loads(_stamp_path(stamp_dir, folder).read_text())
        if data.get("canonical") == CANONICAL and data.get("folder") == str(folder):
            return dict(data.get("files", {}))
    except (OSError, ValueError, AttributeError):
        pass
    return {}


def write_stamp(images: Sequence[Path], hashes: Mapping[str, ImageHash], stamp_dir: Path | None) -> None:
    """Remember ``hashes`` (by stem) of ``images`` with their current sizes and mtimes."""
    if stamp_dir is None or not images:
        return
    folder = images[0].parent.resolve()
    files = {}
    for img in images:
        st = img.stat()
        h = hashes[img.stem]
        files[img.name] = [st.st_size, st.st_mtime_ns, h.sha256, list(h.shape)]
    payload = {"canonical": CANONICAL, "folder": str(folder), "files": files}
    path = _stamp_path(stamp_dir, folder)
    # A read-only, full or misplaced cache only costs the next decode: a stamp is never needed.
    with contextlib.suppress(OSError, SrbenchError):
        write_bytes_atomic(path, json.dumps(payload, indent=0).encode())


def hash_images(
    images: Sequence[Path], stamp_dir: Path | None, *, force: bool = False, decode: bool = True
) -> dict[str, ImageHash] | None:
    """Canonical hashes of ``images`` (all in one folder) keyed by file stem, cached in a stamp.

    The stamp (``<stamp_dir>/<key of the folder>.json``) remembers each file's size, mtime and
    hash, so a call on an unchanged folder only stats the files. ``force`` re-decodes everything;
    with ``decode=False`` nothing is decoded and None is returned unless every file is stamped.
    """
    if not images:
        return {}
    stamp = {} if force else _read_stamp(stamp_dir, images[0].parent.resolve())
    hashes: dict[str, ImageHash] = {}
    changed = len(stamp) != len(images)
    for img in images:
        st = img.stat()
        old = stamp.get(img.name)
        if old is not None and old[:2] == [st.st_size, st.st_mtime_ns]:
            hashes[img.stem] = ImageHash(old[2], (int(old[3][0]), int(old[3][1]), int(old[3][2])))
        elif not decode:
            return None
        else:
            hashes[img.stem] = hash_file(img)
            changed = True
    if changed:
        write_stamp(images, hashes, stamp_dir)
    return hashes
