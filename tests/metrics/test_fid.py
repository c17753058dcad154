"""FID through the harness equals pytorch-fid's own functions (stand-in Inception weights)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from pytorch_fid.fid_score import calculate_frechet_distance

from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import MetricSettings, fid, get_metric, metric_names
from srbench_eval.metrics.fid import FeatureStats, frechet_distance, grid_patches

SETTINGS = MetricSettings(scale=4)


def image_pair(h: int, w: int, c: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(1, c, h // 8 + 2, w // 8 + 2, generator=g)
    hr = (torch.nn.functional.interpolate(low, size=(h, w), mode="bicubic") * 255).clamp(0, 255).round()
    sr = (hr + 20 * torch.randn(hr.shape, generator=g)).clamp(0, 255).round()
    return sr, hr


def stats_of(x: np.ndarray, chunks: int = 3) -> FeatureStats:
    s = FeatureStats(dim=x.shape[1], keep_rows=x.shape[1])
    for part in np.array_split(x, chunks):
        s.add(torch.from_numpy(part))
    return s


@pytest.fixture
def inception(stand_in_weights):
    fid.HR_FEATURES.clear()
    yield stand_in_weights("inception-fid")
    fid.HR_FEATURES.clear()


@functools.cache
def reference_model(torch_home: str) -> torch.nn.Module:
    from pytorch_fid.inception import InceptionV3

    return InceptionV3([3]).eval()  # pytorch-fid's defaults: resize to 299, input in [0, 1]


def reference_activations(images: list[torch.Tensor]) -> np.ndarray:
    """pytorch-fid's own InceptionV3 one image at a time, as its get_activations does with images of
    different sizes (batch size 1), on RGB in [0, 1] (grey replicated, as PIL's convert("RGB"))."""
    import os

    model = reference_model(os.environ["TORCH_HOME"])
    with torch.no_grad():
        return np.concatenate(
            [model(x.expand(-1, 3, -1, -1) / 255)[0].flatten(1).double().numpy() for x in images]
        )


def test_registry_facts() -> None:
    assert {"fid", "fid-patch"} <= set(metric_names())
    for name in ("fid", "fid-patch"):
        cls = get_metric(name)
        assert (cls.per_image, cls.higher_is_better, cls.arrow()) == (False, False, "↓")
    assert get_metric("fid-patch").patch_size == 64


@pytest.fixture
def sqrtm_compat(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytorch-fid's own FID on any SciPy (see ``tests.conftest.sqrtm_with_disp``)."""
    import scipy.linalg

    from tests.conftest import sqrtm_with_disp

    monkeypatch.setattr(scipy.linalg, "sqrtm", sqrtm_with_disp(scipy.linalg.sqrtm))


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated")
@pytest.mark.parametrize(("n1", "n2"), [(12, 9), (150, 200), (10, 150)])
def test_frechet_distance_equals_pytorch_fid(n1: int, n2: int, sqrtm_compat) -> None:
    # rank-deficient (n <= d), full-rank (n > d) and mixed sets; d = 64 keeps scipy's sqrtm quick
    rng = np.random.default_rng(n1)
    d = 64
    x1 = rng.gamma(2.0, size=(n1, d)) @ rng.normal(size=(d, d)) * 0.1
    x2 = rng.gamma(2.5, size=(n2, d)) @ rng.normal(size=(d, d)) * 0.1 + 0.3
    s1, s2 = stats_of(x1), stats_of(x2)
    np.testing.assert_allclose(s1.mean.numpy(), x1.mean(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s1.covariance(), np.cov(x1, rowvar=False), rtol=1e-9, atol=1e-12)
    expected = calculate_frechet_distance(
        x1.mean(0), np.cov(x1, rowvar=False), x2.mean(0), np.cov(x2, rowvar=False)
    )
    assert frechet_distance(s1, s2) == pytest.approx(expected, rel=1e-6)


def test_grid_patches() -> None:
    x = torch.arange(130 * 200, dtype=torch.float32).reshape(1, 1, 130, 200)
    p = grid_patches(x, 64)
    assert p.shape == (2 * 3 + 1 * 2, 1, 64, 64)  # floor(130/64) floor(200/64) + floor(98/64) floor(168/64)
    torch.testing.assert_close(p[4], x[0, :, 64:128, 64:128])
    torch.testing.assert_close(p[6], x[0, :, 32:96, 32:96])
    torch.testing.assert_close(p[7], x[0, :, 32:96, 96:160])


def test_fid_equals_pytorch_fid_pipeline(inception) -> None:
    # images of different sizes, one grey: features, statistics and distance as pytorch-fid gives them
    pairs = [image_pair(40, 56, seed=1), image_pair(33, 33, c=1, seed=3)]
    metric = get_metric("fid")(SETTINGS, batch_size=1)
    calls: list[int] = []
    hook = metric.model.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    try:
        for sr, hr in pairs:
            assert metric.update(sr, hr) is None
        got = metric.compute()
        assert sum(calls) == 4  # 2 SR + 2 HR images

        # a second model on the same dataset: same network object, HR features from the cache
        calls.clear()
        second = get_metric("fid")(SETTINGS, batch_size=1)
        assert second.model is metric.model
        for sr, hr in pairs:
            second.update(sr, hr)
        assert second.compute().value == pytest.approx(got.value, rel=1e-6)
        assert sum(calls) == 2
    finally:
        hook.remove()

    act_sr = reference_activations([sr for sr, _ in pairs])
    act_hr = reference_activations([hr for _, hr in pairs])
    np.testing.assert_allclose(metric.sr_stats.mean.numpy(), act_sr.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        metric.hr_stats.covariance(), np.cov(act_hr, rowvar=False), rtol=1e-4, atol=1e-6
    )
    assert frechet_distance(stats_of(act_sr), stats_of(act_hr)) == pytest.approx(got.value, rel=1e-5)
    assert got.n_samples == 2 and not got.reliable and "2048" in got.note
    assert got.value > 0


def test_patch_fid_is_fid_of_the_patches(inception) -> None:
    sr, hr = image_pair(40, 64, seed=4)
    metric = get_metric("fid-patch")(SETTINGS, patch_size=32, batch_size=3)  # SR, HR: a call each
    metric.update(sr, hr)
    got = metric.compute()
    sr_p, hr_p = grid_patches(sr, 32), grid_patches(hr, 32)
    assert got.n_samples == sr_p.shape[0] == 1 * 2 + 0  # 40x64 at P=32: 1x2 patches, none shifted
    act_sr = reference_activations(list(sr_p.split(1)))
    act_hr = reference_activations(list(hr_p.split(1)))
    assert frechet_distance(stats_of(act_sr, 1), stats_of(act_hr, 1)) == pytest.approx(got.value, rel=1e-5)
    assert metric.options() == {"patch_size": 32, "batch_size": 3}


def test_features_computed_anywhere_give_the_same_value(inception) -> None:
    """The SetMetric split: features of alternate images computed by two other metric objects (as
    two ranks would), added in image order, give bitwise the value of one object's updates; an
    image's features do not depend on the batch it came in (fid-patch: 2 patches an image, 3 a
    network call; fid shares the code)."""
    pairs = [image_pair(36, 44, seed=11), image_pair(36, 44, seed=12), image_pair(40, 40, c=1, seed=14)]
    name, options = "fid-patch", {"patch_size": 24, "batch_size": 3}
    one = get_metric(name)(SETTINGS, **options)
    for sr, hr in pairs:
        one.update(sr, hr)
    ranks = [get_metric(name)(SETTINGS, **options) for _ in range(2)]
    shares = [ranks[i % 2].features(sr, hr) for i, (sr, hr) in enumerate(pairs)]
    assert all(f.device.type == "cpu" for share in shares for pair in share for f in pair)
    assert ranks[0].sr_stats.n == ranks[1].sr_stats.n == 0  # features() leaves the state alone
    gathered = get_metric(name)(SETTINGS, **options)
    for share in shares:
        gathered.add_features(share)
    assert gathered.compute() == one.compute()
    batch = get_metric(name)(SETTINGS, **options).features(
        torch.cat([pairs[0][0], pairs[1][0]]), torch.cat([pairs[0][1], pairs[1][1]])
    )
    for (sr_f, hr_f), share in zip(batch, shares[:2], strict=True):
        assert torch.equal(sr_f, share[0][0]) and torch.equal(hr_f, share[0][1])


def test_too_few_samples(inception) -> None:
    metric = get_metric("fid")(SETTINGS, batch_size=1)
    assert math.isnan(metric.compute().value)
    sr, hr = image_pair(36, 36, seed=7)
    metric.update(sr, hr)
    v = metric.compute()
    assert math.isnan(v.value) and v.n_samples == 1 and not v.reliable


def test_bad_input_is_refused(inception) -> None:
    sr, hr = image_pair(40, 40, seed=8)
    sr[0, 0, 0, 0] = float("nan")
    with pytest.raises(SrbenchError, match="NaN"):
        get_metric("fid")(SETTINGS).update(sr, hr)
    with pytest.raises(SrbenchError, match="outside 0..255"):
        get_metric("fid")(SETTINGS).update(hr + 1, hr)
    with pytest.raises(SrbenchError, match="smaller than the patch size 64"):
        get_metric("fid-patch")(SETTINGS).update(hr, hr)
    with pytest.raises(SrbenchError, match="patch_size"):
        get_metric("fid-patch")(SETTINGS, patch_size=1)


def test_missing_inception_is_one_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(SrbenchError) as e:
        get_metric("fid-patch")(SETTINGS)
    msg = str(e.value)
    assert "metric fid-patch" in msg and "pt_inception-2015-12-05-6726825d.pth" in msg
    assert "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" in msg
