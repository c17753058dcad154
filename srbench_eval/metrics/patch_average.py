"""RealSR's patch protocol: PSNR/SSIM of large images averaged over 1200x1200 patches.

RealSR's official test code (csjcai/RealSR, ``Test/Test.m`` with ``Test/util/im2patch.m``,
``patchLocation.m`` and ``Cal_PSNRSSIM.m``; Cai et al., ICCV 2019) scores an image pair as follows:
``HR = modcrop(HR, 4)``, ``LR = modcrop(LR, 4)`` (the pair is registered at one size), the Y planes
``Y = rgb2ycbcr(uint8)`` (rounded), and when the LR plane is over 1200 pixels in *both* sides both
planes are cut into ``1200 x 1200`` patches with stride ``800``::

    y = [1 : 800 : H - 1200 + 1,  H - 1200 + 1]        (1-based patch tops; the last one repeated
    x = [1 : 800 : W - 1200 + 1,  W - 1200 + 1]         when it is already on the grid)
    patches in the order of meshgrid(y, x)(:): for each top y_j, every left x_i (x fastest)

(``patchLocation`` indexes patch ``k`` as ``img(y_k + j, x_k + i)``: each patch is the image block
transposed, which changes neither PSNR nor SSIM, whose 11x11 Gaussian window is symmetric). Each
patch is one sample: ``PSNR = 10 log10(255^2 / MSE)`` over the whole patch (no border crop) and Wang's
``ssim_index`` ('valid' map), and the reported numbers are the means over *all patches* of all images
(a large image weighs as many patches as it has). Smaller images are one sample each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from srbench_eval.metrics.fidelity import psnr, ssim

REALSR_PATCH = 1200
REALSR_STRIDE = 800


def patch_starts(length: int, patch: int = REALSR_PATCH, stride: int = REALSR_STRIDE) -> list[int]:
    """0-based starts along one side: ``patchLocation``'s ``[1 : stride : length - patch + 1,
    length - patch + 1]`` minus one (the last start kept even when it repeats the grid's)."""
    last = length - patch
    return [*range(0, last + 1, stride), last]


def patch_grid(
    shape: Sequence[int], patch: int = REALSR_PATCH, stride: int = REALSR_STRIDE
) -> list[tuple[int, int]]:
    """``(top, left)`` of every patch of an ``(H, W)`` plane in ``im2patch``'s order (lefts fastest),
    or ``[(0, 0)]`` (the whole plane) when ``H`` or ``W`` is not over ``patch``."""
    h, w = int(shape[0]), int(shape[1])
    if not (h > patch and w > patch):
        return [(0, 0)]
    return [(top, left) for top in patch_starts(h, patch, stride) for left in patch_starts(w, patch, stride)]


def patch_scores(
    sr_y: np.ndarray, hr_y: np.ndarray, lr_shape: Sequence[int] | None = None
) -> list[tuple[float, float]]:
    """``(PSNR, SSIM)`` of every patch of two equal ``(H, W)`` Y planes (0..255), in ``im2patch``'s
    order; the grid is that of ``lr_shape`` (RealSR cuts by the LR's size, which equals the HR's in
    its registered pairs; default: the planes' shape). No border is cropped."""
    if sr_y.shape != hr_y.shape or sr_y.ndim != 2:
        raise ValueError(f"patch_scores takes two equal (H, W) planes, got {sr_y.shape} and {hr_y.shape}")
    cut = lr_shape if lr_shape is not None else sr_y.shape
    patched = cut[0] > REALSR_PATCH and cut[1] > REALSR_PATCH
    grid = patch_grid(cut)
    size = (REALSR_PATCH, REALSR_PATCH) if patched else sr_y.shape
    out = []
    for top, left in grid:
        block = (slice(top, top + size[0]), slice(left, left + size[1]))
        a = np.ascontiguousarray(sr_y[block], dtype=np.float64)[None, None]
        b = np.ascontiguousarray(hr_y[block], dtype=np.float64)[None, None]
        out.append((float(psnr(a, b, 0)[0]), float(ssim(a, b, 0)[0])))
    return out


def patch_mean(scores: Sequence[Sequence[tuple[float, float]]]) -> tuple[float, float]:
    """RealSR's reported ``(mean PSNR, mean SSIM)``: over every patch of every image."""
    flat = [s for image in scores for s in image]
    if not flat:
        raise ValueError("patch_mean of no patches")
    return float(np.mean([p for p, _ in flat])), float(np.mean([s for _, s in flat]))


__all__ = ["REALSR_PATCH", "REALSR_STRIDE", "patch_grid", "patch_mean", "patch_scores", "patch_starts"]
