"""Image files in and out, with the conventions of the SR benchmarks.

Images are NumPy ``uint8`` arrays: ``(H, W)`` for single-channel files and ``(H, W, 3)`` RGB for
colour files. A single-channel file stays single-channel, because the MATLAB scripts behind the
published tables used such images (Set14 ``bridge.png``) directly as the Y channel. An alpha channel
is dropped. 16-bit files are refused: the protocol is defined on 8-bit images.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from srbench_eval.errors import SrbenchError

IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".ppm", ".pgm", ".webp")


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def read_image(path: str | Path) -> np.ndarray:
    """Read an 8-bit image as ``(H, W)`` grey or ``(H, W, 3)`` RGB ``uint8``."""
    path = Path(path)
    if not path.is_file():
        raise SrbenchError(f"{path}: no such image file")
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise SrbenchError(f"{path}: cannot decode image (corrupt or not an image)")
    if img.dtype != np.uint8:
        raise SrbenchError(f"{path}: {img.dtype} image; the protocol is defined on 8-bit images")
    if img.ndim == 3:
        if img.shape[2] == 1:
            img = img[:, :, 0]
        elif img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
        elif img.shape[2] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        else:
            raise SrbenchError(f"{path}: unsupported number of channels {img.shape[2]}")
    return np.ascontiguousarray(img)


def write_image(path: str | Path, img: np.ndarray) -> None:
    """Write a ``uint8`` grey or RGB image atomically (temporary file, then rename)."""
    path = Path(path)
    if img.dtype != np.uint8:
        raise ValueError(f"write_image expects uint8, got {img.dtype}")
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    ok, buf = cv2.imencode(path.suffix or ".png", bgr)
    if not ok:
        raise SrbenchError(f"{path}: cannot encode image")
    write_bytes_atomic(path, buf.tobytes())


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def modcrop(img: np.ndarray, modulo: int) -> np.ndarray:
    """Crop the bottom/right so height and width are multiples of ``modulo`` (MATLAB ``modcrop``)."""
    h, w = img.shape[:2]
    return img[: h - h % modulo, : w - w % modulo]
