"""How ``srbench-eval run`` asks the C allocator to keep image buffers for reuse.

A run allocates and frees a few large arrays per image (decoded pixels, float planes, resized
planes, Y planes). glibc's ``malloc`` serves each allocation over its dynamic ``mmap`` threshold
(128 KiB to 32 MiB) with a fresh ``mmap`` and returns it on ``free``, so every image pays the kernel
again for zeroed pages: about 100,000 page faults and 0.4 s of system time over the 219 images of
Set5, Set14, BSD100 and Urban100 (``benchmarks/README.md``). :func:`keep_freed_memory` raises the
``mmap`` and trim thresholds with ``mallopt`` so that freed buffers stay in the heap and the next
image reuses them; the process keeps up to its peak (a few hundred MB for the largest benchmark
images) until it exits. Nothing changes elsewhere: other C libraries (musl) and other systems have
no ``mallopt``, and the call is then skipped.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

SETTINGS = ((M_MMAP_THRESHOLD, 1 << 30), (M_TRIM_THRESHOLD, 1 << 31), (M_TOP_PAD, 64 << 20))
"""``mallopt`` parameters and values: allocations up to 1 GiB from the heap, at most 2 GiB of free
memory kept at its top, and the heap grown 64 MiB at a time."""


def keep_freed_memory() -> bool:
    """Apply :data:`SETTINGS` to glibc's allocator; ``True`` when every ``mallopt`` call took."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no mallopt: not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS)


__all__ = ["keep_freed_memory"]
