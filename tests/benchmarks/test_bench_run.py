"""benchmarks/bench_run.py runs end to end on tiny inputs: both whole processes, the ratio, and
per-image values that agree with BasicSR's pipeline. No time is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from srbench_eval.data.io.images import write_image

ROOT = Path(__file__).resolve().parents[2]


def test_bench_run_reports_both_times_a_ratio_and_equal_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for name, shapes in {"A": [(36, 44, 3), (40, 41)], "B": [(52, 48, 3)]}.items():
        (tmp_path / name / "HR").mkdir(parents=True)
        for k, shape in enumerate(shapes):  # a grey image too: BasicSR reads it as three channels
            write_image(
                tmp_path / name / "HR" / f"{name.lower()}{k}.png", rng.integers(0, 256, shape, np.uint8)
            )
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_run.py"),
            "--root",
            str(tmp_path),
            "--sets",
            "A",
            "B",
        ]
        + ["--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "SRBENCH_DATA": str(tmp_path / "data"), "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert "3 images of A, B at x4" in out.stdout
    assert re.search(r"srbench-eval run : +[\d.]+ s wall", out.stdout)
    assert re.search(r"BasicSR pipeline : +[\d.]+ s wall", out.stdout)
    assert re.search(r"ratio +: +[\d.]+x wall", out.stdout)
    found = re.search(r"PSNR ([\d.e+-]+) dB, SSIM ([\d.e+-]+)", out.stdout)
    assert found is not None and float(found[1]) < 1e-6 and float(found[2]) < 1e-9
