"""Decoding the plain PNG files of the benchmarks: ISA-L's inflate and a compiled unfilter.

A :func:`~srbench_eval.data.images.plain_png` file (8-bit grey or RGB, not interlaced, no ``tRNS``,
every critical chunk's CRC right, IDAT chunks consecutive) holds its pixels as one zlib stream split
over its IDAT chunks. :func:`decode_plain` joins the chunks' data, inflates it with ISA-L
(``isal.isal_zlib``, which checks the Adler-32) and undoes the per-row filters of the PNG
specification (section 9) straight into the ``(H, W)`` or ``(H, W, 3)`` ``uint8`` result. With
``x`` the filtered byte, ``a`` the decoded byte ``bpp`` bytes to the left (``bpp`` = channels), ``b``
the one above and ``c`` the one above ``a`` (each 0 outside the image), a row of filter type

* 0 (None) is ``x``, 1 (Sub) ``x + a``, 2 (Up) ``x + b``, 3 (Average) ``x + floor((a + b) / 2)``,
* 4 (Paeth) ``x + P(a, b, c)``, where ``P`` picks whichever of ``a``, ``b``, ``c`` is closest to
  ``p = a + b - c`` (ties in that order),

all modulo 256. Anything the protocol's decoder (OpenCV's libpng) might read otherwise is left to
it: :func:`decode_plain` returns ``None`` for a zlib header libpng refuses (a window over 32 KiB, a
preset dictionary), a broken stream or a wrong checksum, a stream that does not end exactly where
the rows do (``H * (1 + W * channels)`` bytes), and a filter type other than 0..4.

Both halves release the GIL (ISA-L's inflate and the ``nogil`` kernel), so the read-ahead threads of
a run decode files in parallel.
"""

from __future__ import annotations

import numpy as np
from isal import isal_zlib
from numba import njit

from srbench_eval.compiled import JIT_OPTIONS
from srbench_eval.data.images import PlainPng, plain_png_layout


def decode_plain(data: bytes, layout: PlainPng | None = None) -> np.ndarray | None:
    """A :func:`~srbench_eval.data.images.plain_png` file as ``(H, W)`` grey or ``(H, W, 3)`` RGB
    ``uint8``; ``None`` for any other file and for a stream or filter byte libpng may read
    otherwise (see the module docstring). ``layout``: the file's
    :func:`~srbench_eval.data.images.plain_png_layout`, when the caller already has it."""
    if layout is None:
        layout = plain_png_layout(data)
        if layout is None:
            return None
    view = memoryview(data)
    spans = layout.idat
    stream = view[spans[0][0] : spans[0][1]] if len(spans) == 1 else b"".join(view[a:b] for a, b in spans)
    wbits = zlib_window_bits(stream)
    if wbits is None:
        return None
    stride = layout.width * layout.channels
    size = layout.height * (stride + 1)
    inflater = isal_zlib.decompressobj(wbits)
    try:
        raw = inflater.decompress(stream, size + 1)  # one byte more than the rows: a longer stream shows
    except isal_zlib.error:
        return None
    if len(raw) != size or not inflater.eof:  # ... and a stream must end (Adler-32 checked) with them
        return None
    out = np.empty((layout.height, stride), np.uint8)
    if not unfilter(np.frombuffer(raw, np.uint8), out, layout.channels):
        return None
    return out if layout.channels == 1 else out.reshape(layout.height, layout.width, layout.channels)


def zlib_window_bits(stream: bytes | memoryview) -> int | None:
    """The window size (``wbits``, 9..15) a zlib stream's two-byte header declares, or ``None`` for a
    header zlib (as libpng sets it up) refuses or that needs more: not deflate, a window over 32 KiB,
    a wrong check value, a preset dictionary. The stream is inflated with that window, so a distance
    reaching further back is refused as zlib refuses it. (A declared window of 256 bytes, ``wbits``
    8, which ISA-L does not take, is also ``None``.)"""
    if len(stream) < 2:
        return None
    cmf, flg = stream[0], stream[1]
    bits = (cmf >> 4) + 8
    if cmf & 0x0F != 8 or not 9 <= bits <= 15 or (cmf << 8 | flg) % 31 or flg & 0x20:
        return None
    return bits


@njit(**JIT_OPTIONS)
def unfilter(raw: np.ndarray, out: np.ndarray, bpp: int) -> bool:
    """Undo the PNG row filters (module docstring): ``raw`` holds ``H`` rows of a filter-type byte
    and ``W * bpp`` filtered bytes, ``out`` is ``(H, W * bpp)``, ``bpp`` 1 or 3; ``False`` at a
    filter type over 4 (``out`` then partly written).

    Sub, Average and Paeth are sequential along a row: each byte needs the decoded one ``bpp`` to
    its left. Their loops keep the left (and upper-left) bytes of a pixel in local variables, one
    pixel per iteration, so that the three colour chains of an RGB row run side by side in
    registers rather than through memory. The row above the first is zeros."""
    height, stride = out.shape
    zeros = np.zeros(stride, np.uint8)
    for y in range(height):
        start = y * (stride + 1) + 1
        kind = raw[start - 1]
        line = raw[start : start + stride]
        row = out[y]
        up = out[y - 1] if y > 0 else zeros
        if kind == 0:
            _copy(line, row)
        elif kind == 1:
            _sub3(line, row) if bpp == 3 else _sub1(line, row)
        elif kind == 2:
            _up(line, up, row)
        elif kind == 3:
            _average3(line, up, row) if bpp == 3 else _average1(line, up, row)
        elif kind == 4:
            _paeth3(line, up, row) if bpp == 3 else _paeth1(line, up, row)
        else:
            return False
    return True


@njit(**JIT_OPTIONS)
def _copy(line: np.ndarray, row: np.ndarray) -> None:
    for x in range(line.shape[0]):
        row[x] = line[x]


@njit(**JIT_OPTIONS)
def _up(line: np.ndarray, up: np.ndarray, row: np.ndarray) -> None:
    for x in range(line.shape[0]):
        row[x] = (line[x] + up[x]) & 0xFF


@njit(**JIT_OPTIONS)
def _sub1(line: np.ndarray, row: np.ndarray) -> None:
    a = np.int32(0)
    for x in range(line.shape[0]):
        a = (line[x] + a) & 0xFF
        row[x] = a


@njit(**JIT_OPTIONS)
def _sub3(line: np.ndarray, row: np.ndarray) -> None:
    a0 = a1 = a2 = np.int32(0)
    for i in range(line.shape[0] // 3):
        x = 3 * i
        a0 = (line[x] + a0) & 0xFF
        a1 = (line[x + 1] + a1) & 0xFF
        a2 = (line[x + 2] + a2) & 0xFF
        row[x] = a0
        row[x + 1] = a1
        row[x + 2] = a2


@njit(**JIT_OPTIONS)
def _average1(line: np.ndarray, up: np.ndarray, row: np.ndarray) -> None:
    a = np.int32(0)
    for x in range(line.shape[0]):
        a = (line[x] + ((a + up[x]) >> 1)) & 0xFF
        row[x] = a


@njit(**JIT_OPTIONS)
def _average3(line: np.ndarray, up: np.ndarray, row: np.ndarray) -> None:
    a0 = a1 = a2 = np.int32(0)
    for i in range(line.shape[0] // 3):
        x = 3 * i
        a0 = (line[x] + ((a0 + up[x]) >> 1)) & 0xFF
        a1 = (line[x + 1] + ((a1 + up[x + 1]) >> 1)) & 0xFF
        a2 = (line[x + 2] + ((a2 + up[x + 2]) >> 1)) & 0xFF
        row[x] = a0
        row[x + 1] = a1
        row[x + 2] = a2


@njit(**JIT_OPTIONS)
def _paeth(a: np.int32, b: np.int32, c: np.int32) -> np.int32:
    """Whichever of ``a``, ``b``, ``c`` is closest to ``p = a + b - c``, ties in that order."""
    pa = abs(b - c)  # |p - a|
    pb = abs(a - c)  # |p - b|
    pc = abs(a + b - 2 * c)  # |p - c|
    if pb < pa:
        pa, a = pb, b
    return c if pc < pa else a


@njit(**JIT_OPTIONS)
def _paeth1(line: np.ndarray, up: np.ndarray, row: np.ndarray) -> None:
    a = c = np.int32(0)
    for x in range(line.shape[0]):
        b = np.int32(up[x])
        a = (line[x] + _paeth(a, b, c)) & 0xFF
        row[x] = a
        c = b


@njit(**JIT_OPTIONS)
def _paeth3(line: np.ndarray, up: np.ndarray, row: np.ndarray) -> None:
    a0 = a1 = a2 = c0 = c1 = c2 = np.int32(0)
    for i in range(line.shape[0] // 3):
        x = 3 * i
        b0, b1, b2 = np.int32(up[x]), np.int32(up[x + 1]), np.int32(up[x + 2])
        a0 = (line[x] + _paeth(a0, b0, c0)) & 0xFF
        a1 = (line[x + 1] + _paeth(a1, b1, c1)) & 0xFF
        a2 = (line[x + 2] + _paeth(a2, b2, c2)) & 0xFF
        row[x] = a0
        row[x + 1] = a1
        row[x + 2] = a2
        c0, c1, c2 = b0, b1, b2
