"""benchmarks/bench_startup.py runs every start-up command once and prints a line for each (no
time is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_startup_times_every_command(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_startup.py"), "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    for command in ("--help", "metrics", "models list", "models show esrgan-dp", "weights list"):
        assert re.search(rf"^{re.escape(command)} +[\d.]+ s wall +[\d.]+ s user\+sys$", out.stdout, re.M)
