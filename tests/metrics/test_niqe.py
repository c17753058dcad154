"""NIQE against the MATLAB release's values (pyiqa's calibration row ``niqe``) with the published
pristine model, installed as the registry's genuine file from the oracle copy."""

from __future__ import annotations

import shutil

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


@requires_iqa
@requires_pristine
def test_release_values_on_rgb2gray(pristine) -> None:
    """Measured: |ours - MATLAB| = 0.0097, 1e-5, 0.0013, 0.018, 0.030 (flat areas; module doc)."""
    metric = get_metric("NIQE")(NO_CROP)
    diffs = []
    for stem in IQA_IMAGES:
        dist, ref = (rgb2gray_uint8(t).float() for t in iqa_pair(stem))
        got = float(metric.update(dist, ref)[0])
        diffs.append(abs(got - official("niqe")[stem]))
        assert got == pytest.approx(float(metric.update(dist, dist * 0)[0]))  # no-reference
    assert max(diffs) < 0.035
    assert diffs[1] < 1e-4  # I04: no flat area, equal to the release


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
