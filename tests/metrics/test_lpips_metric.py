"""LPIPS through the harness equals ``lpips.LPIPS`` called directly (stand-in trunk weights)."""

from __future__ import annotations

import warnings

import pytest
import torch

from srbench_eval import weights
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import MetricSettings, get_metric, metric_names
from srbench_eval.protocol import resolve

SETTINGS = MetricSettings(scale=4)
CROPPED = MetricSettings(scale=4, protocol=resolve("matlab", ["perceptual_crop=true"]))


def image_pair(h: int, w: int, c: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth 8-bit HR image and a noisy SR version of it, float32 0..255, shape (1, c, h, w)."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(1, c, h // 8 + 2, w // 8 + 2, generator=g)
    hr = torch.nn.functional.interpolate(low, size=(h, w), mode="bicubic", align_corners=False)
    hr = (hr * 255).clamp(0, 255).round()
    sr = (hr + 12 * torch.randn(hr.shape, generator=g)).clamp(0, 255).round()
    return sr, hr


def reference(net: str, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """The package called directly, the way its README does, on [-1, 1] RGB."""
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lpips.LPIPS(net=net, verbose=False)
    with torch.no_grad():
        return model(sr / 127.5 - 1, hr / 127.5 - 1).flatten()


@pytest.fixture
def alexnet(stand_in_weights):
    return stand_in_weights("alexnet")


def test_registry_facts() -> None:
    assert {"lpips", "lpips-vgg"} <= set(metric_names())
    cls = get_metric("lpips")
    assert (cls.label, cls.arrow(), cls.decimals, cls.per_image, cls.higher_is_better) == (
        "LPIPS",
        "↓",
        4,
        True,
        False,
    )
    assert get_metric("lpips-vgg").arrow() == "↓"


def test_lpips_equals_package_per_image(alexnet) -> None:
    metric = get_metric("lpips")(SETTINGS)
    pairs = [image_pair(48, 64, seed=1), image_pair(72, 40, seed=2)]
    values = [metric.update(sr, hr) for sr, hr in pairs]
    expected = [reference("alex", sr, hr) for sr, hr in pairs]
    for v, e in zip(values, expected, strict=True):
        assert v.shape == (1,) and float(e) > 1e-3
        torch.testing.assert_close(v, e, rtol=1e-5, atol=1e-6)
    assert metric.compute().value == pytest.approx((float(expected[0]) + float(expected[1])) / 2, rel=1e-5)
    assert metric.compute().n_samples == 2
    assert "alexnet" in weights.stand_ins_used()


def test_batch_update_returns_each_value(alexnet) -> None:
    (s1, h1), (s2, h2) = image_pair(40, 48, seed=3), image_pair(40, 48, seed=4)
    metric = get_metric("lpips")(SETTINGS)
    values = metric.update(torch.cat([s1, s2]), torch.cat([h1, h2]))
    torch.testing.assert_close(values, torch.cat([reference("alex", s1, h1), reference("alex", s2, h2)]))


def test_grey_is_replicated_to_rgb(alexnet) -> None:
    sr, hr = image_pair(40, 40, c=1, seed=5)
    got = get_metric("lpips")(SETTINGS).update(sr, hr)
    torch.testing.assert_close(got, reference("alex", sr.repeat(1, 3, 1, 1), hr.repeat(1, 3, 1, 1)))


def test_protocol_perceptual_crop(alexnet) -> None:
    sr, hr = image_pair(56, 56, seed=6)
    got = get_metric("lpips")(CROPPED).update(sr, hr)
    torch.testing.assert_close(got, reference("alex", sr[..., 4:-4, 4:-4], hr[..., 4:-4, 4:-4]))


def test_network_loaded_once_per_process(alexnet) -> None:
    assert get_metric("lpips")(SETTINGS).model is get_metric("lpips")(SETTINGS).model


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda sr: sr.index_put_((torch.tensor(0),), torch.tensor(float("nan"))), "NaN"),
        (lambda sr: sr * 1.5, "outside 0..255"),
        (lambda sr: sr - 300, "outside 0..255"),
    ],
)
def test_bad_values_are_refused(alexnet, change, message) -> None:
    sr, hr = image_pair(40, 40, seed=7)
    with pytest.raises(SrbenchError, match=message):
        get_metric("lpips")(SETTINGS).update(change(sr.clone()), hr)


def test_too_small_is_refused(alexnet) -> None:
    sr, hr = image_pair(40, 40, seed=8)
    with pytest.raises(SrbenchError, match="at least 31x31"):
        get_metric("lpips")(SETTINGS).update(sr[..., :30, :], hr[..., :30, :])
    with pytest.raises(SrbenchError, match="at least 31x31"):  # what the border crop leaves counts
        get_metric("lpips")(CROPPED).update(sr[..., :38, :], hr[..., :38, :])


def test_missing_weights_is_one_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def no_network(*args, **kwargs):
        raise AssertionError("a network call was attempted")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    with pytest.raises(SrbenchError) as e:
        get_metric("lpips")(SETTINGS)
    msg = str(e.value)
    assert "metric lpips" in msg and "alexnet-owt-7be5be79.pth" in msg and str(tmp_path) in msg
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in msg and "\n" not in msg


def test_stand_in_refused_outside_tests(alexnet, monkeypatch) -> None:
    monkeypatch.delenv(weights.ALLOW_STAND_INS_ENV)
    with pytest.raises(SrbenchError, match="not the published"):
        get_metric("lpips")(SETTINGS)


def test_lpips_vgg_equals_package(stand_in_weights) -> None:
    stand_in_weights("vgg16")
    sr, hr = image_pair(32, 40, seed=9)
    got = get_metric("lpips-vgg")(SETTINGS).update(sr, hr)
    torch.testing.assert_close(got, reference("vgg", sr, hr), rtol=1e-5, atol=1e-6)
    with pytest.raises(SrbenchError, match="at least 16x16"):
        get_metric("lpips-vgg")(SETTINGS).update(sr[..., :15, :], hr[..., :15, :])


def test_hr_reference_computed_apart_gives_the_same_values(alexnet) -> None:
    """The evaluation loop computes the HR half (`reference`) in its read-ahead threads."""
    from srbench_eval.metrics import lpips_metric

    lpips_metric.HR_FEATURES.clear()
    (s1, h1), (s2, h2) = image_pair(40, 48, seed=5), image_pair(40, 48, seed=6)
    sr, hr = torch.cat([s1, s2]), torch.cat([h1, h2])
    metric = get_metric("lpips")(SETTINGS)
    ref = metric.reference(hr)
    assert len(ref) == 2 and len(lpips_metric.HR_FEATURES) == 0  # shared by the run, not cached
    values = metric.update(sr, hr, ref)
    torch.testing.assert_close(values, torch.cat([reference("alex", s1, h1), reference("alex", s2, h2)]))
    together = get_metric("lpips")(SETTINGS).update(sr, hr)  # SR and HR through the trunk in one batch
    torch.testing.assert_close(values, together, rtol=1e-6, atol=1e-7)
    with pytest.raises(SrbenchError, match="HR values span"):
        metric.reference(hr * 2)


def test_exact_fp32_holds_while_any_thread_is_inside() -> None:
    """TF32 stays off until the last of overlapping users leaves (read-ahead thread + main thread)."""
    from srbench_eval.metrics.lpips_metric import exact_fp32

    cuda = torch.device("cuda")  # only the flag is touched: no GPU needed
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = True
    try:
        first, second = exact_fp32(cuda), exact_fp32(cuda)
        first.__enter__()
        second.__enter__()
        assert torch.backends.cudnn.allow_tf32 is False
        first.__exit__(None, None, None)  # the other user is still computing
        assert torch.backends.cudnn.allow_tf32 is False
        second.__exit__(None, None, None)
        assert torch.backends.cudnn.allow_tf32 is True
        with exact_fp32(torch.device("cpu")):
            assert torch.backends.cudnn.allow_tf32 is True  # CPU: nothing to switch
    finally:
        torch.backends.cudnn.allow_tf32 = before
