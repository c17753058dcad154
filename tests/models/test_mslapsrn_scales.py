"""MS-LapSRN at scales between its pyramid levels, as ``SR_MSLapSRN.m`` runs it: the pyramid to the
next level up, its Y output resized to ``h * s`` rows by MATLAB's ``imresize(y, [H, W])`` (checked
against the transcription of ``imresize.m``'s ``contributions`` in ``tests/matlab_reference.py``, with
the scale per side ``H / h_out`` as MATLAB derives it from the output size). A small random network
stands in for the authors' weights, which the shared-folder tests load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models.archs.mslapsrn import TEST_SCALES, FixedScale, MSLapSRN, pyramid_scale
from srbench_eval.models.base import check_model_scale
from srbench_eval.models.published import build as published
from tests.matlab_reference import resize_matrix


def _net() -> MSLapSRN:
    torch.manual_seed(0)
    return MSLapSRN(depth=2, recursions=2, num_feat=8).eval()


def matlab_resize_to(y: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``imresize(y, [rows, cols])`` of a 2-D float array: per side ``scale = out / in``, the
    dimension with the smaller scale first (rows first when equal)."""
    h, w = y.shape
    sh, sw = rows / h, cols / w
    mat_h, mat_w = resize_matrix(h, rows, sh), resize_matrix(w, cols, sw)
    if sw < sh:
        return mat_h @ (y @ mat_w.T)
    return (mat_h @ y) @ mat_w.T


@pytest.mark.parametrize(("scale", "level"), [(3, 4), (5, 8), (6, 8), (7, 8)])
def test_between_levels_is_the_next_level_resized(scale: int, level: int) -> None:
    net = _net()
    y = torch.rand(1, 1, 9, 11, generator=torch.Generator().manual_seed(scale))
    with torch.no_grad():
        ours = FixedScale(net, scale)(y)
        top = net(y, level)
    assert pyramid_scale(scale) == level and ours.dtype == torch.float32
    want = matlab_resize_to(top[0, 0].double().numpy(), 9 * scale, 11 * scale)
    assert ours.shape == (1, 1, 9 * scale, 11 * scale)
    np.testing.assert_allclose(ours[0, 0].double().numpy(), want, rtol=0, atol=2e-6)


def test_pyramid_scales_run_unresized() -> None:
    net = _net()
    y = torch.rand(1, 1, 6, 7, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for scale in (2, 4, 8):
            torch.testing.assert_close(FixedScale(net, scale)(y), net(y, scale), rtol=0, atol=0)


def test_other_scales_are_one_line_errors() -> None:
    assert TEST_SCALES == (2, 3, 4, 5, 6, 7, 8)
    for scale in (2.5, 9, 1):
        with pytest.raises(ValueError, match=f"integer scales x2 to x8, not x{scale}") as e:
            FixedScale(_net(), scale)  # type: ignore[arg-type]
        assert "\n" not in str(e.value)
    entry = published.get("mslapsrn-d5r8@pub")
    assert entry.scales == TEST_SCALES
    with pytest.raises(SrbenchError, match="has no x2.5 model"):
        entry.file_for(2.5)  # type: ignore[arg-type]
    model = published.YChannelModel("mslapsrn-d5r8@pub", 3, network=FixedScale(_net(), 3))
    with pytest.raises(SrbenchError, match="takes integer scales only, not x2.5"):
        check_model_scale(model, 2.5)
