"""The taps of MATLAB's bicubic ``imresize``: for every output sample of a 1-D resize, its input
samples and their weights, in NumPy (no torch, so the CPU path starts without it).

* Kernel: Keys' cubic convolution with ``a = -0.5``::

      k(x) = 1.5|x|^3 - 2.5|x|^2 + 1                 for |x| <= 1
           = -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2         for 1 < |x| <= 2
           = 0                                       otherwise

  stretched to ``s * k(s * x)`` when downscaling (``s < 1``, antialiasing): its support widens from
  ``W = 4`` to ``W = 4 / s`` input samples.
* Output sample ``i = 1..ceil(in * s)`` sits at input coordinate ``u_i = i / s + 0.5 * (1 - 1 / s)``
  (1-based) and takes the ``P = ceil(W) + 2`` samples ``j = floor(u_i - W / 2) + t``, ``t = 0..P-1``,
  with weights ``w_it = k(u_i - j) / sum_t k(u_i - j)``. Taps whose weight is zero for every output
  sample are dropped (MATLAB's ``kill`` step).
* Borders: indices outside the input are mirrored with the edge sample repeated
  (:func:`mirror_index`, ``border="symmetric"``) or clamped to the edge sample (``"clamp"``).

Every step is one float64 operation per element, evaluated as written (``/ s`` divides, it does not
multiply by ``1 / s``), except the normaliser ``sum_t k(u_i - j)``, whose rounding depends on the
order of its additions. It is added in the order of torch's CPU sum over a contiguous float64 row
(:func:`_row_sums`) so that these taps are bit-identical to the torch implementation they replace
(``tests/data/test_taps.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch

KERNEL_WIDTH = 4.0
BORDERS = ("symmetric", "clamp")
IndexArray = TypeVar("IndexArray", np.ndarray, "torch.Tensor")

_LANES = 4  # float64 lanes of the vectors of torch's sum kernel on x86 (256 bits)
_ILP = 4  # interleaved accumulators of torch's row_sum
_LEVELS = 4  # accumulator levels of torch's cascade (multi_row_sum)


def cubic_kernel(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with ``a = -0.5`` (MATLAB's ``cubic``), evaluated in this Horner
    form: ``k(x) = (1.5|x| - 2.5)|x|^2 + 1`` for ``|x| <= 1``, ``((-0.5|x| + 2.5)|x| - 4)|x| + 2`` for
    ``1 < |x| <= 2``, else 0."""
    ax = np.abs(x)
    near = (1.5 * ax - 2.5) * ax * ax + 1.0
    far = ((-0.5 * ax + 2.5) * ax - 4.0) * ax + 2.0
    return np.where(ax <= 1.0, near, np.where(ax <= 2.0, far, 0.0))


def output_length(in_length: int, scale: float) -> int:
    """MATLAB's output size for a scale factor: ``ceil(in * scale)``."""
    return math.ceil(in_length * scale)


def mirror_index(index: IndexArray, length: int) -> IndexArray:
    """Indices outside ``0..length-1`` mirrored with the edge repeated (MATLAB's ``symmetric``):
    ``-1 -> 0, -2 -> 1, length -> length - 1, length + 1 -> length - 2``, periodic with ``2 length``.
    Integer arithmetic only, so it takes NumPy arrays and torch tensors alike."""
    period = 2 * length
    folded = index % period  # Python's sign rule for both: 0..period-1
    return (period - 1 - abs(2 * folded - (period - 1))) // 2


@lru_cache(maxsize=256)
def resize_taps(
    in_length: int, out_length: int, scale: float, border: str = "symmetric"
) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(out, P)`` (float64) and 0-based input indices ``(out, P)`` (int64) of a 1-D resize,
    ``w_it = k(u_i - j_it) / sum_t k(u_i - j_it)`` (see the module docstring), read-only (cached).

    Taps whose weight is zero for every output sample are dropped (MATLAB's ``kill`` step): 4 taps
    remain when upscaling by an integer, ``4 / s`` when downscaling by ``s = 1 / integer``. Indices
    outside the input are mirrored (``border="symmetric"``) or clamped to the edge (``"clamp"``).
    """
    if border not in BORDERS:
        raise ValueError(f"border must be one of {BORDERS}, got {border!r}")
    if scale < 1:
        width = KERNEL_WIDTH / scale

        def kernel(d: np.ndarray) -> np.ndarray:
            return scale * cubic_kernel(scale * d)
    else:
        width = KERNEL_WIDTH
        kernel = cubic_kernel
    # 1-based positions, as in MATLAB, converted to 0-based indices at the end.
    pos = np.arange(1, out_length + 1, dtype=np.float64) / scale + 0.5 * (1.0 - 1.0 / scale)
    first = np.floor(pos - width / 2)
    taps = first[:, None] + np.arange(math.ceil(width) + 2, dtype=np.float64)[None, :]
    weights = kernel(pos[:, None] - taps)
    weights = weights / _row_sums(weights)[:, None]
    used = (weights != 0).any(axis=0)
    weights, index = weights[:, used], taps[:, used].astype(np.int64) - 1
    index = mirror_index(index, in_length) if border == "symmetric" else np.clip(index, 0, in_length - 1)
    weights, index = np.ascontiguousarray(weights), np.ascontiguousarray(index)
    weights.flags.writeable = False
    index.flags.writeable = False
    return weights, index


def _row_sums(values: np.ndarray) -> np.ndarray:
    """``sum_t values[:, t]``, each row added in the order of torch's CPU sum of a contiguous float64
    row of ``P`` elements (``cascade_sum`` in ATen's ``SumKernel.cpp``, with ``L = 4`` lanes):

    * ``P >= L``: the ``n = P // L`` whole vectors ``v_c = values[c L : (c + 1) L]`` are summed lane
      by lane (:func:`_interleaved_sum`), then ``s = 0 + values[n L] + ... + values[P - 1]`` (the
      left-over elements, left to right) ``+ lane_0 + lane_1 + lane_2 + lane_3``;
    * ``P < L``: :func:`_interleaved_sum` of the single elements.

    Each ``+`` is one IEEE float64 addition, left to right, as NumPy does elementwise. torch builds
    that kernel without AVX512 (its AVX512 dispatch falls back to the AVX2 one), so this is its order
    on every x86 CPU: checked equal to ``torch.sum(dim=1)`` under ``ATEN_CPU_CAPABILITY`` ``default``,
    ``avx2`` and ``avx512`` for all ``P`` up to 700 and some up to 140,000 (the cascade levels). An ARM
    build (2 NEON lanes) may add in another order. ``np.sum``'s pairwise order rounds differently for
    some rows: the normalisers of 936 of the 7,880 (length, scale) pairs of lengths 16..1000 at
    scales 1/8, 1/4, 1/3, 1/2, 2, 3, 4, 8 differ from torch's in the last bit.
    """
    rows, n_cols = values.shape
    if n_cols < _LANES:
        return _interleaved_sum([values[:, t] for t in range(n_cols)], np.zeros(rows))
    n_vec = n_cols // _LANES
    vectors = [values[:, c * _LANES : (c + 1) * _LANES] for c in range(n_vec)]
    lanes = _interleaved_sum(vectors, np.zeros((rows, _LANES)))
    total = np.zeros(rows)
    for t in range(n_vec * _LANES, n_cols):
        total = total + values[:, t]
    for lane in range(_LANES):
        total = total + lanes[:, lane]
    return total


def _interleaved_sum(items: Sequence[np.ndarray], zero: np.ndarray) -> np.ndarray:
    """torch's ``row_sum`` of ``n`` items (``zero`` gives their shape): 4 accumulators,
    ``a_k = items[k] + items[k + 4] + ...`` over the ``4 (n // 4)`` first items (:func:`_cascade`),
    the rest added to ``a_0`` in order, then ``((a_0 + a_1) + a_2) + a_3``."""
    n_groups = len(items) // _ILP
    partial = _cascade([items[_ILP * g : _ILP * (g + 1)] for g in range(n_groups)], zero)
    for item in items[_ILP * n_groups :]:
        partial[0] = partial[0] + item
    total = partial[0]
    for acc in partial[1:]:
        total = total + acc
    return total


def _cascade(groups: Sequence[Sequence[np.ndarray]], zero: np.ndarray) -> list[np.ndarray]:
    """torch's ``multi_row_sum``: ``_ILP`` running sums over ``groups`` (``a_k += groups[g][k]``),
    kept in 4 levels so that only sums of similar size meet: after every ``2^p`` groups
    (``p = max(4, ceil(log2(n)) // 4)``) level 0 is added into level 1 and reset, after every
    ``2^{2p}`` level 1 into level 2, and so on; at the end the levels are added into level 0
    (``((l_0 + l_1) + l_2) + l_3``). Up to 15 groups this is a plain running sum."""
    size = len(groups)
    power = max(4, _ceil_log2(size) // _LEVELS)
    step = 1 << power
    mask = step - 1
    acc = [[zero] * _ILP for _ in range(_LEVELS)]
    g = 0
    while g + step <= size:
        for _ in range(step):
            acc[0] = [a + x for a, x in zip(acc[0], groups[g], strict=True)]
            g += 1
        for level in range(1, _LEVELS):
            acc[level] = [a + b for a, b in zip(acc[level], acc[level - 1], strict=True)]
            acc[level - 1] = [zero] * _ILP
            if g & (mask << (level * power)):
                break
    for group in groups[g:]:
        acc[0] = [a + x for a, x in zip(acc[0], group, strict=True)]
    for level in range(1, _LEVELS):
        acc[0] = [a + b for a, b in zip(acc[0], acc[level], strict=True)]
    return acc[0]


def _ceil_log2(n: int) -> int:
    """ATen's ``CeilLog2``: ``ceil(log2(n))``, and 1 for ``n <= 2``."""
    return 1 if n <= 2 else (n - 1).bit_length()


__all__ = ["BORDERS", "KERNEL_WIDTH", "cubic_kernel", "mirror_index", "output_length", "resize_taps"]
