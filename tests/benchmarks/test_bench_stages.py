"""benchmarks/bench_stages.py runs on tiny inputs and times every stage. No time is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from srbench_eval.data.io.images import write_image

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("protocol", ["basicsr", "matlab"])
def test_bench_stages_times_every_stage(tmp_path: Path, protocol: str) -> None:
    rng = np.random.default_rng(4)
    (tmp_path / "A" / "HR").mkdir(parents=True)
    for k, shape in enumerate([(36, 44, 3), (40, 41)]):
        write_image(tmp_path / "A" / "HR" / f"a{k}.png", rng.integers(0, 256, shape, np.uint8))
    args = ["--root", str(tmp_path), "--sets", "A", "--protocol", protocol, "--repeat", "1"]
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_stages.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    for stage in ("PNG decoding", "LR degradation", "bicubic upscaling", "SSIM, SR side", "total"):
        assert stage in out.stdout
