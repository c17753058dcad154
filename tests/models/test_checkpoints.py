"""Finding a recipe's latest checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from srbench_eval.models import checkpoints


def test_find_latest_prefers_the_highest_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(checkpoints.CHECKPOINTS_ENV, str(tmp_path))
    assert checkpoints.checkpoint_dir() == tmp_path
    assert checkpoints.find_latest("esrgan") is None
    folder = tmp_path / "esrgan"
    (folder / "x4").mkdir(parents=True)
    for name in ("step_0050000.pt", "x4/step_0400000.pt", "step_0100000.pt", "notes.txt"):
        (folder / name).write_bytes(b"")
    os.utime(folder / "step_0100000.pt", (2e9, 2e9))  # newer file, lower step
    assert checkpoints.find_latest("esrgan") == folder / "x4" / "step_0400000.pt"
    (folder / "final.pt").write_bytes(b"")  # no step: ranks below every numbered file
    assert checkpoints.find_latest("esrgan") == folder / "x4" / "step_0400000.pt"


def test_default_dir_is_under_the_current_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(checkpoints.CHECKPOINTS_ENV, raising=False)
    assert checkpoints.checkpoint_dir() == Path("checkpoints")
