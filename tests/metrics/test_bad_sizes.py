"""`srbench-eval run` on an image too small for MS-SSIM, IFC, VIF or NIQE (issue 15, bad input): one
line naming the dataset's image, the model, the metric, the size after the crop and the minimum;
no run folder left behind. The metrics' own checks are in their test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from srbench_eval import weights
from srbench_eval.data.io.images import write_image
from tests.faults import cli_error
from tests.metrics.oracles import IQA

PRISTINE = IQA / "niqe_pris_params.npz"


@pytest.mark.parametrize(
    ("metric", "side", "minimum"),
    [("ms-ssim", 168, 161), ("ifc", 76, 72), ("vif", 76, 72), ("niqe", 100, 96), ("dists", 28, 31)],
)
def test_too_small_for_the_metric_names_the_image(
    tmp_path: Path, capsys, stand_in_weights, metric: str, side: int, minimum: int
) -> None:
    """The Y metrics see the x4 border crop (4 on each side), DISTS the whole image."""
    if metric == "dists":
        stand_in_weights("vgg16")
    if metric == "niqe":
        if not PRISTINE.is_file():
            pytest.skip(f"{PRISTINE} is absent")
        shutil.copyfile(PRISTINE, stand_in_weights() / weights.get("niqe-pris").filename)
    hr = tmp_path / "tiny"
    hr.mkdir()
    rng = np.random.default_rng(0)
    write_image(hr / "big.png", rng.integers(0, 256, (200, 204, 3), dtype=np.uint8))
    write_image(hr / "small.png", rng.integers(0, 256, (side, side + 8, 3), dtype=np.uint8))
    out = tmp_path / "out"
    args = ["run", "--quiet", "--out", str(out), "--models", "bicubic", "--datasets", str(hr)]
    err = cli_error(capsys, [*args, "--metrics", metric.upper()])
    after = side if metric == "dists" else side - 8
    # IFC/VIF/DISTS fail on the HR side, in the read-ahead (named by path); MS-SSIM/NIQE on the SR side
    named = str(hr / "small.png") if metric in ("ifc", "vif", "dists") else "tiny/small, model 'bicubic'"
    assert named in err, err
    assert f"{metric}: the " in err and f"{after}x{after + 8} pixels" in err, err
    assert f"at least {minimum}x{minimum}" in err, err
    assert not out.exists() and not any(p.name.startswith(".out") for p in tmp_path.iterdir())
