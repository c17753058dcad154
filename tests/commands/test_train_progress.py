"""`srbench-eval train` in a pipe (stderr not a terminal) prints a progress line per log interval."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from srbench_eval.cli import cli
from tests.test_train import TINY_SRCNN, make_images


def _args(tmp_path: Path) -> list[str]:
    images = make_images(tmp_path / "hr", n=2, size=(32, 32))
    args = ["train", "--model", "srcnn", "--preset", "smoke", "--data", str(images), "--val", "none"]
    args += ["--iterations", "4", "--batch-size", "2", "--patch", "16", "--checkpoints", str(tmp_path / "c")]
    return args + [a for o in TINY_SRCNN for a in ("--set", o)]


def test_train_in_a_pipe_prints_progress_lines_and_quiet_prints_none(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, _args(tmp_path))  # CliRunner's stderr is not a terminal
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if re.search(r": step \d+/4 \(\d+%\) loss ", ln)]
    assert lines and lines[-1].split(": step ")[1].startswith("4/4"), res.stderr
    assert all("it/s, ETA" in ln for ln in lines)
    quiet = CliRunner().invoke(cli, [*_args(tmp_path / "q"), "--quiet"])
    assert quiet.exit_code == 0 and ": step " not in quiet.stderr
