"""The bicubic x4 baseline on the real test sets lands on the published table (../shared/README.md).

The whole protocol at library level: HR = modcrop(read_image, 4); LR = degrade_bicubic(HR, 4);
SR = imresize_uint8(LR, 4) (MATLAB's imresize of uint8 images); Y-channel PSNR and SSIM with a
4-pixel border; mean over the set.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from srbench_eval.data.degrade.bicubic import degrade_bicubic, imresize_uint8
from srbench_eval.data.io.images import is_image_file, modcrop, read_image
from srbench_eval.metrics.fidelity import psnr, ssim
from tests.conftest import SHARED_BENCHMARKS, requires_shared

pytestmark = [requires_shared, pytest.mark.shared]

SCALE = 4
# EDSR/RCAN tables, bicubic row, x4: (PSNR dB, SSIM).
PUBLISHED = {"Set5": (28.42, 0.8104), "Set14": (26.00, 0.7027), "BSD100": (25.96, 0.6675)}
PSNR_TOL = 0.02
SSIM_TOL = 0.0015


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Run single-threaded: on cores shared with other busy processes, idle OpenMP threads that
    spin (the default wait policy) turn this 1.5 s test into minutes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def to_batch(img: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(img).to(torch.float32)
    return (t[None] if img.ndim == 2 else t.permute(2, 0, 1))[None]


def bicubic_scores(name: str) -> tuple[float, float, int]:
    psnrs, ssims = [], []
    files = sorted(p for p in (SHARED_BENCHMARKS / name / "HR").iterdir() if is_image_file(p))
    for path in files:
        hr = modcrop(read_image(path), SCALE)
        lr = degrade_bicubic(hr, SCALE)
        sr = imresize_uint8(to_batch(lr), SCALE)
        assert sr.shape == to_batch(hr).shape
        psnrs.append(float(psnr(sr, to_batch(hr), SCALE)[0]))
        ssims.append(float(ssim(sr, to_batch(hr), SCALE)[0]))
    return float(np.mean(psnrs)), float(np.mean(ssims)), len(files)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_bicubic_x4_matches_published(name: str) -> None:
    value_psnr, value_ssim, n = bicubic_scores(name)
    assert n == {"Set5": 5, "Set14": 14, "BSD100": 100}[name]
    want_psnr, want_ssim = PUBLISHED[name]
    assert abs(value_psnr - want_psnr) <= PSNR_TOL, f"{name}: PSNR {value_psnr:.4f} vs {want_psnr}"
    assert abs(value_ssim - want_ssim) <= SSIM_TOL, f"{name}: SSIM {value_ssim:.5f} vs {want_ssim}"
