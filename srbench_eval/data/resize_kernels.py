"""Compiled CPU kernels (numba) for the 1-D passes of MATLAB's bicubic ``imresize``.

:mod:`srbench_eval.data.degrade` defines the resize: every output sample ``j`` of a 1-D pass is
``sum_t W[j, t] * x[I[j, t]]`` with the weights ``W`` and mirrored indices ``I`` of
:func:`~srbench_eval.data.degrade.resize_taps`, optionally rounded half away from zero and
saturated to 0..255 (MATLAB's ``uint8`` arithmetic). These kernels compute exactly those sums, in
float64 and in the order ``t = 0, 1, ...`` for every sample, on ``(C, H, W)`` NumPy arrays:

* :func:`resize_rows` resizes the height: each output row is a weighted sum of whole input rows, a
  loop over contiguous memory that LLVM vectorises.
* :func:`resize_cols` resizes the width with the same per-sample arithmetic. For a scale ``q / r``
  the taps of sample ``q m + p`` are those of sample ``p`` moved by ``r m`` input samples, so with
  the input row mirror-padded once and split into its ``r`` polyphase components, every (phase, tap)
  pair is again a contiguous vector operation (:func:`periodic_plan`). Scales without such a plan
  use :func:`resize_cols_gather`, one sample at a time.

The kernels release the GIL, so the evaluation loop's read-ahead threads run them in parallel, and
are compiled once per machine (numba's on-disk cache). Integer indices into the arrays are always
non-negative loop counters or slices, which keeps numba's negative-index wraparound out of the inner
loops (it would stop the vectorisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numba import njit

from srbench_eval.compiled import JIT_OPTIONS as _JIT


@njit(**_JIT)
def _round_saturate(values: np.ndarray) -> None:
    """In place: ``floor(v + 0.5)`` clamped to 0..255 (MATLAB's conversion to ``uint8``)."""
    for k in range(values.shape[0]):
        v = np.floor(values[k] + 0.5)
        values[k] = min(max(v, 0.0), 255.0)


@njit(**_JIT)
def _round_even_saturate(values: np.ndarray) -> None:
    """In place: ``rint(v)`` (half to even, NumPy's and torch's ``round``) clamped to 0..255."""
    for k in range(values.shape[0]):
        v = np.rint(values[k])
        values[k] = min(max(v, 0.0), 255.0)


@njit(**_JIT)
def _round_as(values, rounding):  # noqa: ANN001, ANN201 (numba signatures)
    """``rounding``: 0 none, 1 half away from zero (MATLAB ``uint8``), 2 half to even; saturated."""
    if rounding == 1:
        _round_saturate(values)
    elif rounding == 2:
        _round_even_saturate(values)


@njit(**_JIT)
def _store_row(acc, dst, rounding):  # noqa: ANN001, ANN201 (numba signatures)
    """``dst[:] = acc``, rounded and saturated first as ``rounding`` says (:func:`_round_as`)."""
    _round_as(acc, rounding)
    for j in range(dst.shape[0]):
        dst[j] = acc[j]


@njit(**_JIT)
def resize_rows(src, weights, taps, out, rounding):  # noqa: ANN001, ANN201
    """``out[c, i, :] = sum_t weights[i, t] * src[c, taps[i, t], :]`` (then rounded as ``rounding`` says:
    0 not, 1 half away from zero, 2 half to even; saturated to 0..255 when rounded)."""
    n_planes, _, width = src.shape
    n_out, n_taps = weights.shape
    acc = np.empty(width)
    for c in range(n_planes):
        for i in range(n_out):
            acc[:] = 0.0
            for t in range(n_taps):
                w = weights[i, t]
                row = src[c, taps[i, t]]
                for j in range(width):
                    acc[j] += w * row[j]
            _store_row(acc, out[c, i], rounding)


@njit(**_JIT)
def resize_cols_gather(src, weights, taps, out, rounding):  # noqa: ANN001, ANN201
    """``out[c, i, j] = sum_t weights[j, t] * src[c, i, taps[j, t]]``, one output sample at a time."""
    n_planes, height, _ = src.shape
    n_out, n_taps = weights.shape
    acc = np.empty(n_out)
    for c in range(n_planes):
        for i in range(height):
            row = src[c, i]
            for j in range(n_out):
                s = 0.0
                for t in range(n_taps):
                    s += weights[j, t] * row[taps[j, t]]
                acc[j] = s
            _store_row(acc, out[c, i], rounding)


@njit(**_JIT)
def resize_cols(src, phase_weights, first, r, pad_lo, pad_hi, out, rounding):  # noqa: ANN001, ANN201
    """The width pass through a :class:`PeriodicPlan` (see the module docstring).

    ``phase_weights[p, t, m]`` is the weight of tap ``t`` of output sample ``q m + p``; its input
    sample is ``first[p, t] + r m`` of the row mirror-padded by ``pad_lo`` and ``pad_hi``.
    """
    n_planes, height, width = src.shape
    q, n_taps, n_m = phase_weights.shape
    n_out = out.shape[2]
    n_pad = width + pad_lo + pad_hi
    n_poly = (n_pad + r - 1) // r
    padded = np.zeros(n_poly * r)
    poly = np.zeros((r, n_poly))
    acc = np.empty((q, n_m))
    period = 2 * width
    for c in range(n_planes):
        for i in range(height):
            row = src[c, i]
            inner = padded[pad_lo : pad_lo + width]
            for k in range(width):
                inner[k] = row[k]
            for k in range(pad_lo):  # sample -1 - k, mirrored
                x = period - 1 - (k % period)
                padded[pad_lo - 1 - k] = row[x if x < width else period - 1 - x]
            for k in range(pad_hi):  # sample width + k, mirrored
                x = (width + k) % period
                padded[pad_lo + width + k] = row[x if x < width else period - 1 - x]
            for m in range(n_poly):
                for s in range(r):
                    poly[s, m] = padded[r * m + s]
            for p in range(q):
                a = acc[p]
                a[:] = 0.0
                for t in range(n_taps):
                    f = first[p, t]
                    samples = poly[f % r, f // r : f // r + n_m]
                    w = phase_weights[p, t]
                    for m in range(n_m):
                        a[m] += w[m] * samples[m]
                _round_as(a, rounding)
            dst = out[c, i]
            if q == 1:
                a = acc[0]
                for j in range(n_out):
                    dst[j] = a[j]
            elif q == 2 and n_out == 2 * n_m:
                for m in range(n_m):
                    dst[2 * m] = acc[0, m]
                    dst[2 * m + 1] = acc[1, m]
            elif q == 4 and n_out == 4 * n_m:
                for m in range(n_m):
                    dst[4 * m] = acc[0, m]
                    dst[4 * m + 1] = acc[1, m]
                    dst[4 * m + 2] = acc[2, m]
                    dst[4 * m + 3] = acc[3, m]
            else:
                for m in range(n_m):
                    for p in range(q):
                        if q * m + p < n_out:
                            dst[q * m + p] = acc[p, m]


@dataclass(frozen=True)
class PeriodicPlan:
    """The width pass of a scale ``q / r`` as ``q`` phases of contiguous polyphase operations."""

    phase_weights: np.ndarray  # (q, taps, ceil(n_out / q)) float64
    first: np.ndarray  # (q, taps) int64: padded input index of tap t of output sample p
    r: int
    pad_lo: int
    pad_hi: int


def periodic_plan(weights: np.ndarray, taps: np.ndarray, in_length: int, scale: float) -> PeriodicPlan | None:
    """A :class:`PeriodicPlan` for the weights ``(out, P)`` and mirrored taps ``(out, P)`` of a 1-D
    resize, or ``None`` when the scale is not a ratio ``q / r`` of small integers or the taps do not
    follow the pattern (checked sample by sample, so a plan never changes a result)."""
    ratio = Fraction(scale).limit_denominator(64)
    q, r = ratio.numerator, ratio.denominator
    out_length, n_taps = weights.shape
    if q / r != scale or out_length < 2 * q:
        return None
    n_m = math.ceil(out_length / q)
    # The taps of each phase, unmirrored, from samples far from both borders. They need not be
    # contiguous: MATLAB drops the taps whose weight is zero for every sample (at 1/3, two inside).
    mid = (out_length // (2 * q)) * q
    start = taps[mid : mid + q].astype(np.int64) - r * (mid // q)  # (q, taps)
    grid = start[:, None, :] + r * np.arange(n_m)[None, :, None]
    unmirrored = grid.transpose(1, 0, 2).reshape(-1, n_taps)[:out_length]  # sample q m + p
    from srbench_eval.data.taps import mirror_index

    if not np.array_equal(mirror_index(unmirrored, in_length), taps):
        return None
    pad_lo = int(max(0, -grid.min()))
    pad_hi = int(max(0, grid.max() - (in_length - 1)))
    phase_weights = np.zeros((q, n_taps, n_m))
    for phase in range(q):
        rows = weights[phase::q]
        phase_weights[phase, :, : rows.shape[0]] = rows.T
    return PeriodicPlan(np.ascontiguousarray(phase_weights), start + pad_lo, r, pad_lo, pad_hi)


__all__ = ["PeriodicPlan", "periodic_plan", "resize_cols", "resize_cols_gather", "resize_rows"]
