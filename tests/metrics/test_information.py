"""IFC and VIF against the authors' MATLAB values: SelfExSR's per-image IFC and pyiqa's VIF row."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from srbench_eval.data.degrade.bicubic import imresize_uint8, round_uint8
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import get_metric
from srbench_eval.metrics.base import MetricSettings
from srbench_eval.metrics.fidelity import rgb_to_y
from srbench_eval.metrics.information import distortion_channel
from srbench_eval.metrics.luma import rgb2gray_uint8
from srbench_eval.protocol import resolve
from tests.conftest import SHARED_BENCHMARKS, requires_shared
from tests.metrics.oracles import (
    IQA_IMAGES,
    NO_CROP,
    SELFEXSR,
    image,
    iqa_pair,
    official,
    requires_iqa,
    requires_selfexsr,
    selfexsr_scores,
)


@requires_selfexsr
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_ifc_equals_selfexsr_matlab_per_image(scale: int) -> None:
    """compute_difference.m: rounded Y (rgb2ycbcr of uint8), crop = scale, ifcvec(HR, SR) with SR
    the uint8-pass MATLAB bicubic upscaling of their LR files. The rounded Y is passed as a grey
    plane under the default protocol, and as RGB under the ``selfexsr`` protocol, whose ``y`` rule
    rounds it: both must give their values."""
    plain = get_metric("IFC")(MetricSettings(scale=scale))
    selfexsr = get_metric("IFC")(MetricSettings(scale=scale, protocol=resolve("selfexsr")))
    for k in range(1, 6):
        stem = SELFEXSR / "Set5" / f"x{scale}" / f"img_00{k}_SRF_{scale}"
        hr = image(f"{stem}_HR.png")
        sr = imresize_uint8(image(f"{stem}_LR.png"), scale)
        rounded_y = [round_uint8(rgb_to_y(t)).float() for t in (sr, hr)]
        want = selfexsr_scores()[f"Set5/x{scale}"][f"img_00{k}"]["ifc"]
        assert float(plain.update(*rounded_y)[0]) == pytest.approx(want, rel=1e-4), f"img_00{k} x{scale}"
        assert float(selfexsr.update(sr, hr)[0]) == pytest.approx(want, rel=1e-4), f"img_00{k} x{scale}"


@requires_iqa
@pytest.mark.parametrize("stem", IQA_IMAGES)
def test_vif_on_rgb2gray_equals_official_matlab(stem: str) -> None:
    dist, ref = (rgb2gray_uint8(t).float() for t in iqa_pair(stem))
    got = float(get_metric("vif")(NO_CROP).update(dist, ref)[0])
    assert round(got, 4) == official("vif")[stem]


def _box_naive(x: np.ndarray, side: int) -> np.ndarray:
    """Box sums at every third sample from the second, 'reflect1' (mirror without the edge) borders."""
    r = side // 2
    p = np.pad(x, r, mode="reflect")
    rows = range(1, x.shape[0] - 1, 3)
    cols = range(1, x.shape[1] - 1, 3)
    return np.array([[p[i : i + side, j : j + side].sum() for j in cols] for i in rows])


def test_distortion_channel_is_the_regression_of_the_release() -> None:
    rng = np.random.default_rng(1)
    c = rng.normal(size=(18, 21))
    d = 0.7 * c + rng.normal(scale=0.3, size=c.shape)
    for exp in (1, 2):
        side = 2**exp + 1
        n = side * side
        g, vv = distortion_channel(c, d, exp)
        mc, md = _box_naive(c, side) / n, _box_naive(d, side) / n
        cov = _box_naive(c * d, side) - n * mc * md
        var_c = _box_naive(c * c, side) - n * mc * mc
        var_d = _box_naive(d * d, side) - n * md * md
        np.testing.assert_allclose(g, cov / var_c, rtol=1e-9)
        np.testing.assert_allclose(vv, (var_d - cov * cov / var_c) / n, rtol=1e-9)


@pytest.mark.parametrize("name", ["ifc", "vif"])
def test_identity_and_too_small(name: str) -> None:
    rng = np.random.default_rng(0)
    hr = torch.from_numpy(rng.integers(0, 256, (1, 3, 80, 90)).astype(np.float32))
    metric = get_metric(name)(MetricSettings(scale=2))
    same = float(metric.update(hr, hr)[0])
    noisy = (hr + torch.from_numpy(rng.normal(0, 20, hr.shape)).float()).clamp(0, 255).round()
    worse = float(metric.update(noisy, hr)[0])
    assert worse < same
    if name == "vif":
        assert same == pytest.approx(1.0, abs=1e-9)
    small = torch.zeros(1, 3, 75, 90)
    with pytest.raises(SrbenchError, match=rf"{name}: the (SR|HR) image is 71x86 pixels .* at least 72x72"):
        metric.update(small, small)


@requires_selfexsr
@requires_shared
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_run_selfexsr_protocol_ifc_from_hr_equals_matlab(tmp_path, capsys, scale: int) -> None:
    """End to end: `run --protocol selfexsr` degrades Set5's HR images itself (clamp-border uint8
    passes) and scores the bicubic model's output; every image's IFC equals SelfExSR's MATLAB value."""
    from srbench_eval.cli import main

    out = tmp_path / "out"
    argv = ["run", "--quiet", "--models", "bicubic", "--datasets", "Set5", "--scale", str(scale)]
    argv += ["--protocol", "selfexsr", "--metrics", "IFC", "--mirror", str(SHARED_BENCHMARKS)]
    argv += ["--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    with open(out / "results.csv", newline="") as f:
        got = {r["image"]: float(r["value"]) for r in csv.DictReader(f) if r["metric"] == "ifc"}
    names = ("baby", "bird", "butterfly", "head", "woman")  # img_001 .. img_005
    want = selfexsr_scores()[f"Set5/x{scale}"]
    assert got == pytest.approx({n: want[f"img_00{k}"]["ifc"] for k, n in enumerate(names, 1)}, rel=1e-4)
