"""Sharded evaluation: ``torchrun --nproc_per_node 2 -m srbench_eval.cli run`` on CPU (gloo).

The two ranks read and compute alternate images and gather on rank 0 the per-image values and,
for the set-level metrics, the per-image features (never an image): results.csv and summary.json
must equal one process's. The ranks run through ``tests/torchrun_probe.py``, which records what
each decodes and sends.
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

from srbench_eval.data.io.images import write_image
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


METRICS = "psnr,ssim,fid,fid-patch"
PATCH = "fid-patch.patch_size=24"  # 2 or 3 patches an image


def _torchrun(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node 2 tests/torchrun_probe.py ARGS``, the probe's records in
    ``tmp_path/probe``."""
    probe = tmp_path / "probe"
    probe.mkdir()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(root), "PROBE_DIR": str(probe), **env}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    return subprocess.run(
        [*cmd, str(root / "tests" / "torchrun_probe.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def test_two_ranks_give_the_results_of_one_process(tmp_path: Path, stand_in_weights) -> None:
    """PSNR/SSIM per image on each rank; FID and FID-patch (stand-in Inception weights) from the
    features each rank computes for its own images, added on rank 0 in image order; --save-sr
    images written by the rank that made them: results.csv, summary.json and the SR files equal
    to one process's. Rank 1 decodes only its own images, and only feature rows travel."""
    stand_in_weights("inception-fid")
    hr = _images(tmp_path / "hr")
    models = f"bicubic,net={__name__}:tiny_net"
    args = ["run", "--models", models, "--scale", "2", "--datasets", str(hr), "--metrics", METRICS]
    args += ["--metric-option", PATCH, "--device", "cpu", "--quiet", "--save-sr"]
    proc = _torchrun(tmp_path, [*args, "--out", str(tmp_path / "two")])
    probe = tmp_path / "probe"
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("results:") == 1  # rank 0 reports
    cfg = RunConfig(
        models=tuple(models.split(",")),
        scale=2,
        datasets=(str(hr),),
        metrics=tuple(METRICS.split(",")),
        metric_options=(PATCH,),
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
    assert summaries[0]["results"] == summaries[1]["results"]  # FID and FID-patch included
    assert summaries[0]["statistics"] == summaries[1]["statistics"]
    assert summaries[0]["provenance"]["datasets"] == summaries[1]["provenance"]["datasets"]  # rank 0's
    fids = [e for e in summaries[1]["results"] if e["metric"] in ("fid", "fid-patch")]
    assert len(fids) == 4 and all(e["value"] == e["value"] for e in fids)  # not NaN
    assert sorted(p.relative_to(two) for p in two.rglob("*")) == sorted(
        p.relative_to(one) for p in one.rglob("*")
    )
    for sr in (one / "sr").rglob("*.png"):
        assert sr.read_bytes() == (two / sr.relative_to(one)).read_bytes()
    assert {"hr", "one", "two", "probe"} == {p.name for p in tmp_path.iterdir()}

    ranks = [json.loads((probe / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[1]["decoded"] == ["im1.png", "im3.png"]  # its shard, nothing else
    assert sorted(ranks[0]["decoded"]) == sorted(
        [f"im{i}.png" for i in range(5)] + ["im0.png", "im2.png", "im4.png"]
    )
    shapes = [shape for r in ranks for shape in r["shipped"]]
    assert shapes and all(len(s) == 2 and s[1] == 2048 for s in shapes), shapes  # feature rows only


def test_ranks_that_find_other_images_stop_before_any_work(tmp_path: Path) -> None:
    hr = _images(tmp_path / "hr", n=3)
    out = tmp_path / "out"
    args = ["run", "--models", "bicubic", "--datasets", str(hr), "--device", "cpu", "--quiet"]
    proc = _torchrun(tmp_path, [*args, "--out", str(out)], PROBE_RANK_MISSES_AN_IMAGE="1")
    assert proc.returncode != 0
    assert "error: rank 1 finds other images in --datasets than rank 0" in proc.stderr, proc.stderr[-3000:]
    assert {p.name for p in tmp_path.iterdir()} == {"hr", "probe"}  # no run folder, no staging left
    records = [json.loads((tmp_path / "probe" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert records[1]["decoded"] == [] and sorted(records[0]["decoded"]) == ["im0.png", "im1.png", "im2.png"]
