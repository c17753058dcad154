"""benchmarks/bench_metrics.py runs end to end on tiny inputs (no timing is asserted)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from srbench_eval import weights
from tests.metrics.oracles import IQA

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_metrics.py"


def test_bench_metrics_on_two_small_images(tmp_path, stand_in_weights) -> None:
    ckpt = stand_in_weights("vgg16")
    pristine = IQA / "niqe_pris_params.npz"
    if pristine.is_file():
        shutil.copyfile(pristine, ckpt / weights.get("niqe-pris").filename)
    rng = np.random.default_rng(0)
    for k in range(2):
        low = rng.uniform(0, 255, (24, 25, 3))
        img = Image.fromarray(low.astype(np.uint8)).resize((200, 192), Image.BICUBIC)
        img.save(tmp_path / f"img{k}.png")
    spec = importlib.util.spec_from_file_location("bench_metrics", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.main(["--hr-dir", str(tmp_path), "--repeat", "1"])
    by_name = {r["metric"]: r for r in rows}
    expected = {"ms-ssim", "ifc", "vif", "dists"} | ({"niqe"} if pristine.is_file() else set())
    assert expected <= set(by_name)
    assert all(r["ours_s_per_mpix"] > 0 for r in rows)
    assert {"ifc", "vif", "dists"} <= {r["metric"] for r in rows if "further_model_s_per_mpix" in r}
    (dists_ref,) = by_name["dists"]["references"]
    assert dists_ref["reference"] == "DISTS_pytorch.DISTS" and dists_ref["max_rel_diff"] < 1e-4
    for ref in by_name["ms-ssim"]["references"]:  # piq (and pyiqa where it is installed): same values
        assert ref["max_abs_diff"] < 1e-3, ref
