"""Decoding the plain PNG files of the benchmarks: ISA-L's inflate and a compiled unfilter.

A :func:`~srbench_eval.data.io.png_layout.plain_png` file (8-bit grey or RGB, not interlaced, no ``tRNS``,
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

Both halves release the GIL (ISA-L's inflate and the ``nogil`` kernel of
:mod:`~srbench_eval.data.io.png_unfilter`), so the read-ahead threads of a run decode files in parallel;
they are also separate functions (:func:`inflate_plain`, :func:`unfilter_rows`), so that a run's
prefetch thread inflates files before numba has started (:mod:`srbench_eval.data.io.prefetch`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from isal import isal_zlib

from srbench_eval.data.io.png_layout import PlainPng, plain_png_layout


class Inflated(NamedTuple):
    """The inflated rows of a plain PNG, still filtered (:func:`inflate_plain`): ``H`` times a
    filter-type byte and ``W * channels`` bytes."""

    raw: bytes
    layout: PlainPng

    @property
    def nbytes(self) -> int:
        return len(self.raw)


def decode_plain(data: bytes, layout: PlainPng | None = None) -> np.ndarray | None:
    """A :func:`~srbench_eval.data.io.png_layout.plain_png` file as ``(H, W)`` grey or ``(H, W, 3)`` RGB
    ``uint8``; ``None`` for any other file and for a stream or filter byte libpng may read
    otherwise (see the module docstring). ``layout``: the file's
    :func:`~srbench_eval.data.io.images.plain_png_layout`, when the caller already has it."""
    inflated = inflate_plain(data, layout)
    return None if inflated is None else unfilter_rows(inflated)


def inflate_plain(data: bytes, layout: PlainPng | None = None) -> Inflated | None:
    """The first half of :func:`decode_plain`: the file's zlib stream inflated (Adler-32 checked),
    exactly ``H * (1 + W * channels)`` bytes, or ``None`` (as :func:`decode_plain`). Needs no numba."""
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
    size = layout.height * (layout.width * layout.channels + 1)
    inflater = isal_zlib.decompressobj(wbits)
    try:
        raw = inflater.decompress(stream, size + 1)  # one byte more than the rows: a longer stream shows
    except isal_zlib.error:
        return None
    if len(raw) != size or not inflater.eof:  # ... and a stream must end (Adler-32 checked) with them
        return None
    return Inflated(raw, layout)


def unfilter_rows(inflated: Inflated) -> np.ndarray | None:
    """The second half of :func:`decode_plain`: the rows unfiltered into the image
    (:func:`srbench_eval.data.io.png_unfilter.unfilter`), or ``None`` at a filter type over 4."""
    from srbench_eval.data.io.png_unfilter import unfilter

    layout = inflated.layout
    out = np.empty((layout.height, layout.width * layout.channels), np.uint8)
    if not unfilter(np.frombuffer(inflated.raw, np.uint8), out, layout.channels):
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
