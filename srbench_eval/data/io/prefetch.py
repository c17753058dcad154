"""Reading a run's HR images while the numerics load.

``srbench-eval run`` spends its first half second importing NumPy and numba and starting numba, one
core's worth of Python, while the other core has nothing to do; decoding the PNG files is the largest
part of the work that follows. :func:`prefetching` starts one thread that reads the files the run will
read, in order, before the evaluation exists: a plain PNG is only inflated (ISA-L, no GIL, no numba:
:func:`srbench_eval.data.io.images.prefetch_image`), anything else decoded (OpenCV), and
:func:`srbench_eval.data.io.images.read_image` takes the result from it (unfiltering an inflated PNG with
the compiled kernel) instead of reading the file again. It changes no value: the same decoder runs,
an image is handed over only if its file's size and modification time are unchanged, at most
``budget`` bytes wait unclaimed, a file that fails is left for the run to read (and report) itself,
and a file the run asks for before the thread reached it is simply read by the run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from srbench_eval.data.io import images

if TYPE_CHECKING:
    import numpy as np

    from srbench_eval.data.io.png_decode import Inflated

BUDGET = 192 * 2**20
"""Decoded bytes held for the run at most (about 80 Urban100 images)."""


def _identity(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


class Prefetcher:
    """One thread decoding ``paths`` in order (see the module docstring); :meth:`take` hands them out."""

    def __init__(self, paths: Sequence[Path], budget: int = BUDGET) -> None:
        self._paths = [os.path.abspath(p) for p in paths]
        self._budget = budget
        self._cond = threading.Condition()
        self._ready: dict[str, tuple[tuple[int, int], np.ndarray | Inflated]] = {}
        self._taken: set[str] = set()
        self._current: str | None = None
        self._held = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="srbench-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for path in self._paths:
            with self._cond:
                while self._held > self._budget and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                if path in self._taken:
                    continue
                self._current = path
            try:
                ident = _identity(path)
                img = images.prefetch_image(Path(path))
            except Exception:  # noqa: BLE001 (the run reads this file itself and reports its error)
                img = None
            with self._cond:
                self._current = None
                if img is not None and path not in self._taken:
                    self._ready[path] = (ident, img)
                    self._held += img.nbytes
                self._cond.notify_all()

    def take(self, path: Path) -> np.ndarray | Inflated | None:
        """The decoded image of ``path`` (a plain PNG only inflated,
        :func:`~srbench_eval.data.io.images.prefetch_image`) if the thread has it (waiting while it reads
        that very file), else ``None``; either way the thread will not read ``path`` afterwards."""
        key = os.path.abspath(path)
        with self._cond:
            while self._current == key:
                self._cond.wait()
            self._taken.add(key)
            entry = self._ready.pop(key, None)
            if entry is not None:
                self._held -= entry[1].nbytes
                self._cond.notify_all()
        if entry is None:
            return None
        try:
            return entry[1] if _identity(key) == entry[0] else None
        except OSError:
            return None

    def close(self) -> None:
        """Stop the thread and drop every image not taken."""
        with self._cond:
            self._stop = True
            self._ready.clear()
            self._cond.notify_all()
        self._thread.join()


@contextmanager
def prefetching(paths: Sequence[Path], budget: int = BUDGET) -> Iterator[Prefetcher]:
    """Decode ``paths`` in a background thread for :func:`~srbench_eval.data.io.images.read_image`
    within the ``with`` block (one prefetcher at a time)."""
    prefetcher = Prefetcher(paths, budget)
    previous, images.prefetched = images.prefetched, prefetcher
    try:
        yield prefetcher
    finally:
        images.prefetched = previous
        prefetcher.close()
