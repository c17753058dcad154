"""MS-SSIM against the official MATLAB values (pyiqa calibration set) and hand-checked pieces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import get_metric
from srbench_eval.metrics.base import MetricSettings
from srbench_eval.metrics.fidelity import ssim
from srbench_eval.metrics.luma import rgb2gray_uint8
from srbench_eval.metrics.ms_ssim import box_downsample, ms_ssim, smallest_side, ssim_and_cs
from tests.metrics.oracles import IQA_IMAGES, NO_CROP, iqa_pair, official, requires_iqa


@requires_iqa
@pytest.mark.parametrize("stem", IQA_IMAGES)
def test_default_on_rgb2gray_equals_official_matlab(stem: str) -> None:
    dist, ref = iqa_pair(stem)
    metric = get_metric("MS-SSIM")(NO_CROP)  # method wtd_sum
    got = float(metric.update(rgb2gray_uint8(dist).float(), rgb2gray_uint8(ref).float())[0])
    assert round(got, 4) == official("ms_ssim")[stem]


@requires_iqa
def test_product_differs_from_the_official_row_measured() -> None:
    """The paper's product form is not what the official row holds (documented in the module)."""
    diffs = []
    for stem in IQA_IMAGES:
        dist, ref = (rgb2gray_uint8(t)[:, 0] for t in iqa_pair(stem))
        diffs.append(abs(float(ms_ssim(dist, ref, "product")[0]) - official("ms_ssim")[stem]))
    assert 0.003 < max(diffs) < 0.005


def test_box_downsample_is_matlab_imfilter_symmetric_then_decimate() -> None:
    x = torch.arange(15.0, dtype=torch.float64).reshape(1, 3, 5)
    got = box_downsample(x)
    # rows (0,1) and (2,2); columns (0,1), (2,3), (4,4)
    want = [[(0 + 1 + 5 + 6) / 4, (2 + 3 + 7 + 8) / 4, (4 + 9) / 2], [(10 + 11) / 2, (12 + 13) / 2, 14.0]]
    np.testing.assert_allclose(got[0].numpy(), want)


def test_first_scale_is_ssim_and_identity_is_one() -> None:
    rng = np.random.default_rng(0)
    hr = torch.from_numpy(rng.integers(0, 256, (2, 1, 170, 180)).astype(np.float32))
    sr = (hr + torch.from_numpy(rng.normal(0, 10, hr.shape)).float()).clamp(0, 255).round()
    s, _ = ssim_and_cs(sr[:, 0].double(), hr[:, 0].double())
    torch.testing.assert_close(s, ssim(sr, hr, 0), rtol=1e-12, atol=1e-12)
    for method in ("product", "wtd_sum"):
        np.testing.assert_allclose(ms_ssim(hr[:, 0], hr[:, 0], method).numpy(), 1.0, rtol=1e-12)


def test_too_small_and_bad_method_are_one_line_errors() -> None:
    assert smallest_side() == 161
    cls = get_metric("ms-ssim")
    m = cls(MetricSettings(scale=4))
    x = torch.zeros(1, 3, 168, 200)
    with pytest.raises(SrbenchError, match=r"ms-ssim: the SR image is 160x192 pixels .* at least 161x161"):
        m.update(x, x)
    ok = torch.full((1, 3, 169, 169), 100.0)
    assert float(m.update(ok, ok)[0]) == pytest.approx(1.0)
    with pytest.raises(SrbenchError, match="method 'sum'"):
        cls(MetricSettings(scale=4), method="sum")
