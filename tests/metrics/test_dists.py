"""DISTS through the harness equals the dists-pytorch package's own module (stand-in VGG16 weights);
the official values when the published VGG16 weights are present."""

from __future__ import annotations

import pytest
import torch

from srbench_eval import weights
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import MetricSettings, get_metric
from srbench_eval.metrics.dists import _build_dists
from tests.metrics.oracles import IQA_IMAGES, NO_CROP, iqa_pair, official, requires_iqa
from tests.metrics.test_lpips_metric import image_pair

SETTINGS = MetricSettings(scale=4)


@pytest.fixture
def vgg16(stand_in_weights):
    return stand_in_weights("vgg16")


def package_dists(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """The package's module called on [0, 1] RGB, as its README does (same weights file)."""
    with torch.no_grad():
        return _build_dists().eval()(sr / 255, hr / 255).reshape(-1)


def test_dists_equals_the_package_module(vgg16) -> None:
    metric = get_metric("DISTS")(SETTINGS)
    pairs = [image_pair(48, 64, seed=1), image_pair(72, 40, seed=2)]
    for sr, hr in pairs:
        got = metric.update(sr, hr)
        want = package_dists(sr, hr)
        assert got.shape == (1,) and float(want) > 1e-3
        torch.testing.assert_close(got, want.double(), rtol=1e-6, atol=1e-8)
    (s1, h1), (s2, h2) = pairs[0], image_pair(48, 64, seed=3)
    both = get_metric("dists")(SETTINGS).update(torch.cat([s1, s2]), torch.cat([h1, h2]))
    want = torch.cat([package_dists(s1, h1), package_dists(s2, h2)]).double()
    torch.testing.assert_close(both, want, rtol=1e-6, atol=1e-8)
    assert "vgg16" in weights.stand_ins_used()


def test_grey_is_rgb_and_small_or_bad_input_is_refused(vgg16) -> None:
    sr, hr = image_pair(40, 40, c=1, seed=5)
    metric = get_metric("dists")(SETTINGS)
    torch.testing.assert_close(
        metric.update(sr, hr), package_dists(sr.repeat(1, 3, 1, 1), hr.repeat(1, 3, 1, 1)).double()
    )
    tiny = torch.zeros(1, 3, 30, 40)
    with pytest.raises(SrbenchError, match=r"dists: the (SR|HR) image is 30x40 pixels; .* 31x31"):
        metric.update(tiny, tiny)
    with pytest.raises(SrbenchError, match="outside 0..255"):
        metric.update(hr * 2, hr)


def test_missing_vgg_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(SrbenchError, match=r"metric dists needs the weights file vgg16-397923af.pth"):
        get_metric("dists")(SETTINGS)


@requires_iqa
@pytest.mark.skipif(not weights.is_genuine("vgg16"), reason="the published VGG16 weights are not installed")
@pytest.mark.parametrize("stem", IQA_IMAGES)
def test_official_values_with_published_weights(stem: str) -> None:
    dist, ref = iqa_pair(stem)
    got = float(get_metric("dists")(NO_CROP).update(dist, ref)[0])
    assert got == pytest.approx(official("dists")[stem], rel=2e-3, abs=5e-5)
