"""Fault tests: one test per case of bad input, fault or concurrency (README "Guarantees")."""

from __future__ import annotations

import pytest

from srbench_eval.cli import main


def run_argv(models: str, datasets: str, out: object, scale: str = "2", *extra: str) -> list[str]:
    """``run --quiet --models M --datasets D --scale S --out OUT [extra]``: where most fault cases start."""
    argv = ["run", "--quiet", "--models", models, "--datasets", datasets, "--scale", scale]
    return [*argv, "--out", str(out), *extra]


def cli_error(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 2) -> str:
    """Run the CLI on ``argv``; assert exit ``code``, no traceback and a one-line ``error:``; the line."""
    assert main(argv) == code
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "Traceback" not in captured.out + captured.err
    assert err.startswith("error: ") and "\n" not in err, err
    return err
