"""The allocator settings of a run: applied on glibc, skipped elsewhere, never an error."""

from __future__ import annotations

import subprocess
import sys

from srbench_eval import allocator


def test_glibc_takes_the_settings_in_a_fresh_process() -> None:
    code = "from srbench_eval.allocator import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    import platform

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == str(glibc)


def test_other_systems_are_skipped(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False
