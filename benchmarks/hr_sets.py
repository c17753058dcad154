"""The HR files of the standard test sets, as the benchmark scripts read them (``ROOT/SET/HR/``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from srbench_eval.data.io.images import is_image_file


def hr_files(root: Path, sets: Iterable[str]) -> list[Path]:
    """Every image file of ``root/SET/HR`` for each set, sorted by name, sets in the given order;
    exits with a one-line message naming a folder that is not there."""
    files: list[Path] = []
    for name in sets:
        folder = root / name / "HR"
        if not folder.is_dir():
            raise SystemExit(f"{folder}: not found; pass --root pointing at the HR mirror")
        files.extend(sorted(p for p in folder.iterdir() if is_image_file(p)))
    return files
