"""Compiled CPU kernels (numba) for the 1-D passes of MATLAB's bicubic ``imresize``.

:mod:`srbench_eval.data.degrade.bicubic` defines the resize: every output sample ``j`` of a 1-D pass is
``sum_t W[j, t] * x[I[j, t]]`` with the weights ``W`` and mirrored indices ``I`` of
:func:`~srbench_eval.data.degrade.bicubic.resize_taps`, optionally rounded half away from zero and
saturated to 0..255 (MATLAB's ``uint8`` arithmetic). These kernels compute exactly those sums, in
float64 and in the order ``t = 0, 1, ...`` for every sample, on ``(C, H, W)`` NumPy arrays:

* :func:`resize_rows` resizes the height: each output row is a weighted sum of whole input rows, a
  loop over contiguous memory that LLVM vectorises. The sum stays in a register for four taps at a
  time (``acc + w0 x0 + w1 x1 + w2 x2 + w3 x3``, evaluated left to right, is the same sequence of
  float64 additions as one tap at a time), so an upscaling (four taps) is one pass that also rounds
  and stores, and a downscaling reads and writes its accumulator once per four taps.
* :func:`resize_cols` resizes the width with the same per-sample arithmetic. For a scale ``q / r``
  the taps of sample ``q m + p`` are those of sample ``p`` moved by ``r m`` input samples, so with
  the input row mirror-padded once (and, for ``r > 1``, split into its ``r`` polyphase components)
  every (phase, tap) pair is again a contiguous vector operation (:func:`periodic_plan`). An
  integer upscaling (``r = 1``, ``q`` = 2, 3 or 4) computes the ``q`` samples of each ``m`` together
  and stores them in output order in the same loop, which LLVM vectorises with interleaving
  shuffles: one pass over the output, no phase buffers. Scales without a plan (and clamped borders)
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
def _store(acc, dst, rounding):  # noqa: ANN001, ANN201 (numba signatures)
    """``dst[:] = acc[:len(dst)]`` rounded and saturated as ``rounding`` says (:func:`_round_as`), one
    vectorised loop per mode."""
    n = dst.shape[0]
    if rounding == 1:
        for j in range(n):
            dst[j] = min(max(np.floor(acc[j] + 0.5), 0.0), 255.0)
    elif rounding == 2:
        for j in range(n):
            dst[j] = min(max(np.rint(acc[j]), 0.0), 255.0)
    else:
        for j in range(n):
            dst[j] = acc[j]


@njit(**_JIT)
def _rows4_store(dst, w0, w1, w2, w3, x0, x1, x2, x3, rounding):  # noqa: ANN001, ANN201
    """``dst[j] = 0.0 + w0 x0[j] + w1 x1[j] + w2 x2[j] + w3 x3[j]`` (left to right), rounded as
    ``rounding`` says: the four taps of an upscaling in one pass, the sum held in a register."""
    n = dst.shape[0]
    if rounding == 1:
        for j in range(n):
            s = 0.0 + w0 * x0[j] + w1 * x1[j] + w2 * x2[j] + w3 * x3[j]
            dst[j] = min(max(np.floor(s + 0.5), 0.0), 255.0)
    elif rounding == 2:
        for j in range(n):
            s = 0.0 + w0 * x0[j] + w1 * x1[j] + w2 * x2[j] + w3 * x3[j]
            dst[j] = min(max(np.rint(s), 0.0), 255.0)
    else:
        for j in range(n):
            dst[j] = 0.0 + w0 * x0[j] + w1 * x1[j] + w2 * x2[j] + w3 * x3[j]


@njit(**_JIT)
def _accumulate_rows(acc, plane, weights, taps):  # noqa: ANN001, ANN201
    """``acc[:] = sum_t weights[t] * plane[taps[t], :]`` from ``0.0``, in the order of ``t``: four taps
    per pass over ``acc`` (``acc + w0 x0 + w1 x1 + w2 x2 + w3 x3``, left to right, is the same
    sequence of float64 additions as one tap at a time), then the remaining taps one by one."""
    n_taps = weights.shape[0]
    n = acc.shape[0]
    for j in range(n):
        acc[j] = 0.0
    t = 0
    while t + 4 <= n_taps:
        w0, w1, w2, w3 = weights[t], weights[t + 1], weights[t + 2], weights[t + 3]
        x0, x1, x2, x3 = plane[taps[t]], plane[taps[t + 1]], plane[taps[t + 2]], plane[taps[t + 3]]
        for j in range(n):
            acc[j] = acc[j] + w0 * x0[j] + w1 * x1[j] + w2 * x2[j] + w3 * x3[j]
        t += 4
    while t < n_taps:
        w0 = weights[t]
        x0 = plane[taps[t]]
        for j in range(n):
            acc[j] = acc[j] + w0 * x0[j]
        t += 1


@njit(**_JIT)
def resize_rows(src, weights, taps, out, rounding):  # noqa: ANN001, ANN201
    """``out[c, i, :] = sum_t weights[i, t] * src[c, taps[i, t], :]`` (then rounded as ``rounding`` says:
    0 not, 1 half away from zero, 2 half to even; saturated to 0..255 when rounded)."""
    n_planes, _, width = src.shape
    n_out, n_taps = weights.shape
    acc = np.empty(width)
    direct = rounding == 0 and out.itemsize == 8  # a float64 result: sum in place, no copy
    for c in range(n_planes):
        plane = src[c]
        for i in range(n_out):
            w, k = weights[i], taps[i]
            if n_taps == 4:
                x0, x1, x2, x3 = plane[k[0]], plane[k[1]], plane[k[2]], plane[k[3]]
                _rows4_store(out[c, i], w[0], w[1], w[2], w[3], x0, x1, x2, x3, rounding)
            elif direct:
                _accumulate_rows(out[c, i], plane, w, k)
            else:
                _accumulate_rows(acc, plane, w, k)
                _store(acc, out[c, i], rounding)


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
            _store(acc, out[c, i], rounding)


@njit(**_JIT)
def _accumulate_phase(acc, weights, poly, first, r):  # noqa: ANN001, ANN201
    """``acc[m] = sum_t weights[t, m] * poly[f % r, f // r + m]`` with ``f = first[t]``, from ``0.0`` in
    the order of ``t``, four taps per pass over ``acc`` (as :func:`_accumulate_rows`)."""
    n_taps, n = weights.shape
    t = 0
    while t + 4 <= n_taps:
        f0, f1, f2, f3 = first[t], first[t + 1], first[t + 2], first[t + 3]
        x0 = poly[f0 % r, f0 // r : f0 // r + n]
        x1 = poly[f1 % r, f1 // r : f1 // r + n]
        x2 = poly[f2 % r, f2 // r : f2 // r + n]
        x3 = poly[f3 % r, f3 // r : f3 // r + n]
        w0, w1, w2, w3 = weights[t], weights[t + 1], weights[t + 2], weights[t + 3]
        if t == 0:
            for m in range(n):
                acc[m] = 0.0 + w0[m] * x0[m] + w1[m] * x1[m] + w2[m] * x2[m] + w3[m] * x3[m]
        else:
            for m in range(n):
                acc[m] = acc[m] + w0[m] * x0[m] + w1[m] * x1[m] + w2[m] * x2[m] + w3[m] * x3[m]
        t += 4
    if t == 0:
        for m in range(n):
            acc[m] = 0.0
    while t < n_taps:
        f0 = first[t]
        x0 = poly[f0 % r, f0 // r : f0 // r + n]
        w0 = weights[t]
        for m in range(n):
            acc[m] = acc[m] + w0[m] * x0[m]
        t += 1


@njit(inline="always", **_JIT)
def _finish(s, rounding):  # noqa: ANN001, ANN201 (numba signatures)
    """One sample rounded and saturated as ``rounding`` says (:func:`_round_as`)."""
    if rounding == 1:
        return min(max(np.floor(s + 0.5), 0.0), 255.0)
    if rounding == 2:
        return min(max(np.rint(s), 0.0), 255.0)
    return s


@njit(**_JIT)
def _contiguous_taps(first):  # noqa: ANN001, ANN201
    """Whether the taps of every phase are consecutive input samples (``first[p, t] = first[p, 0] + t``)."""
    q, n_taps = first.shape
    for p in range(q):
        for t in range(n_taps):
            if first[p, t] != first[p, 0] + t:
                return False
    return True


@njit(**_JIT)
def _pad_row(row, padded, pad_lo, pad_hi):  # noqa: ANN001, ANN201
    """``padded = row`` mirror-padded by ``pad_lo`` and ``pad_hi`` samples (MATLAB's ``symmetric``)."""
    width = row.shape[0]
    period = 2 * width
    for k in range(width):
        padded[pad_lo + k] = row[k]
    for k in range(pad_lo):  # sample -1 - k, mirrored
        x = period - 1 - (k % period)
        padded[pad_lo - 1 - k] = row[x if x < width else period - 1 - x]
    for k in range(pad_hi):  # sample width + k, mirrored
        x = (width + k) % period
        padded[pad_lo + width + k] = row[x if x < width else period - 1 - x]


@njit(**_JIT)
def _upscale_cols(src, phase_weights, first, pad_lo, pad_hi, out, rounding):  # noqa: ANN001, ANN201
    """:func:`resize_cols` for an integer upscaling by 2, 3 or 4 (``r = 1``, four consecutive taps
    per phase, ``q`` phases filling the row): the ``q`` samples ``q m + p`` of each ``m`` are each
    summed in a register, ``0.0 + w0 x0 + w1 x1 + w2 x2 + w3 x3`` left to right, rounded, and stored
    in output order. LLVM vectorises the loop over ``m``, the stride-``q`` stores included (as
    shuffles), as long as every sample is rounded before the first store (a store between two
    roundings kept it scalar, 2x slower, in numba 0.68)."""
    n_planes, height, width = src.shape
    q, _, n_m = phase_weights.shape
    padded = np.zeros(width + pad_lo + pad_hi)
    pw = phase_weights
    w00, w01, w02, w03 = pw[0, 0], pw[0, 1], pw[0, 2], pw[0, 3]
    w10, w11, w12, w13 = pw[1, 0], pw[1, 1], pw[1, 2], pw[1, 3]
    w20, w21, w22, w23 = pw[q - 2, 0], pw[q - 2, 1], pw[q - 2, 2], pw[q - 2, 3]  # phase 2 of 4
    w30, w31, w32, w33 = pw[q - 1, 0], pw[q - 1, 1], pw[q - 1, 2], pw[q - 1, 3]  # the last phase
    f0, f1, f2, f3 = first[0, 0], first[1, 0], first[q - 2, 0], first[q - 1, 0]
    for c in range(n_planes):
        for i in range(height):
            row = src[c, i]
            _pad_row(row, padded, pad_lo, pad_hi)
            x0 = padded[f0 : f0 + n_m + 3]
            x1 = padded[f1 : f1 + n_m + 3]
            x2 = padded[f2 : f2 + n_m + 3]
            x3 = padded[f3 : f3 + n_m + 3]
            dst = out[c, i]
            if q == 2:
                for m in range(n_m):
                    s0 = 0.0 + w00[m] * x0[m] + w01[m] * x0[m + 1] + w02[m] * x0[m + 2] + w03[m] * x0[m + 3]
                    s1 = 0.0 + w10[m] * x1[m] + w11[m] * x1[m + 1] + w12[m] * x1[m + 2] + w13[m] * x1[m + 3]
                    s0 = _finish(s0, rounding)
                    s1 = _finish(s1, rounding)
                    dst[2 * m] = s0
                    dst[2 * m + 1] = s1
            elif q == 3:
                for m in range(n_m):
                    s0 = 0.0 + w00[m] * x0[m] + w01[m] * x0[m + 1] + w02[m] * x0[m + 2] + w03[m] * x0[m + 3]
                    s1 = 0.0 + w10[m] * x1[m] + w11[m] * x1[m + 1] + w12[m] * x1[m + 2] + w13[m] * x1[m + 3]
                    s2 = 0.0 + w30[m] * x3[m] + w31[m] * x3[m + 1] + w32[m] * x3[m + 2] + w33[m] * x3[m + 3]
                    s0 = _finish(s0, rounding)
                    s1 = _finish(s1, rounding)
                    s2 = _finish(s2, rounding)
                    dst[3 * m] = s0
                    dst[3 * m + 1] = s1
                    dst[3 * m + 2] = s2
            else:
                for m in range(n_m):
                    s0 = 0.0 + w00[m] * x0[m] + w01[m] * x0[m + 1] + w02[m] * x0[m + 2] + w03[m] * x0[m + 3]
                    s1 = 0.0 + w10[m] * x1[m] + w11[m] * x1[m + 1] + w12[m] * x1[m + 2] + w13[m] * x1[m + 3]
                    s2 = 0.0 + w20[m] * x2[m] + w21[m] * x2[m + 1] + w22[m] * x2[m + 2] + w23[m] * x2[m + 3]
                    s3 = 0.0 + w30[m] * x3[m] + w31[m] * x3[m + 1] + w32[m] * x3[m + 2] + w33[m] * x3[m + 3]
                    s0 = _finish(s0, rounding)
                    s1 = _finish(s1, rounding)
                    s2 = _finish(s2, rounding)
                    s3 = _finish(s3, rounding)
                    dst[4 * m] = s0
                    dst[4 * m + 1] = s1
                    dst[4 * m + 2] = s2
                    dst[4 * m + 3] = s3


@njit(**_JIT)
def resize_cols(src, phase_weights, first, r, pad_lo, pad_hi, out, rounding):  # noqa: ANN001, ANN201
    """The width pass through a :class:`PeriodicPlan` (see the module docstring).

    ``phase_weights[p, t, m]`` is the weight of tap ``t`` of output sample ``q m + p``; its input
    sample is ``first[p, t] + r m`` of the row mirror-padded by ``pad_lo`` and ``pad_hi``.
    """
    n_planes, height, width = src.shape
    q, n_taps, n_m = phase_weights.shape
    n_out = out.shape[2]
    if r == 1 and n_taps == 4 and 2 <= q <= 4 and n_out == q * n_m and _contiguous_taps(first):
        _upscale_cols(src, phase_weights, first, pad_lo, pad_hi, out, rounding)
        return
    n_pad = width + pad_lo + pad_hi
    n_poly = (n_pad + r - 1) // r
    poly = np.zeros((r, n_poly))
    # For r = 1 the padded row is its own (single) polyphase component: no split.
    padded = poly[0] if r == 1 else np.zeros(n_poly * r)
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
            if r > 1:
                for s in range(r):
                    component = poly[s]
                    for m in range(n_poly):
                        component[m] = padded[r * m + s]
            dst = out[c, i]
            if q == 1:
                _accumulate_phase(acc[0], phase_weights[0], poly, first[0], r)
                _store(acc[0], dst, rounding)
                continue
            for p in range(q):
                _accumulate_phase(acc[p], phase_weights[p], poly, first[p], r)
                _round_as(acc[p], rounding)
            if q == 2 and n_out == 2 * n_m:
                for m in range(n_m):
                    dst[2 * m] = acc[0, m]
                    dst[2 * m + 1] = acc[1, m]
            elif q == 3 and n_out == 3 * n_m:
                for m in range(n_m):
                    dst[3 * m] = acc[0, m]
                    dst[3 * m + 1] = acc[1, m]
                    dst[3 * m + 2] = acc[2, m]
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
    from srbench_eval.data.degrade.taps import mirror_index

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
