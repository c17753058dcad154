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

In a run (``--protocol realsr``, protocol field ``average = realsr-patches``) the scoring thread
hands PSNR and SSIM (the metrics that read the protocol's Y plane) to :func:`score_patches`: each
patch is scored by the metric's own ``score`` (the protocol's rounded Y, no crop, ``ssim_index``),
:meth:`~srbench_eval.metrics.base.PerImageMetric.add_samples` keeps every patch's value, the image's
row is the mean of its patches and the set's value the mean over all patches. The grid is cut when
the LR image is over 1200 pixels in both sides (``Test.m``'s test) and laid over the scored planes
(SR and HR); for RealSR's registered pairs, LR at the HR's size (the only layout ``Test.m`` runs on),
that is ``Test.m``'s grid exactly. An LR smaller than its HR (a x``s`` pair) is tested by its own
size, as ``Test.m`` tests ``size(LR_Y)``, and the grid laid over the HR-sized planes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from srbench_eval.compiled import is_tensor
from srbench_eval.metrics.base import Metric, PerImageMetric, check_pair
from srbench_eval.metrics.fidelity import psnr, ssim

if TYPE_CHECKING:
    from srbench_eval.metrics.fidelity import Image

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
    if not is_patched((h, w), patch):
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
    out = []
    for block in blocks(sr_y.shape, lr_shape if lr_shape is not None else sr_y.shape):
        a = np.ascontiguousarray(sr_y[block], dtype=np.float64)[None, None]
        b = np.ascontiguousarray(hr_y[block], dtype=np.float64)[None, None]
        out.append((float(psnr(a, b, 0)[0]), float(ssim(a, b, 0)[0])))
    return out


def is_patched(lr_shape: Sequence[int], patch: int = REALSR_PATCH) -> bool:
    """``Test.m``'s test: the LR plane is over ``patch`` (:data:`REALSR_PATCH`) pixels in both sides."""
    return int(lr_shape[0]) > patch and int(lr_shape[1]) > patch


def blocks(plane_shape: Sequence[int], lr_shape: Sequence[int]) -> list[tuple[slice, slice]]:
    """The ``(rows, columns)`` of every sample of a scored ``(H, W)`` plane whose LR is ``lr_shape``:
    the patches of :func:`patch_grid` in ``im2patch``'s order when :func:`is_patched`, else the
    whole plane."""
    h, w = int(plane_shape[0]), int(plane_shape[1])
    if not is_patched(lr_shape):
        return [(slice(0, h), slice(0, w))]
    return [
        (slice(top, top + REALSR_PATCH), slice(left, left + REALSR_PATCH)) for top, left in patch_grid((h, w))
    ]


def patch_averaged(metric: Metric) -> bool:
    """Whether ``metric`` is scored per patch: PSNR and SSIM (the metrics reading the protocol's Y)
    under a protocol with ``average = realsr-patches``."""
    return (
        isinstance(metric, PerImageMetric)
        and metric.reads_luma
        and metric.settings.protocol.average == "realsr-patches"
    )


def score_patches(metric: PerImageMetric, sr: Image, hr: Image, lr_shape: Sequence[int]) -> np.ndarray:
    """Update ``metric`` with a batch, each image as RealSR's samples (:func:`blocks`): every patch
    scored by ``metric.score`` (so with the protocol's Y, crop and SSIM) and kept by
    :meth:`~srbench_eval.metrics.base.PerImageMetric.add_samples`; the per-image means, ``(N,)``."""
    check_pair(sr, hr)
    out = []
    for n in range(sr.shape[0]):
        values = []
        for rows, cols in blocks(sr.shape[-2:], lr_shape):
            a, b = (_contiguous(x[n : n + 1, :, rows, cols]) for x in (sr, hr))
            got = metric.score(a, b, None)
            values.append(float(got.reshape(-1)[0]))
        out.append(metric.add_samples(values))
    return np.asarray(out, dtype=np.float64)


def _contiguous(x: Image) -> Image:
    return x.contiguous() if is_tensor(x) else np.ascontiguousarray(x)


def patch_mean(scores: Sequence[Sequence[tuple[float, float]]]) -> tuple[float, float]:
    """RealSR's reported ``(mean PSNR, mean SSIM)``: over every patch of every image."""
    flat = [s for image in scores for s in image]
    if not flat:
        raise ValueError("patch_mean of no patches")
    return float(np.mean([p for p, _ in flat])), float(np.mean([s for _, s in flat]))


__all__ = [
    "REALSR_PATCH",
    "REALSR_STRIDE",
    "blocks",
    "is_patched",
    "patch_averaged",
    "patch_grid",
    "patch_mean",
    "patch_scores",
    "patch_starts",
    "score_patches",
]
