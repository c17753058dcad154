"""NIQE against the MATLAB release's values (pyiqa's calibration row ``niqe``) with the published
pristine model, installed as the registry's genuine file from the oracle copy."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval import weights
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import get_metric
from srbench_eval.metrics.base import MetricSettings
from srbench_eval.metrics.luma import rgb2gray_uint8
from srbench_eval.metrics.niqe import aggd, gaussian_window, mscn
from tests.metrics.oracles import IQA, IQA_IMAGES, NO_CROP, iqa_pair, official, requires_iqa

PRISTINE = IQA / "niqe_pris_params.npz"
ROUNDOFF = Path(__file__).resolve().parents[2] / "benchmarks" / "niqe_roundoff.py"
requires_pristine = pytest.mark.skipif(not PRISTINE.is_file(), reason=f"{PRISTINE} is absent")


@pytest.fixture
def pristine(stand_in_weights):
    """The published pristine model in the hub cache (the oracle's copy IS the published file)."""
    ckpt = stand_in_weights()
    shutil.copyfile(PRISTINE, ckpt / weights.get("niqe-pris").filename)
    assert weights.is_genuine("niqe-pris")
    return ckpt


def test_missing_model_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(
        SrbenchError, match=r"metric niqe needs the weights file niqe_pris_params.npz.*BasicSR"
    ):
        get_metric("niqe")(MetricSettings(scale=4))


# ours - MATLAB release, as measured (module docstring): the flat areas' roundoff, I04 has none.
MEASURED = {"I03": -0.00979, "I04": 0.0, "I06": -0.00127, "I08": +0.01798, "I19": +0.02970}


@requires_iqa
@requires_pristine
@pytest.mark.parametrize("stem", IQA_IMAGES)
def test_release_values_on_rgb2gray(pristine, stem: str) -> None:
    metric = get_metric("NIQE")(NO_CROP)
    dist, ref = (rgb2gray_uint8(t).float() for t in iqa_pair(stem))
    got = float(metric.update(dist, ref)[0])
    assert got - official("niqe")[stem] == pytest.approx(MEASURED[stem], abs=1e-9 if stem == "I04" else 1e-5)
    assert got == float(metric.update(dist, dist * 0)[0])  # no-reference


@requires_iqa
@requires_pristine
def test_roundoff_spread_covers_matlab_where_there_are_flat_areas() -> None:
    """benchmarks/niqe_roundoff.py: with no flat pixel (I04) every arithmetic model gives our value;
    on I06 the flat pixels' signs move NIQE across the MATLAB value."""
    spec = importlib.util.spec_from_file_location("niqe_roundoff", ROUNDOFF)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    table = script.main(["--images", "I04,I06", "--random", "2"])
    assert table["exact"] == pytest.approx([0.0, MEASURED["I06"]], abs=1e-5)
    assert all(row[0] == pytest.approx(0.0, abs=1e-9) for row in table.values())
    i06 = [row[1] for row in table.values()]
    assert min(i06) < -0.001 and max(i06) > 0.001


@requires_pristine
def test_bad_sizes_and_flat_input(pristine) -> None:
    metric = get_metric("niqe")(MetricSettings(scale=2))
    small = torch.zeros(1, 1, 99, 120)
    with pytest.raises(SrbenchError, match=r"niqe: the SR image is 95x116 pixels .* at least 96x96"):
        metric.update(small, small)
    rng = np.random.default_rng(0)
    noise = torch.from_numpy(rng.integers(0, 256, (1, 3, 100, 200)).astype(np.float32))
    assert np.isfinite(float(metric.update(noise, noise)[0]))


def test_pieces() -> None:
    np.testing.assert_allclose(gaussian_window().sum(), 1.0)
    x = np.random.default_rng(0).normal(size=20000)
    alpha, bl, br = aggd(x)  # a Gaussian is a GGD with alpha = 2, beta = sigma sqrt(2)
    assert alpha == pytest.approx(2.0, abs=0.1) and bl == pytest.approx(np.sqrt(2), rel=0.05)
    flat = np.full((20, 20), 77.0)
    flat[:, 15:] = 90
    j = mscn(flat)
    assert (j[:, :8] == 0).all()
