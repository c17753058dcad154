"""The metric contract, for every registered metric (as the architecture and recipe tests are):
shapes, grey and RGB input, direction (a better image scores better), determinism, the HR-side
``reference`` path, and the run's device (CPU; CUDA as well when present).

Networks run on seeded stand-in weights; NIQE needs its published pristine model (the oracle copy).
"""

from __future__ import annotations

import math
import shutil

import pytest
import torch

from srbench_eval import weights
from srbench_eval.metrics import METRICS, MetricSettings, PerImageMetric, get_metric, metric_names, register
from srbench_eval.metrics.facts import CLASS_FACTS, METRIC_FACTS
from srbench_eval.metrics.fid import HR_FEATURES as FID_FEATURES
from srbench_eval.metrics.lpips_metric import HR_FEATURES as LPIPS_FEATURES
from tests.metrics.oracles import IQA

NAMES = metric_names()
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
CROP = 4
PRISTINE = IQA / "niqe_pris_params.npz"


def images(name: str, c: int, n: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(HR, a good SR, a bad SR) just above the metric's smallest size (64 for fid-patch's patches):
    a smooth 8-bit image, lightly and heavily degraded (noise + blur)."""
    side = max(getattr(get_metric(name), "min_side", 0), 64) + 2 * CROP
    size = (side, side + 8)
    g = torch.Generator().manual_seed(c)
    low = torch.rand(n, c, size[0] // 8 + 2, size[1] // 8 + 2, generator=g)
    hr = torch.nn.functional.interpolate(low, size=size, mode="bicubic", align_corners=False)
    hr = (hr * 255).clamp(0, 255).round()
    good = (hr + 2 * torch.randn(hr.shape, generator=g)).clamp(0, 255).round()
    blur = torch.nn.functional.avg_pool2d(hr, 5, stride=1, padding=2, count_include_pad=False)
    bad = (blur + 40 * torch.randn(hr.shape, generator=g)).clamp(0, 255).round()
    return hr, good, bad


@pytest.fixture
def metric_weights(stand_in_weights):
    """Make the weight files of metric NAME available: stand-ins for networks, NIQE's real model."""

    def make(name: str) -> None:
        keys = [k for k, w in weights.WEIGHTS.items() if f"metric {name}" in w.used_by]
        ckpt = stand_in_weights(*[k for k in keys if k != "niqe-pris"])
        if "niqe-pris" in keys:
            if not PRISTINE.is_file():
                pytest.skip(f"{PRISTINE} is absent (NIQE's pristine model)")
            shutil.copyfile(PRISTINE, ckpt / weights.get("niqe-pris").filename)

    LPIPS_FEATURES.clear()
    FID_FEATURES.clear()
    yield make
    LPIPS_FEATURES.clear()
    FID_FEATURES.clear()


def value(name: str, sr: torch.Tensor, hr: torch.Tensor, device: str = "cpu", ref: bool = False):
    """(values returned by update, compute().value) for a fresh metric on ``device``."""
    metric = get_metric(name)(MetricSettings(scale=CROP, device=torch.device(device)))
    sr, hr = sr.to(device), hr.to(device)
    out = metric.update(sr, hr, metric.reference(hr) if ref else None)
    return (None if out is None else out.detach().cpu().double()), metric.compute().value


@pytest.mark.parametrize("name", NAMES)
def test_facts(name: str) -> None:
    cls = get_metric(name.upper())
    assert cls is get_metric(name) and cls.name == name
    assert cls.inputs in ("Y", "RGB") and isinstance(cls.full_reference, bool) and cls.reference_impl
    assert isinstance(cls.decimals, int) and cls.arrow() in ("↑", "↓")
    # The class carries the facts of its table entry (the one place they are written) and is the
    # class the entry names; a per-image entry is a PerImageMetric.
    facts = METRIC_FACTS[name]
    assert {a: getattr(cls, a) for a in CLASS_FACTS} == {a: getattr(facts, a) for a in CLASS_FACTS}
    module = cls.__module__.removeprefix("srbench_eval.metrics.")
    assert f"{module}:{cls.__qualname__}" == facts.implementation
    assert issubclass(cls, PerImageMetric) == facts.per_image


def test_registry_is_the_facts_table() -> None:
    for name in NAMES:
        get_metric(name)
    assert sorted(METRICS) == sorted(NAMES)
    assert list(METRIC_FACTS) == NAMES


def test_a_metric_without_facts_is_refused() -> None:
    class Unlisted(PerImageMetric):
        name = "unlisted"

        def score(self, sr, hr, ref=None):
            return sr.mean((1, 2, 3))

    with pytest.raises(ValueError, match="METRIC_FACTS"):
        register(Unlisted)


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("name", NAMES)
def test_shape_direction_determinism_reference(name: str, channels: int, metric_weights) -> None:
    metric_weights(name)
    cls = get_metric(name)
    hr, good, bad = images(name, channels)
    v_good, set_good = value(name, good, hr)
    v_bad, set_bad = value(name, bad, hr)
    if cls.per_image:
        assert v_good.shape == (2,) and torch.isfinite(v_good).all() and torch.isfinite(v_bad).all()
        assert set_good == pytest.approx(float(v_good.mean()), rel=1e-12)
        better = v_good > v_bad if cls.higher_is_better else v_good < v_bad
        assert better.all(), (v_good, v_bad)
    else:
        assert v_good is None and math.isfinite(set_good)
        assert (set_good > set_bad) if cls.higher_is_better else (set_good < set_bad)
    if channels == 1:
        return  # determinism and the reference path: once per metric is enough
    # Deterministic up to float rounding: LPIPS runs SR and HR through its trunk as one batch until
    # the HR features are cached, then the SR alone (2e-7 relative measured).
    again, set_again = value(name, good, hr)
    assert set_again == pytest.approx(set_good, rel=1e-6, abs=1e-9)
    assert again is None or torch.allclose(again, v_good, rtol=1e-6, atol=1e-9)
    with_ref, set_ref = value(name, good, hr, ref=True)
    assert set_ref == pytest.approx(set_good, rel=1e-6, abs=1e-9)


@pytest.mark.skipif(len(DEVICES) < 2, reason="no CUDA device: the CPU is the only device to compare")
@pytest.mark.parametrize("name", NAMES)
def test_same_values_on_every_device(name: str, metric_weights) -> None:
    metric_weights(name)
    hr, good, _ = images(name, 3)
    values = [value(name, good, hr, device)[1] for device in DEVICES]
    for v in values[1:]:
        assert v == pytest.approx(values[0], rel=1e-4, abs=1e-6)
    assert math.isfinite(values[0])
