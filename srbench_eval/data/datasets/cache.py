"""The dataset cache on disk: where things live, the modes they get, swapping folders in, and
cleaning up after a killed run.

Layout of ``$SRBENCH_DATA`` (default ``~/.cache/srbench-eval``): ``<name>/HR/`` verified copies,
``archives/`` downloaded archives, ``.stamps/`` pixel-hash stamps, and hidden
``.<name>.partial-<host>-<pid>-XXXX`` / ``.<name>.old-<host>-<pid>-0`` folders while an install runs.
Everything created here gets the modes of the umask (0644 files, 0755 folders for 022), including
what ``tempfile`` would make 0600/0700.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

from srbench_eval.errors import SrbenchError
from srbench_eval.files import dir_mode

DATA_ENV = "SRBENCH_DATA"
STALE_S = 6 * 3600  # a temporary folder of another host (or a reused pid) this old is abandoned
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def data_dir() -> Path:
    """The cache folder: ``$SRBENCH_DATA`` or ``~/.cache/srbench-eval`` (refused if it is a file)."""
    path = Path(os.environ.get(DATA_ENV) or Path.home() / ".cache" / "srbench-eval").expanduser()
    if path.exists() and not path.is_dir():
        raise SrbenchError(
            f"{DATA_ENV}={path}: not a folder; point {DATA_ENV} at a folder for the dataset cache "
            f"(or unset it for ~/.cache/srbench-eval)"
        )
    return path


def dataset_dir(name: str) -> Path:
    """Where the verified copy of registry dataset ``name`` lives: ``<cache>/<name>/HR``."""
    return data_dir() / name / "HR"


def stamp_dir() -> Path:
    """Where the pixel-hash stamps live (see :mod:`srbench_eval.data.datasets.manifest`)."""
    return data_dir() / ".stamps"


def disk_full(err: OSError) -> bool:
    return err.errno in _DISK_FULL


def local_error(err: OSError, path: Path | str, doing: str) -> SrbenchError:
    """A one-line error for a failed write in the cache: the path and, above all, a full disk."""
    path = err.filename or path
    if disk_full(err):
        return SrbenchError(
            f"{path}: disk full while {doing}; nothing was installed (free space there, or point "
            f"{DATA_ENV} at another disk)"
        )
    return SrbenchError(f"{path}: {err.strerror or str(err)} while {doing}; nothing was installed")


def temp_dir(root: Path, name: str, kind: str = "partial") -> Path:
    """A new hidden folder ``.<name>.<kind>-<host>-<pid>-XXXX`` in ``root``, with the mode a new folder
    gets under the umask (``mkdtemp`` makes it 0700). Host and pid let :func:`remove_stale` tell a
    leftover of a killed run from the folder of a run still going."""
    path = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}.{kind}-{_host()}-{os.getpid()}-"))
    path.chmod(dir_mode())
    return path


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def replace_dir(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target`` by renames; an existing ``target`` is moved aside first
    and removed only after the new one is in place (put back if the swap fails)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(new, target)
        return
    except OSError:
        if not target.exists():
            raise
    old = target.with_name(f".{target.name}.old-{_host()}-{os.getpid()}-0")
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


_TEMP = re.compile(r"\.(?:partial|old)-(?P<host>[A-Za-z0-9._]+)-(?P<pid>\d+)-[^-]*$")


def _abandoned(path: Path, now: float) -> bool:
    """Whether the temporary folder ``path`` belongs to no running install: made on this host by a
    process that is gone, or not touched for ``STALE_S`` (another host, a reused pid)."""
    m = _TEMP.search(path.name)
    if m and m["host"] == _host():
        try:
            os.kill(int(m["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, OverflowError):
            pass
    try:  # a live pid may be a reused one: fall back on the age
        return now - path.stat().st_mtime > STALE_S
    except OSError:
        return False


def remove_stale(root: Path, name: str) -> None:
    """Remove what a killed install of ``name`` left in the cache: ``.<name>.partial-*`` and
    ``.<name>.old-*`` folders of processes that are gone (or of any process, when old)."""
    now = time.time()
    for p in [*root.glob(f".{name}.partial-*"), *root.glob(f".{name}.old-*")]:
        if _abandoned(p, now):
            shutil.rmtree(p, ignore_errors=True)
