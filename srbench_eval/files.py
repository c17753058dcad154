"""Writing files safely: atomic replacement, modes from the umask, one-line errors.

Every file the tool writes (results, SR images, stamps, checkpoints, logs) goes through
:func:`write_atomic`: a temporary file in the target's folder, then a rename, so a reader never sees
half a file and a failed write leaves the previous file intact. ``mkstemp`` and ``mkdtemp`` create
0600 files and 0700 folders; what the tool leaves behind gets the modes the umask gives instead
(0644 and 0755 under the usual 022), as any other program's output. A failed write is the one-line
:func:`~srbench_eval.errors.os_error` naming the path (and saying when the disk is full).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from srbench_eval.errors import os_error


def umask() -> int:
    """The process umask, read without changing it where Linux allows (``/proc/self/status``;
    ``os.umask`` would change it for a moment in every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets under the umask (0644 for 022)."""
    return 0o666 & ~umask()


def dir_mode() -> int:
    """The mode a new folder gets under the umask (0755 for 022)."""
    return 0o777 & ~umask()


def write_atomic(
    path: str | Path,
    write: Callable[[BinaryIO], object],
    doing: str = "write the file",
    *,
    fsync: bool = False,
) -> None:
    """``write(f)`` into a temporary file beside ``path``, then rename it over ``path`` (mode from the
    umask); on any failure the temporary file is removed and ``path`` is left as it was. ``fsync``
    flushes the data to the disk before the rename (checkpoints)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise os_error(path, e, doing) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise os_error(path, e, doing) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`write_atomic`)."""
    write_atomic(path, lambda f: f.write(data))


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` in UTF-8 to ``path`` atomically (:func:`write_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def copy_atomic(source: str | Path, dest: str | Path) -> None:
    """Copy the file ``source`` to ``dest`` atomically (:func:`write_atomic`, in 1 MiB chunks): a
    reader of ``dest`` (a cache) sees the old file or the whole new one."""

    def copy(f: BinaryIO) -> None:
        with open(source, "rb") as src:
            shutil.copyfileobj(src, f, 1 << 20)

    write_atomic(dest, copy, "copy the file")


__all__ = [
    "copy_atomic",
    "dir_mode",
    "file_mode",
    "umask",
    "write_atomic",
    "write_bytes_atomic",
    "write_text_atomic",
]
