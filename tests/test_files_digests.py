"""The one atomic writer (:mod:`srbench_eval.files`) and SHA-256 helper (:mod:`srbench_eval.digests`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from srbench_eval.digests import sha256_bytes, sha256_file, sha256_file_memo, sha256_text
from srbench_eval.errors import SrbenchError
from srbench_eval.files import write_bytes_atomic, write_text_atomic


def test_text_and_bytes_are_written_whole_and_hashed_alike(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.txt"
    write_text_atomic(path, "ψ results\n")
    assert path.read_bytes() == "ψ results\n".encode()
    assert (
        sha256_file(path) == sha256_text("ψ results\n") == hashlib.sha256("ψ results\n".encode()).hexdigest()
    )
    write_bytes_atomic(path, b"\x00" * (3 << 20))
    assert sha256_file(path) == sha256_bytes(b"\x00" * (3 << 20)) == sha256_file_memo(path)
    assert [p.name for p in path.parent.iterdir()] == ["b.txt"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SrbenchError, match=r"file/out.txt: cannot write the file: a file is in the way"):
        write_text_atomic(tmp_path / "file" / "out.txt", "y")
    assert (tmp_path / "file").read_text() == "x"
