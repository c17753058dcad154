"""Where the pixels of a plain PNG file are: the chunk walk that decides which files
:mod:`srbench_eval.data.io.png_decode` decodes and which go to OpenCV (:func:`plain_png_layout`).

It reads the signature, the ``IHDR`` fields and every chunk header, and checks the CRC of each
critical chunk (ISA-L's CRC-32 where installed, else zlib's: the same function); it decodes nothing.
Both :mod:`srbench_eval.data.io.images` and :mod:`srbench_eval.data.io.png_decode` import it.
"""

from __future__ import annotations

from typing import NamedTuple

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PlainPng(NamedTuple):
    """Where the pixels of a :func:`plain_png` file are (:func:`plain_png_layout`)."""

    width: int
    height: int
    channels: int
    """1 (grey) or 3 (RGB)."""
    idat: tuple[tuple[int, int], ...]
    """``(start, end)`` offsets of each IDAT chunk's data in the file, in order."""


def plain_png(data: bytes) -> bool:
    """Whether ``data`` is a PNG file that :func:`~srbench_eval.data.io.images.decode_plain_png`
    decodes exactly as OpenCV does (:func:`plain_png_layout`)."""
    return plain_png_layout(data) is not None


def plain_png_layout(data: bytes) -> PlainPng | None:
    """The size, channels and IDAT chunks of a PNG file that
    :func:`~srbench_eval.data.io.images.decode_plain_png` decodes exactly as OpenCV does, else
    ``None``: 8-bit grey (colour type 0) or RGB (2), not interlaced, no ``tRNS`` chunk (OpenCV turns
    one into an alpha channel), every critical chunk complete with the right CRC (libpng refuses a
    wrong one; libspng as ``pyspng`` sets it up does not look), and nothing else libpng refuses in
    the chunk layout: the critical chunks are one ``IHDR`` first (with compression and filter
    methods 0, a non-zero size within the limits of libpng and OpenCV, which refuse a side over
    1,000,000 or over 2**30 pixels), consecutive ``IDAT`` chunks and ``IEND``; a ``PLTE`` (libpng's
    to judge in a grey file) or an unknown critical chunk leaves the file to OpenCV. Reads the chunk
    headers and the CRCs."""
    if len(data) < 33 or data[:16] != _PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR":
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    # libpng's default limits (1,000,000 per side), OpenCV's (2**30 pixels, $OPENCV_IO_MAX_IMAGE_PIXELS)
    if not (0 < width <= 1_000_000 and 0 < height <= 1_000_000 and width * height <= 2**30):
        return None
    # bit depth 8, colour type 0 or 2; compression, filter and interlace methods 0
    if data[24] != 8 or data[25] not in (0, 2) or data[26:29] != b"\x00\x00\x00":
        return None
    try:  # ISA-L's CRC-32 is about 6x zlib's; the same function
        from isal.isal_zlib import crc32
    except ImportError:
        from zlib import crc32
    view, pos, idat, idat_ended = memoryview(data), 8, [], False
    while pos + 12 <= len(data):
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length >= 2**31 or end > len(data) or not kind.isalpha() or kind == b"tRNS":
            return None
        if not kind[0] & 0x20:  # a critical chunk (upper-case first letter)
            if crc32(view[pos + 4 : end - 4]) != int.from_bytes(data[end - 4 : end], "big"):
                return None
            if kind == b"IEND":
                channels = 3 if data[25] == 2 else 1
                return PlainPng(width, height, channels, tuple(idat)) if idat else None
            if kind == b"IDAT":
                if idat_ended:
                    return None  # IDAT chunks apart: libpng reads only the first run
                idat.append((pos + 8, end - 4))
            elif kind != b"IHDR" or pos != 8:
                return None
        idat_ended = idat_ended or (bool(idat) and kind != b"IDAT")
        pos = end
    return None


__all__ = ["PlainPng", "plain_png", "plain_png_layout"]
