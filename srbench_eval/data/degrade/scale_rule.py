"""Image sizes at non-integer scales: MATLAB ``imresize``'s output size and the HR crops of the two
arbitrary-scale benchmark protocols, Meta-SR's and LIIF's, as their authors' code computes them.

* ``imresize(x, f)`` with a scale factor ``f`` returns ``ceil(f * n)`` samples per dimension
  (:func:`srbench_eval.data.degrade.taps.output_length`), the product rounded as IEEE float64 first,
  as MATLAB computes it: ``imresize(hr, 1 / s)`` of an ``n``-sample side gives :func:`lr_length` =
  ``ceil(n * (1 / s))``, which is ``n / s`` only when ``s`` divides ``n``.
* **Meta-SR** (Hu et al., CVPR 2019; XuecaiHu/Meta-SR-Pytorch ``prepare_dataset/
  generate_LR_metasr_X1_X4.m``, scales ``1.1:0.1:4``): for each side ``n`` of the HR image,
  ``if mod(n, s) ~= 0, n = n - 4; end`` (once: the HR is *not* cropped until ``n / s`` is whole),
  ``LR = imresize(HR(1:h, 1:w, :), 1 / s, 'bicubic')`` on the uint8 image, saved as PNG. At test
  time (``data/multiscalesrdata.py``, ``get_patch``) the *uncropped* HR file is cut to
  ``hr[0:int(lh * s), 0:int(lw * s)]`` with the LR's size ``lh x lw`` and Python's float ``s``
  (truncation): :func:`metasr_sizes`. ``s`` is the value of MATLAB's colon operator
  (:func:`matlab_colon`), ``mod`` MATLAB's (:func:`matlab_mod`).
* **LIIF** (Chen et al., CVPR 2021; yinboc/liif ``datasets/wrappers.py``,
  ``SRImplicitDownsampled`` with ``inp_size = None``, the ``configs/test/test-*-{s}.yaml`` benchmarks):
  ``h_lr = floor(h / s + 1e-9)``, the HR cropped to ``round(h_lr * s)`` (Python's round, half to even)
  and the LR made by torchvision's PIL bicubic ``Resize`` of that crop, *not* MATLAB's ``imresize``:
  :func:`liif_sizes` gives the sizes only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from srbench_eval.data.degrade.taps import output_length
from srbench_eval.errors import SrbenchError

EPS = 2.0**-52  # MATLAB's eps(1)
METASR_TRIM = 4  # pixels Meta-SR's script removes from a side that the scale does not divide


@dataclass(frozen=True)
class ScaleSizes:
    """``(height, width)`` of the HR region resized, of the LR image and of the HR region scored."""

    resized_hr: tuple[int, int]
    lr: tuple[int, int]
    scored_hr: tuple[int, int]


def check_scale(scale: float) -> float:
    """``scale`` as a float, or a one-line :class:`SrbenchError` for one below 1 or not finite."""
    value = float(scale)
    if not math.isfinite(value) or value < 1.0:
        raise SrbenchError(f"scale {scale} is below 1 (super-resolution upscales); give a scale >= 1")
    return value


def lr_length(hr_length: int, scale: float) -> int:
    """Samples of ``imresize(x, 1 / scale)`` along a side of ``hr_length``: ``ceil(hr_length * (1/s))``."""
    return output_length(hr_length, 1.0 / check_scale(scale))


def matlab_mod(x: float, y: float) -> float:
    """MATLAB's ``mod(x, y) = x - floor(x ./ y) .* y`` for ``y > 0``, with its round-off compensation:
    a quotient within ``eps`` (relative) of an integer counts as that integer, so the result is 0."""
    quotient = x / y
    nearest = round(quotient)
    if abs(quotient - nearest) <= EPS * max(abs(quotient), 1.0):
        return 0.0
    return x - math.floor(quotient) * y


def matlab_colon(start: float, step: float, stop: float) -> list[float]:
    """MATLAB's ``start:step:stop`` for ``step > 0`` (MathWorks' ``colonop`` description): ``n`` whole
    steps (a tolerance of ``2 eps max(|start|, |stop|)``), the first half ``start + k step``, the second
    half ``end - k step`` counted back from ``end = start + n step`` (``stop`` when within tolerance)."""
    if step <= 0:
        raise SrbenchError(f"scale range step {step} must be positive")
    tol = 2.0 * EPS * max(abs(start), abs(stop))
    n = math.floor((stop - start) / step + tol / step)
    if n < 0:
        return []
    end = start + n * step
    if abs(end - stop) < tol:
        end = stop
    values = [0.0] * (n + 1)
    for k in range(n // 2 + 1):
        values[k] = start + k * step
        values[n - k] = end - k * step
    return values


def metasr_hr_length(length: int, scale: float) -> int:
    """The side Meta-SR resizes: ``length - 4`` when ``mod(length, s) ~= 0``, else ``length``."""
    return length - METASR_TRIM if matlab_mod(length, check_scale(scale)) != 0 else length


def metasr_sizes(height: int, width: int, scale: float) -> ScaleSizes:
    """Meta-SR's sizes for an HR image of ``height x width`` at ``scale`` (see the module docstring)."""
    h, w = metasr_hr_length(height, scale), metasr_hr_length(width, scale)
    lh, lw = lr_length(h, scale), lr_length(w, scale)
    scored = (min(int(lh * scale), height), min(int(lw * scale), width))
    return ScaleSizes((h, w), (lh, lw), scored)


def liif_sizes(height: int, width: int, scale: float) -> ScaleSizes:
    """LIIF's sizes: ``h_lr = floor(h / s + 1e-9)``, HR cropped to ``round(h_lr s)`` (resized and scored)."""
    s = check_scale(scale)
    lh, lw = math.floor(height / s + 1e-9), math.floor(width / s + 1e-9)
    hr = (round(lh * s), round(lw * s))
    return ScaleSizes(hr, (lh, lw), hr)


__all__ = [
    "METASR_TRIM",
    "ScaleSizes",
    "check_scale",
    "liif_sizes",
    "lr_length",
    "matlab_colon",
    "matlab_mod",
    "metasr_hr_length",
    "metasr_sizes",
]
