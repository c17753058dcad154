"""A frozen copy of the SSIM kernels of :mod:`srbench_eval.metrics.fidelity_kernels` as they were
before the four-row/block rewrite (commit 824656a): the reference the tests hold the current kernels
equal to, bit for bit, and the "before" of ``benchmarks/bench_ssim.py``. Not used by the package."""

from __future__ import annotations

import numpy as np
from numba import njit

from srbench_eval.compiled import JIT_OPTIONS as _JIT

_SUM = {**_JIT, "fastmath": {"reassoc"}}


@njit(**_JIT)
def _y_row(img, i, j0, out, weights, offset):  # noqa: ANN001, ANN201 (numba signatures)
    """``out[:] = Y(img[:, i, j0 : j0 + len(out)])``: ``((R wr + G wg) + B wb) + 16`` or the grey value."""
    n = out.shape[0]
    if img.shape[0] == 1:
        grey = img[0, i, j0 : j0 + n]
        for j in range(n):
            out[j] = grey[j]
        return
    r = img[0, i, j0 : j0 + n]
    g = img[1, i, j0 : j0 + n]
    b = img[2, i, j0 : j0 + n]
    wr, wg, wb = weights[0], weights[1], weights[2]
    for j in range(n):
        out[j] = np.float64(r[j]) * wr + np.float64(g[j]) * wg + np.float64(b[j]) * wb + offset


@njit(**_JIT)
def _horizontal11(src, g, out):  # noqa: ANN001, ANN201
    """:func:`_horizontal` for 11 taps: the same sums, in the same order, in a register."""
    g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10 = (
        g[0],
        g[1],
        g[2],
        g[3],
        g[4],
        g[5],
        g[6],
        g[7],
        g[8],
        g[9],
        g[10],
    )
    for j in range(out.shape[0]):
        s = 0.0
        s += g0 * src[j]
        s += g1 * src[j + 1]
        s += g2 * src[j + 2]
        s += g3 * src[j + 3]
        s += g4 * src[j + 4]
        s += g5 * src[j + 5]
        s += g6 * src[j + 6]
        s += g7 * src[j + 7]
        s += g8 * src[j + 8]
        s += g9 * src[j + 9]
        s += g10 * src[j + 10]
        out[j] = s


@njit(**_JIT)
def _horizontal(src, g, out):  # noqa: ANN001, ANN201
    """``out[j] = sum_k g[k] src[j + k]`` ('valid' correlation of one row)."""
    if g.shape[0] == 11:
        _horizontal11(src, g, out)
    else:
        _horizontal_taps(src, g, out)


@njit(**_JIT)
def _horizontal_taps(src, g, out):  # noqa: ANN001, ANN201
    """:func:`_horizontal` for any number of taps, one tap at a time over the row."""
    n = out.shape[0]
    out[:] = 0.0
    for k in range(g.shape[0]):
        s = src[k : k + n]
        w = g[k]
        for j in range(n):
            out[j] += w * s[j]


@njit(**_JIT)
def _vertical11(y, i, g, v1, v2):  # noqa: ANN001, ANN201
    """The vertical pass of output row ``i`` for 11 taps: ``v1 = sum_k g[k] a_k`` and
    ``v2 = sum_k g[k] (a_k a_k)`` with ``a_k = y[i + k]``, every sum from 0 in the order
    k = 0, 1, ... (as the loop over the taps does it), kept in a register."""
    g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10 = (
        g[0],
        g[1],
        g[2],
        g[3],
        g[4],
        g[5],
        g[6],
        g[7],
        g[8],
        g[9],
        g[10],
    )
    for j in range(v1.shape[0]):
        a0, a1, a2, a3, a4 = y[i, j], y[i + 1, j], y[i + 2, j], y[i + 3, j], y[i + 4, j]
        a5, a6, a7, a8, a9, a10 = (
            y[i + 5, j],
            y[i + 6, j],
            y[i + 7, j],
            y[i + 8, j],
            y[i + 9, j],
            y[i + 10, j],
        )
        s = 0.0
        s += g0 * a0
        s += g1 * a1
        s += g2 * a2
        s += g3 * a3
        s += g4 * a4
        s += g5 * a5
        s += g6 * a6
        s += g7 * a7
        s += g8 * a8
        s += g9 * a9
        s += g10 * a10
        v1[j] = s
        s = 0.0
        s += g0 * (a0 * a0)
        s += g1 * (a1 * a1)
        s += g2 * (a2 * a2)
        s += g3 * (a3 * a3)
        s += g4 * (a4 * a4)
        s += g5 * (a5 * a5)
        s += g6 * (a6 * a6)
        s += g7 * (a7 * a7)
        s += g8 * (a8 * a8)
        s += g9 * (a9 * a9)
        s += g10 * (a10 * a10)
        v2[j] = s


@njit(**_JIT)
def _vertical11_cross(y, y_hr, i, g, v1, v2, v3):  # noqa: ANN001, ANN201
    """:func:`_vertical11` and ``v3 = sum_k g[k] (a_k b_k)`` with ``b_k = y_hr[i + k]``."""
    g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10 = (
        g[0],
        g[1],
        g[2],
        g[3],
        g[4],
        g[5],
        g[6],
        g[7],
        g[8],
        g[9],
        g[10],
    )
    for j in range(v1.shape[0]):
        a0, a1, a2, a3, a4 = y[i, j], y[i + 1, j], y[i + 2, j], y[i + 3, j], y[i + 4, j]
        a5, a6, a7, a8, a9, a10 = (
            y[i + 5, j],
            y[i + 6, j],
            y[i + 7, j],
            y[i + 8, j],
            y[i + 9, j],
            y[i + 10, j],
        )
        s = 0.0
        s += g0 * a0
        s += g1 * a1
        s += g2 * a2
        s += g3 * a3
        s += g4 * a4
        s += g5 * a5
        s += g6 * a6
        s += g7 * a7
        s += g8 * a8
        s += g9 * a9
        s += g10 * a10
        v1[j] = s
        s = 0.0
        s += g0 * (a0 * a0)
        s += g1 * (a1 * a1)
        s += g2 * (a2 * a2)
        s += g3 * (a3 * a3)
        s += g4 * (a4 * a4)
        s += g5 * (a5 * a5)
        s += g6 * (a6 * a6)
        s += g7 * (a7 * a7)
        s += g8 * (a8 * a8)
        s += g9 * (a9 * a9)
        s += g10 * (a10 * a10)
        v2[j] = s
        s = 0.0
        s += g0 * (a0 * y_hr[i, j])
        s += g1 * (a1 * y_hr[i + 1, j])
        s += g2 * (a2 * y_hr[i + 2, j])
        s += g3 * (a3 * y_hr[i + 3, j])
        s += g4 * (a4 * y_hr[i + 4, j])
        s += g5 * (a5 * y_hr[i + 5, j])
        s += g6 * (a6 * y_hr[i + 6, j])
        s += g7 * (a7 * y_hr[i + 7, j])
        s += g8 * (a8 * y_hr[i + 8, j])
        s += g9 * (a9 * y_hr[i + 9, j])
        s += g10 * (a10 * y_hr[i + 10, j])
        v3[j] = s


@njit(**_JIT)
def ssim_hr_moments(hr, border, weights, offset, g, y, mu, sq):  # noqa: ANN001, ANN201
    """Fill ``y`` with Y(hr) cropped by ``border``, ``mu`` and ``sq`` with its local E[b], E[b^2]."""
    n_y, width = y.shape
    n_v = mu.shape[0]
    size = g.shape[0]
    for i in range(n_y):
        _y_row(hr, border + i, border, y[i], weights, offset)
    v1 = np.empty(width)
    v2 = np.empty(width)
    for i in range(n_v):
        if size == 11:
            _vertical11(y, i, g, v1, v2)
        else:
            _vertical_taps(y, i, g, v1, v2)
        _horizontal(v1, g, mu[i])
        _horizontal(v2, g, sq[i])


@njit(**_JIT)
def _vertical_taps(y, i, g, v1, v2):  # noqa: ANN001, ANN201
    """:func:`_vertical11` for any number of taps, one tap (row) at a time."""
    v1[:] = 0.0
    v2[:] = 0.0
    for k in range(g.shape[0]):
        row = y[i + k]
        w = g[k]
        for j in range(v1.shape[0]):
            b = row[j]
            v1[j] += w * b
            v2[j] += w * (b * b)


@njit(**_JIT)
def _vertical_cross_taps(y, y_hr, i, g, v1, v2, v3):  # noqa: ANN001, ANN201
    """:func:`_vertical11_cross` for any number of taps, one tap (row) at a time."""
    v1[:] = 0.0
    v2[:] = 0.0
    v3[:] = 0.0
    for k in range(g.shape[0]):
        ra = y[i + k]
        rb = y_hr[i + k]
        w = g[k]
        for j in range(v1.shape[0]):
            a = ra[j]
            v1[j] += w * a
            v2[j] += w * (a * a)
            v3[j] += w * (a * rb[j])


@njit(**_SUM)
def _ssim_row_sum(ma, maa, mab, mb, mbb, c1, c2):  # noqa: ANN001, ANN201
    """Sum of one row of the SSIM map from the five local moments (the formula of ``fidelity.ssim``)."""
    total = 0.0
    for j in range(ma.shape[0]):
        mu_ab = ma[j] * mb[j]
        mu_sq = ma[j] * ma[j] + mb[j] * mb[j]
        num = (2.0 * mu_ab + c1) * ((mab[j] - mu_ab) * 2.0 + c2)
        den = (mu_sq + c1) * (maa[j] + mbb[j] - mu_sq + c2)
        total += num / den
    return total


@njit(**_JIT)
def ssim_sum(sr, border, weights, offset, g, y_hr, mu_hr, sq_hr, c1, c2):  # noqa: ANN001, ANN201
    """Sum of the SSIM map of ``Y(sr)`` (cropped by ``border``) against the HR moments."""
    n_y, width = y_hr.shape
    n_v, n_h = mu_hr.shape
    size = g.shape[0]
    y = np.empty((n_y, width))
    for i in range(n_y):
        _y_row(sr, border + i, border, y[i], weights, offset)
    v1 = np.empty(width)
    v2 = np.empty(width)
    v3 = np.empty(width)
    ma = np.empty(n_h)
    maa = np.empty(n_h)
    mab = np.empty(n_h)
    total = 0.0
    for i in range(n_v):
        if size == 11:
            _vertical11_cross(y, y_hr, i, g, v1, v2, v3)
        else:
            _vertical_cross_taps(y, y_hr, i, g, v1, v2, v3)
        _horizontal(v1, g, ma)
        _horizontal(v2, g, maa)
        _horizontal(v3, g, mab)
        total += _ssim_row_sum(ma, maa, mab, mu_hr[i], sq_hr[i], c1, c2)
    return total
