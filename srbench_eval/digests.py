"""SHA-256 digests, written once: of a file's bytes (read in 1 MiB chunks, optionally remembered per
path, size and modification time for the process) and of a text in UTF-8.

The hex digest is what results, weight pins and provenance record (FIPS 180-4 SHA-256).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20
_memo: dict[tuple[str, int, int], str] = {}


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """Hex SHA-256 of ``text`` in UTF-8 (what :func:`srbench_eval.files.write_text_atomic` stores)."""
    return sha256_bytes(text.encode("utf-8"))


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file_memo(path: Path) -> str:
    """:func:`sha256_file`, remembered per (resolved path, size, modification time) for this process:
    a file rewritten in place gets a new size or time, so it is hashed again."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _memo:
        _memo[key] = sha256_file(path)
    return _memo[key]


__all__ = ["sha256_bytes", "sha256_file", "sha256_file_memo", "sha256_text"]
