"""The compiled half of decoding a plain PNG (:mod:`srbench_eval.data.io.png_decode`): undoing the
per-row filters of the PNG specification (section 9) in a numba kernel that releases the GIL.

Apart from :mod:`~srbench_eval.data.io.png_decode` so that inflating needs no numba: a run's prefetch
thread inflates files (ISA-L, no GIL) while the interpreter is still importing and numba is still
starting, and the threads that take the files unfilter them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from srbench_eval.compiled import JIT_OPTIONS


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
