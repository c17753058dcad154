"""Sharded evaluation: ``torchrun --nproc_per_node 2 -m srbench_eval.cli run`` on CPU (gloo).

The two ranks compute alternate images and gather the per-image values (and, for set-level
metrics, the images) on rank 0: results.csv must be byte-identical to one process's, and only
rank 0 writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from srbench_eval.data.images import write_image
from srbench_eval.evaluation import RunConfig, run_evaluation

pytestmark = pytest.mark.slow


def tiny_net(scale: int = 2) -> torch.nn.Module:
    """A seeded 2-layer conv net after bicubic-free nearest upsampling (the run's factory spec)."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Upsample(scale_factor=scale, mode="nearest"),
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 3, 3, padding=1),
    )


def _images(folder: Path, n: int = 5) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(n):
        img = rng.integers(0, 256, (40 + 4 * i, 36, 3)).astype(np.float64)
        img = cv2.GaussianBlur(img, (5, 5), 2.0).astype(np.uint8)
        write_image(folder / f"im{i}.png", img if i != 2 else img[..., 0])  # one grey image
    return folder


def test_two_ranks_give_the_results_of_one_process(tmp_path: Path, stand_in_weights) -> None:
    """PSNR/SSIM per image on each rank, FID (stand-in Inception weights) on rank 0 from the
    gathered images, --save-sr written by rank 0: everything equal to one process."""
    stand_in_weights("inception-fid")
    hr = _images(tmp_path / "hr")
    models = f"bicubic,net={__name__}:tiny_net"
    args = ["run", "--models", models, "--scale", "2", "--datasets", str(hr), "--metrics", "psnr,ssim,fid"]
    args += ["--device", "cpu", "--quiet", "--save-sr"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = subprocess.run(
        [*cmd, "-m", "srbench_eval.cli", *args, "--out", str(tmp_path / "two")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("results:") == 1  # rank 0 reports
    cfg = RunConfig(
        models=tuple(models.split(",")),
        scale=2,
        datasets=(str(hr),),
        metrics=("psnr", "ssim", "fid"),
        device="cpu",
        save_sr=True,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each rank (OMP_NUM_THREADS=1): Inception's sums in the same order
    try:
        run_evaluation(cfg, tmp_path / "one", progress=False)
    finally:
        torch.set_num_threads(threads)
    one, two = tmp_path / "one", tmp_path / "two"
    assert (two / "results.csv").read_text() == (one / "results.csv").read_text()
    summaries = [json.loads((d / "summary.json").read_text()) for d in (one, two)]
    assert [s["provenance"]["ranks"] for s in summaries] == [1, 2]
    assert summaries[0]["results"] == summaries[1]["results"]  # FID included
    assert any(e["metric"] == "fid" and e["value"] == e["value"] for e in summaries[1]["results"])
    assert sorted(p.relative_to(two) for p in two.rglob("*")) == sorted(
        p.relative_to(one) for p in one.rglob("*")
    )
    for sr in (one / "sr").rglob("*.png"):
        assert sr.read_bytes() == (two / sr.relative_to(one)).read_bytes()
    assert {"hr", "one", "two"} <= {p.name for p in tmp_path.iterdir()}
