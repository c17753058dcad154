"""Image files in and out, with the conventions of the SR benchmarks.

Images are NumPy ``uint8`` arrays: ``(H, W)`` for single-channel files and ``(H, W, 3)`` RGB for
colour files. A single-channel file stays single-channel (so does a grey file with an alpha channel
or a palette of greys), because the MATLAB scripts behind the
published tables used such images (Set14 ``bridge.png``) directly as the Y channel. An alpha channel
is dropped. 16-bit files are refused: the protocol is defined on 8-bit images.

Before anything is decoded, the image size is read from the file header and an image over the
pixel budget (:func:`max_pixels`: 64 megapixels unless ``--max-pixels`` or ``$SRBENCH_MAX_PIXELS``
raise it) is refused: a small PNG may otherwise decode into tens of gigabytes.

Decoding is OpenCV's (``cv2.imdecode``, ``IMREAD_UNCHANGED``), except for the plain PNG files that
make up the benchmarks (8-bit grey or RGB, not interlaced, no transparency chunk, every critical
chunk's CRC right, nothing in the chunk layout libpng refuses: :func:`plain_png_layout`), which
:mod:`srbench_eval.data.io.png_decode` decodes (ISA-L's inflate, a compiled unfilter) into the very
same pixels, straight into RGB order, in under half the CPU time of OpenCV (0.9 s against 2.0 s over
the 219 benchmark files, ``benchmarks/bench_png_decode.py``). A file it refuses (a zlib stream
or filter byte libpng refuses or reads otherwise) goes to OpenCV, which decodes it or reports it.
Without ``isal`` installed (a dependency), libspng (``pyspng``, where installed; it does not check
the zlib stream's Adler-32) or else OpenCV decodes the plain files. ``tests/data/test_png_decode.py``
and ``tests/data/test_images.py`` hold the decoders equal on every benchmark image and on the files
each of them refuses or converts.

Files are written atomically (a temporary file, then a rename) with the permissions the umask gives
(0644 under the usual 022), not the 0600 of a temporary file.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from srbench_eval.data.io.png_layout import PlainPng, plain_png_layout
from srbench_eval.data.io.png_layout import plain_png as plain_png  # re-exported
from srbench_eval.errors import SrbenchError
from srbench_eval.files import write_bytes_atomic

if TYPE_CHECKING:  # NumPy, OpenCV and Pillow load on first use: commands that read no image skip them
    import numpy as np

    from srbench_eval.data.io.png_decode import Inflated

IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".ppm", ".pgm", ".webp")


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


DEFAULT_MAX_PIXELS = 64_000_000
MAX_PIXELS_ENV = "SRBENCH_MAX_PIXELS"
_max_pixels_override: int | None = None


def _check_budget(value: object, source: str) -> int:
    try:
        n = int(str(value).replace("_", ""))
    except ValueError:
        n = 0
    if n < 1:
        raise SrbenchError(f"{source} {value!r}: the pixel budget must be a positive whole number")
    return n


def max_pixels() -> int:
    """The pixel budget of one image: :func:`limit_pixels`, else ``$SRBENCH_MAX_PIXELS``, else
    :data:`DEFAULT_MAX_PIXELS`."""
    if _max_pixels_override is not None:
        return _max_pixels_override
    env = os.environ.get(MAX_PIXELS_ENV)
    return _check_budget(env, f"${MAX_PIXELS_ENV}") if env else DEFAULT_MAX_PIXELS


@contextmanager
def limit_pixels(n: int | None) -> Iterator[None]:
    """Set the pixel budget (``--max-pixels``) of every image read in the block; ``None``: unchanged."""
    global _max_pixels_override
    previous = _max_pixels_override
    if n is not None:
        _max_pixels_override = _check_budget(n, "--max-pixels")
    try:
        yield
    finally:
        _max_pixels_override = previous


def image_size(path: Path) -> tuple[int, int] | int:
    """``(width, height)`` of an image file from its header only (nothing is decoded); only the
    pixel count when Pillow itself refuses to open an image that large (over 178 megapixels)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except Image.DecompressionBombError as e:
        found = re.search(r"\((\d+) pixels\)", str(e))
        return int(found.group(1)) if found else 2 * (Image.MAX_IMAGE_PIXELS or 0) + 1
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        if isinstance(e, OSError) and e.errno is not None:  # EACCES, EIO: the file, not its content
            raise SrbenchError(f"{path}: cannot read the image ({e.strerror or e})") from None
        raise SrbenchError(f"{path}: cannot decode image (corrupt or not an image)") from None


def check_pixel_budget(path: Path, size: tuple[int, int] | int | None = None) -> None:
    """Refuse an image over the pixel budget (:func:`max_pixels`), from its header alone (``size``:
    ``(width, height)`` when the caller has read it, else :func:`image_size`)."""
    size = image_size(path) if size is None else size
    pixels = size if isinstance(size, int) else size[0] * size[1]
    budget = max_pixels()
    shown = f"{pixels} pixels" if isinstance(size, int) else f"{size[0]}x{size[1]} is {pixels} pixels"
    if pixels > budget:
        raise SrbenchError(
            f"{path}: {shown}, over the budget of {budget} (raise it with --max-pixels or ${MAX_PIXELS_ENV})"
        )
    if isinstance(size, int):  # within a raised budget, but Pillow will not even read the header
        raise SrbenchError(f"{path}: {shown}, more than the image library opens")


class ReadAhead(Protocol):
    """Images decoded ahead of :func:`read_image` (:class:`srbench_eval.data.io.prefetch.Prefetcher`)."""

    def take(self, path: Path) -> np.ndarray | Inflated | None:
        """The image of ``path`` decoded (or only inflated) ahead, else ``None``."""


prefetched: ReadAhead | None = None
"""Images being decoded ahead for this run (:func:`srbench_eval.data.io.prefetch.prefetching`)."""


def read_image(path: str | Path) -> np.ndarray:
    """Read an 8-bit image as ``(H, W)`` grey or ``(H, W, 3)`` RGB ``uint8``; refuse one over the
    pixel budget (:func:`max_pixels`) before decoding it. A copy decoded ahead
    (:data:`prefetched`) of an unchanged file is taken instead of decoding the file again."""
    path = Path(path)
    if not path.is_file():
        raise SrbenchError(f"{path}: no such image file")
    ahead = prefetched
    if ahead is not None:
        img = ahead.take(path)
        if img is not None and not hasattr(img, "layout"):
            return img
        if img is not None:  # inflated ahead (prefetch_image): unfiltered here
            from srbench_eval.data.io.png_decode import unfilter_rows  # needs isal, installed if we got here

            pixels = unfilter_rows(img)
            if pixels is not None:
                return pixels
    return decode_image(path)


def read_file(path: Path) -> bytes:
    """The bytes of an image file; a file that cannot be read (EACCES, EIO, ...) is one line naming it."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise SrbenchError(f"{path}: cannot read the image ({e.strerror or e})") from None


def decode_image(path: Path) -> np.ndarray:
    """:func:`read_image` of an existing file, always decoding it."""
    data = read_file(path)
    layout = plain_png_layout(data)
    check_pixel_budget(path, (layout.width, layout.height) if layout is not None else None)
    return _decode(data, layout, path)


def prefetch_image(path: Path) -> np.ndarray | Inflated:
    """The prefetch thread's share of :func:`read_image` (:mod:`srbench_eval.data.io.prefetch`): a plain
    PNG only inflated (:func:`srbench_eval.data.io.png_decode.inflate_plain`, which needs no numba, so it
    runs while the interpreter is still starting), any other file decoded; :func:`read_image` unfilters
    an inflated one when it takes it."""
    data = read_file(path)
    layout = plain_png_layout(data)
    check_pixel_budget(path, (layout.width, layout.height) if layout is not None else None)
    if layout is not None:
        try:
            from srbench_eval.data.io.png_decode import inflate_plain
        except ImportError:  # isal not installed
            inflate_plain = None
        inflated = inflate_plain(data, layout) if inflate_plain is not None else None
        if inflated is not None:
            return inflated
    return _decode(data, layout, path)


def _decode(data: bytes, layout: PlainPng | None, path: Path) -> np.ndarray:
    img = decode_plain_png(data, layout) if layout is not None else None
    return img if img is not None else decode_opencv(data, path)


def decode_plain_png(data: bytes, layout: PlainPng | None = None) -> np.ndarray | None:
    """A :func:`plain_png` file as ``(H, W)`` grey or ``(H, W, 3)`` RGB ``uint8`` by
    :func:`srbench_eval.data.io.png_decode.decode_plain` (ISA-L's inflate and a compiled unfilter), or
    ``None`` where that refuses the file (OpenCV then decodes it and reports what is wrong with it).
    Without ``isal`` installed, libspng (``pyspng``) decodes it instead, if installed; it does not
    check the zlib stream's Adler-32, which libpng and ISA-L refuse when wrong. ``layout``:
    :func:`plain_png_layout`, if known."""
    try:
        from srbench_eval.data.io.png_decode import decode_plain
    except ImportError:  # isal (or numba) not installed
        return _decode_spng(data)
    return decode_plain(data, layout)


def _decode_spng(data: bytes) -> np.ndarray | None:
    try:
        import pyspng
    except ImportError:
        return None
    try:
        img = pyspng.load(data)
    except (RuntimeError, ValueError):
        return None
    return img if img.dtype.itemsize == 1 and img.ndim in (2, 3) and img.flags.c_contiguous else None


def decode_opencv(data: bytes, path: Path) -> np.ndarray:
    """Any image file's bytes by ``cv2.imdecode`` (``IMREAD_UNCHANGED``), as ``(H, W)`` grey or
    ``(H, W, 3)`` RGB ``uint8`` (an alpha channel dropped); one-line errors naming ``path``."""
    import cv2
    import numpy as np

    broken = _png_crc_error(data)
    if broken:  # refused here: libpng would print its own lines to stderr first
        raise SrbenchError(f"{path}: cannot decode image (corrupt PNG: {broken})")
    try:
        img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    except cv2.error:
        img = None
    if img is None:
        raise SrbenchError(f"{path}: cannot decode image (corrupt or not an image)")
    if img.dtype != np.uint8:
        raise SrbenchError(f"{path}: {img.dtype} image; the protocol is defined on 8-bit images")
    if img.ndim == 3:
        if img.shape[2] == 1 or (img.shape[2] in (3, 4) and _grey_file(data)):
            img = img[:, :, 0]  # grey (+ alpha, or a grey palette): OpenCV repeats it in B, G and R
        elif img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
        elif img.shape[2] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        else:
            raise SrbenchError(f"{path}: unsupported number of channels {img.shape[2]}")
    return np.ascontiguousarray(img)


def _png_crc_error(data: bytes) -> str | None:
    """``CRC error in chunk IDAT`` when a critical chunk of a PNG file has a wrong CRC (libpng refuses
    the file, after printing ``libpng error: ...`` lines to the process's stderr), else ``None``."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    view, pos = memoryview(data), 8
    while pos + 12 <= len(data):
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), bytes(data[pos + 4 : pos + 8])
        end = pos + 12 + length
        if end > len(data) or not kind.isalpha():
            return None  # truncated or garbled: OpenCV says so
        if not kind[0] & 0x20 and zlib.crc32(view[pos + 4 : end - 4]) != int.from_bytes(
            data[end - 4 : end], "big"
        ):
            return f"CRC error in chunk {kind.decode('ascii')}"
        if kind == b"IEND":
            return None
        pos = end
    return None


def _grey_file(data: bytes) -> bool:
    """Whether an image file holds grey pixels that OpenCV expands to colour: grey with alpha (PNG
    colour type 4, Pillow mode ``LA``) or a palette whose every entry is grey (R = G = B). Such an
    image is grey, as a plain grey file is: its Y is the grey value itself, not ``16 + 219/255 v``.
    Read from the header by Pillow; a file Pillow cannot open is taken as colour."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.mode in ("LA", "La"):
                return True
            if im.mode not in ("P", "PA"):
                return False
            palette = im.getpalette("RGB") or []
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    entries = zip(palette[0::3], palette[1::3], palette[2::3], strict=False)
    return bool(palette) and all(r == g == b for r, g, b in entries)


def write_image(path: str | Path, img: np.ndarray) -> None:
    """Write a ``uint8`` grey or RGB image atomically (temporary file, then rename)."""
    import cv2
    import numpy as np

    path = Path(path)
    if img.dtype != np.uint8:
        raise ValueError(f"write_image expects uint8, got {img.dtype}")
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    ok, buf = cv2.imencode(path.suffix or ".png", bgr)
    if not ok:
        raise SrbenchError(f"{path}: cannot encode image")
    write_bytes_atomic(path, buf.tobytes())


def modcrop(img: np.ndarray, modulo: int) -> np.ndarray:
    """Crop the bottom/right so height and width are multiples of ``modulo`` (MATLAB ``modcrop``)."""
    h, w = img.shape[:2]
    return img[: h - h % modulo, : w - w % modulo]
