"""Compiled CPU kernels (numba) for the Y-channel PSNR and SSIM of :mod:`srbench_eval.metrics.fidelity`.

They compute the same quantities as the tensor code there, image by image on ``(C, H, W)`` NumPy
arrays of 0..255 values, in float64, without materialising the intermediate images:

* :func:`squared_y_error` -- ``sum (Y(sr) - Y(hr))^2`` over the cropped image, one pass over both
  images (``Y(sr) - Y(hr) = w . (sr - hr)``, the offset 16 cancels).
* :func:`ssim_hr_moments` -- the HR side of SSIM: ``Y(hr)`` cropped, and its Gaussian-weighted
  local means E[b] and E[b^2] over the 'valid' positions.
* :func:`ssim_sum` -- the SR side: ``Y(sr)``, made block by block (32 output rows and the 10 rows
  below them, in a buffer that stays in the L2 cache, not as a whole plane), its local moments E[a],
  E[a^2], E[ab] four output rows at a time (a vertical pass over the 14 rows their windows span,
  then the horizontal pass, in row buffers), and the sum of the SSIM map, row by row.

The separable filter is the 'valid' correlation with ``g (x) g``: vertical sums first, then
horizontal, taps in order. Only the final sums over an image are reassociated (vectorised
reductions), which moves them by about 1e-16 relative. For the 11-tap window of SSIM both passes
have a form with the taps written out (:func:`_vertical11`, :func:`_horizontal11`): each output
sample is the same sum ``((0 + g0 x0) + g1 x1) + ...`` in the same order, kept in a register
instead of being read and written back once per tap (about 40% less time for SSIM). Four
output rows share a vertical pass (:func:`_vertical11_quad`, :func:`_vertical11_cross_quad`): the
14 input rows and their squares and cross products are loaded and made once for the four, and every
sum keeps its own order, so the bits are those of one row at a time (``tests/metrics/test_ssim_kernels.py``
holds them equal to a frozen copy of the one-row kernels). The kernels
release the GIL and are cached on disk by numba; every index is a non-negative loop counter or a
slice, so numba's negative-index wraparound stays out of the loops it would keep from vectorising.
"""

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
def luma_float32(img, out):  # noqa: ANN001, ANN201
    """BasicSR's ``to_y_channel`` of one ``(3, H, W)`` RGB 0..255 image into ``out`` ``(H, W)`` float64:
    ``v = float32(x) / 255`` in float32, ``Y = float32((((24.966 B + 128.553 G) + 65.481 R) + 16) / 255)``
    (the sum in float64), then ``float32(Y * 255)`` (:func:`srbench_eval.metrics.fidelity.luma`)."""
    _, height, width = img.shape
    k = np.float32(255.0)
    for i in range(height):
        r, g, b = img[0, i], img[1, i], img[2, i]
        for j in range(width):
            vr = np.float64(np.float32(r[j]) / k)
            vg = np.float64(np.float32(g[j]) / k)
            vb = np.float64(np.float32(b[j]) / k)
            y = vb * 24.966 + vg * 128.553 + vr * 65.481 + 16.0
            out[i, j] = np.float64(np.float32(y / 255.0) * k)


@njit(**_SUM)
def squared_y_error(sr, hr, border, weights):  # noqa: ANN001, ANN201
    """``sum over the cropped pixels of (w . (sr - hr))^2``, ``w`` the Y weights (or ``(1,)`` for grey)."""
    n_ch, height, width = sr.shape
    n = width - 2 * border
    total = 0.0
    for i in range(border, height - border):
        if n_ch == 1:
            a = sr[0, i, border : border + n]
            b = hr[0, i, border : border + n]
            for j in range(n):
                d = np.float64(a[j]) - np.float64(b[j])
                total += d * d
        else:
            r0, g0, b0 = (
                sr[0, i, border : border + n],
                sr[1, i, border : border + n],
                sr[2, i, border : border + n],
            )
            r1, g1, b1 = (
                hr[0, i, border : border + n],
                hr[1, i, border : border + n],
                hr[2, i, border : border + n],
            )
            wr, wg, wb = weights[0], weights[1], weights[2]
            for j in range(n):
                e = (
                    (np.float64(r0[j]) - np.float64(r1[j])) * wr
                    + (np.float64(g0[j]) - np.float64(g1[j])) * wg
                    + (np.float64(b0[j]) - np.float64(b1[j])) * wb
                )
                total += e * e
    return total


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
def _vertical11(y, i, g, v):  # noqa: ANN001, ANN201
    """The vertical pass of output row ``i`` for 11 taps: ``v[0] = sum_k g[k] a_k`` and
    ``v[1] = sum_k g[k] (a_k a_k)`` with ``a_k = y[i + k]``, every sum from 0 in the order
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
    for j in range(v.shape[1]):
        s0 = 0.0
        s1 = 0.0
        a0 = y[i, j]
        q0 = a0 * a0
        s0 += g0 * a0
        s1 += g0 * q0
        a1 = y[i + 1, j]
        q1 = a1 * a1
        s0 += g1 * a1
        s1 += g1 * q1
        a2 = y[i + 2, j]
        q2 = a2 * a2
        s0 += g2 * a2
        s1 += g2 * q2
        a3 = y[i + 3, j]
        q3 = a3 * a3
        s0 += g3 * a3
        s1 += g3 * q3
        a4 = y[i + 4, j]
        q4 = a4 * a4
        s0 += g4 * a4
        s1 += g4 * q4
        a5 = y[i + 5, j]
        q5 = a5 * a5
        s0 += g5 * a5
        s1 += g5 * q5
        a6 = y[i + 6, j]
        q6 = a6 * a6
        s0 += g6 * a6
        s1 += g6 * q6
        a7 = y[i + 7, j]
        q7 = a7 * a7
        s0 += g7 * a7
        s1 += g7 * q7
        a8 = y[i + 8, j]
        q8 = a8 * a8
        s0 += g8 * a8
        s1 += g8 * q8
        a9 = y[i + 9, j]
        q9 = a9 * a9
        s0 += g9 * a9
        s1 += g9 * q9
        a10 = y[i + 10, j]
        q10 = a10 * a10
        s0 += g10 * a10
        s1 += g10 * q10
        v[0, j] = s0
        v[1, j] = s1


@njit(**_JIT)
def _vertical11_quad(y, i, g, v):  # noqa: ANN001, ANN201
    """:func:`_vertical11` of output rows ``i`` .. ``i + 3`` (row ``i + r`` into ``v[2 r : 2 r + 2]``)
    in one pass over the 14 input rows their windows span: each row is loaded once per loop (and
    squared once) for the four rows; every sum keeps its order k = 0, 1, .... Two loops (the
    means, then the squares' means): one loop of all eight sums takes LLVM more run-time alias
    checks than it makes, and stays scalar."""
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
    for j in range(v.shape[1]):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        a0 = y[i, j]
        s0 += g0 * a0
        a1 = y[i + 1, j]
        s0 += g1 * a1
        s1 += g0 * a1
        a2 = y[i + 2, j]
        s0 += g2 * a2
        s1 += g1 * a2
        s2 += g0 * a2
        a3 = y[i + 3, j]
        s0 += g3 * a3
        s1 += g2 * a3
        s2 += g1 * a3
        s3 += g0 * a3
        a4 = y[i + 4, j]
        s0 += g4 * a4
        s1 += g3 * a4
        s2 += g2 * a4
        s3 += g1 * a4
        a5 = y[i + 5, j]
        s0 += g5 * a5
        s1 += g4 * a5
        s2 += g3 * a5
        s3 += g2 * a5
        a6 = y[i + 6, j]
        s0 += g6 * a6
        s1 += g5 * a6
        s2 += g4 * a6
        s3 += g3 * a6
        a7 = y[i + 7, j]
        s0 += g7 * a7
        s1 += g6 * a7
        s2 += g5 * a7
        s3 += g4 * a7
        a8 = y[i + 8, j]
        s0 += g8 * a8
        s1 += g7 * a8
        s2 += g6 * a8
        s3 += g5 * a8
        a9 = y[i + 9, j]
        s0 += g9 * a9
        s1 += g8 * a9
        s2 += g7 * a9
        s3 += g6 * a9
        a10 = y[i + 10, j]
        s0 += g10 * a10
        s1 += g9 * a10
        s2 += g8 * a10
        s3 += g7 * a10
        a11 = y[i + 11, j]
        s1 += g10 * a11
        s2 += g9 * a11
        s3 += g8 * a11
        a12 = y[i + 12, j]
        s2 += g10 * a12
        s3 += g9 * a12
        a13 = y[i + 13, j]
        s3 += g10 * a13
        v[0, j] = s0
        v[2, j] = s1
        v[4, j] = s2
        v[6, j] = s3
    for j in range(v.shape[1]):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        a0 = y[i, j]
        q0 = a0 * a0
        s0 += g0 * q0
        a1 = y[i + 1, j]
        q1 = a1 * a1
        s0 += g1 * q1
        s1 += g0 * q1
        a2 = y[i + 2, j]
        q2 = a2 * a2
        s0 += g2 * q2
        s1 += g1 * q2
        s2 += g0 * q2
        a3 = y[i + 3, j]
        q3 = a3 * a3
        s0 += g3 * q3
        s1 += g2 * q3
        s2 += g1 * q3
        s3 += g0 * q3
        a4 = y[i + 4, j]
        q4 = a4 * a4
        s0 += g4 * q4
        s1 += g3 * q4
        s2 += g2 * q4
        s3 += g1 * q4
        a5 = y[i + 5, j]
        q5 = a5 * a5
        s0 += g5 * q5
        s1 += g4 * q5
        s2 += g3 * q5
        s3 += g2 * q5
        a6 = y[i + 6, j]
        q6 = a6 * a6
        s0 += g6 * q6
        s1 += g5 * q6
        s2 += g4 * q6
        s3 += g3 * q6
        a7 = y[i + 7, j]
        q7 = a7 * a7
        s0 += g7 * q7
        s1 += g6 * q7
        s2 += g5 * q7
        s3 += g4 * q7
        a8 = y[i + 8, j]
        q8 = a8 * a8
        s0 += g8 * q8
        s1 += g7 * q8
        s2 += g6 * q8
        s3 += g5 * q8
        a9 = y[i + 9, j]
        q9 = a9 * a9
        s0 += g9 * q9
        s1 += g8 * q9
        s2 += g7 * q9
        s3 += g6 * q9
        a10 = y[i + 10, j]
        q10 = a10 * a10
        s0 += g10 * q10
        s1 += g9 * q10
        s2 += g8 * q10
        s3 += g7 * q10
        a11 = y[i + 11, j]
        q11 = a11 * a11
        s1 += g10 * q11
        s2 += g9 * q11
        s3 += g8 * q11
        a12 = y[i + 12, j]
        q12 = a12 * a12
        s2 += g10 * q12
        s3 += g9 * q12
        a13 = y[i + 13, j]
        q13 = a13 * a13
        s3 += g10 * q13
        v[1, j] = s0
        v[3, j] = s1
        v[5, j] = s2
        v[7, j] = s3


@njit(**_JIT)
def _vertical11_cross(y, i, y_hr, i_hr, g, v):  # noqa: ANN001, ANN201
    """:func:`_vertical11` into ``v[0:2]`` and ``v[2] = sum_k g[k] (a_k b_k)`` with
    ``b_k = y_hr[i_hr + k]``."""
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
    for j in range(v.shape[1]):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        a0 = y[i, j]
        b0 = y_hr[i_hr, j]
        q0 = a0 * a0
        p0 = a0 * b0
        s0 += g0 * a0
        s1 += g0 * q0
        s2 += g0 * p0
        a1 = y[i + 1, j]
        b1 = y_hr[i_hr + 1, j]
        q1 = a1 * a1
        p1 = a1 * b1
        s0 += g1 * a1
        s1 += g1 * q1
        s2 += g1 * p1
        a2 = y[i + 2, j]
        b2 = y_hr[i_hr + 2, j]
        q2 = a2 * a2
        p2 = a2 * b2
        s0 += g2 * a2
        s1 += g2 * q2
        s2 += g2 * p2
        a3 = y[i + 3, j]
        b3 = y_hr[i_hr + 3, j]
        q3 = a3 * a3
        p3 = a3 * b3
        s0 += g3 * a3
        s1 += g3 * q3
        s2 += g3 * p3
        a4 = y[i + 4, j]
        b4 = y_hr[i_hr + 4, j]
        q4 = a4 * a4
        p4 = a4 * b4
        s0 += g4 * a4
        s1 += g4 * q4
        s2 += g4 * p4
        a5 = y[i + 5, j]
        b5 = y_hr[i_hr + 5, j]
        q5 = a5 * a5
        p5 = a5 * b5
        s0 += g5 * a5
        s1 += g5 * q5
        s2 += g5 * p5
        a6 = y[i + 6, j]
        b6 = y_hr[i_hr + 6, j]
        q6 = a6 * a6
        p6 = a6 * b6
        s0 += g6 * a6
        s1 += g6 * q6
        s2 += g6 * p6
        a7 = y[i + 7, j]
        b7 = y_hr[i_hr + 7, j]
        q7 = a7 * a7
        p7 = a7 * b7
        s0 += g7 * a7
        s1 += g7 * q7
        s2 += g7 * p7
        a8 = y[i + 8, j]
        b8 = y_hr[i_hr + 8, j]
        q8 = a8 * a8
        p8 = a8 * b8
        s0 += g8 * a8
        s1 += g8 * q8
        s2 += g8 * p8
        a9 = y[i + 9, j]
        b9 = y_hr[i_hr + 9, j]
        q9 = a9 * a9
        p9 = a9 * b9
        s0 += g9 * a9
        s1 += g9 * q9
        s2 += g9 * p9
        a10 = y[i + 10, j]
        b10 = y_hr[i_hr + 10, j]
        q10 = a10 * a10
        p10 = a10 * b10
        s0 += g10 * a10
        s1 += g10 * q10
        s2 += g10 * p10
        v[0, j] = s0
        v[1, j] = s1
        v[2, j] = s2


@njit(**_JIT)
def _vertical11_cross_quad(y, i, y_hr, i_hr, g, v):  # noqa: ANN001, ANN201
    """:func:`_vertical11_cross` of output rows ``i`` .. ``i + 3`` (row ``i + r`` into
    ``v[3 r : 3 r + 3]``), as :func:`_vertical11_quad`: one loop per moment, each input row loaded,
    and its product made, once for the four rows."""
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
    for j in range(v.shape[1]):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        a0 = y[i, j]
        s0 += g0 * a0
        a1 = y[i + 1, j]
        s0 += g1 * a1
        s1 += g0 * a1
        a2 = y[i + 2, j]
        s0 += g2 * a2
        s1 += g1 * a2
        s2 += g0 * a2
        a3 = y[i + 3, j]
        s0 += g3 * a3
        s1 += g2 * a3
        s2 += g1 * a3
        s3 += g0 * a3
        a4 = y[i + 4, j]
        s0 += g4 * a4
        s1 += g3 * a4
        s2 += g2 * a4
        s3 += g1 * a4
        a5 = y[i + 5, j]
        s0 += g5 * a5
        s1 += g4 * a5
        s2 += g3 * a5
        s3 += g2 * a5
        a6 = y[i + 6, j]
        s0 += g6 * a6
        s1 += g5 * a6
        s2 += g4 * a6
        s3 += g3 * a6
        a7 = y[i + 7, j]
        s0 += g7 * a7
        s1 += g6 * a7
        s2 += g5 * a7
        s3 += g4 * a7
        a8 = y[i + 8, j]
        s0 += g8 * a8
        s1 += g7 * a8
        s2 += g6 * a8
        s3 += g5 * a8
        a9 = y[i + 9, j]
        s0 += g9 * a9
        s1 += g8 * a9
        s2 += g7 * a9
        s3 += g6 * a9
        a10 = y[i + 10, j]
        s0 += g10 * a10
        s1 += g9 * a10
        s2 += g8 * a10
        s3 += g7 * a10
        a11 = y[i + 11, j]
        s1 += g10 * a11
        s2 += g9 * a11
        s3 += g8 * a11
        a12 = y[i + 12, j]
        s2 += g10 * a12
        s3 += g9 * a12
        a13 = y[i + 13, j]
        s3 += g10 * a13
        v[0, j] = s0
        v[3, j] = s1
        v[6, j] = s2
        v[9, j] = s3
    for j in range(v.shape[1]):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        a0 = y[i, j]
        q0 = a0 * a0
        s0 += g0 * q0
        a1 = y[i + 1, j]
        q1 = a1 * a1
        s0 += g1 * q1
        s1 += g0 * q1
        a2 = y[i + 2, j]
        q2 = a2 * a2
        s0 += g2 * q2
        s1 += g1 * q2
        s2 += g0 * q2
        a3 = y[i + 3, j]
        q3 = a3 * a3
        s0 += g3 * q3
        s1 += g2 * q3
        s2 += g1 * q3
        s3 += g0 * q3
        a4 = y[i + 4, j]
        q4 = a4 * a4
        s0 += g4 * q4
        s1 += g3 * q4
        s2 += g2 * q4
        s3 += g1 * q4
        a5 = y[i + 5, j]
        q5 = a5 * a5
        s0 += g5 * q5
        s1 += g4 * q5
        s2 += g3 * q5
        s3 += g2 * q5
        a6 = y[i + 6, j]
        q6 = a6 * a6
        s0 += g6 * q6
        s1 += g5 * q6
        s2 += g4 * q6
        s3 += g3 * q6
        a7 = y[i + 7, j]
        q7 = a7 * a7
        s0 += g7 * q7
        s1 += g6 * q7
        s2 += g5 * q7
        s3 += g4 * q7
        a8 = y[i + 8, j]
        q8 = a8 * a8
        s0 += g8 * q8
        s1 += g7 * q8
        s2 += g6 * q8
        s3 += g5 * q8
        a9 = y[i + 9, j]
        q9 = a9 * a9
        s0 += g9 * q9
        s1 += g8 * q9
        s2 += g7 * q9
        s3 += g6 * q9
        a10 = y[i + 10, j]
        q10 = a10 * a10
        s0 += g10 * q10
        s1 += g9 * q10
        s2 += g8 * q10
        s3 += g7 * q10
        a11 = y[i + 11, j]
        q11 = a11 * a11
        s1 += g10 * q11
        s2 += g9 * q11
        s3 += g8 * q11
        a12 = y[i + 12, j]
        q12 = a12 * a12
        s2 += g10 * q12
        s3 += g9 * q12
        a13 = y[i + 13, j]
        q13 = a13 * a13
        s3 += g10 * q13
        v[1, j] = s0
        v[4, j] = s1
        v[7, j] = s2
        v[10, j] = s3
    for j in range(v.shape[1]):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        a0 = y[i, j]
        b0 = y_hr[i_hr, j]
        p0 = a0 * b0
        s0 += g0 * p0
        a1 = y[i + 1, j]
        b1 = y_hr[i_hr + 1, j]
        p1 = a1 * b1
        s0 += g1 * p1
        s1 += g0 * p1
        a2 = y[i + 2, j]
        b2 = y_hr[i_hr + 2, j]
        p2 = a2 * b2
        s0 += g2 * p2
        s1 += g1 * p2
        s2 += g0 * p2
        a3 = y[i + 3, j]
        b3 = y_hr[i_hr + 3, j]
        p3 = a3 * b3
        s0 += g3 * p3
        s1 += g2 * p3
        s2 += g1 * p3
        s3 += g0 * p3
        a4 = y[i + 4, j]
        b4 = y_hr[i_hr + 4, j]
        p4 = a4 * b4
        s0 += g4 * p4
        s1 += g3 * p4
        s2 += g2 * p4
        s3 += g1 * p4
        a5 = y[i + 5, j]
        b5 = y_hr[i_hr + 5, j]
        p5 = a5 * b5
        s0 += g5 * p5
        s1 += g4 * p5
        s2 += g3 * p5
        s3 += g2 * p5
        a6 = y[i + 6, j]
        b6 = y_hr[i_hr + 6, j]
        p6 = a6 * b6
        s0 += g6 * p6
        s1 += g5 * p6
        s2 += g4 * p6
        s3 += g3 * p6
        a7 = y[i + 7, j]
        b7 = y_hr[i_hr + 7, j]
        p7 = a7 * b7
        s0 += g7 * p7
        s1 += g6 * p7
        s2 += g5 * p7
        s3 += g4 * p7
        a8 = y[i + 8, j]
        b8 = y_hr[i_hr + 8, j]
        p8 = a8 * b8
        s0 += g8 * p8
        s1 += g7 * p8
        s2 += g6 * p8
        s3 += g5 * p8
        a9 = y[i + 9, j]
        b9 = y_hr[i_hr + 9, j]
        p9 = a9 * b9
        s0 += g9 * p9
        s1 += g8 * p9
        s2 += g7 * p9
        s3 += g6 * p9
        a10 = y[i + 10, j]
        b10 = y_hr[i_hr + 10, j]
        p10 = a10 * b10
        s0 += g10 * p10
        s1 += g9 * p10
        s2 += g8 * p10
        s3 += g7 * p10
        a11 = y[i + 11, j]
        b11 = y_hr[i_hr + 11, j]
        p11 = a11 * b11
        s1 += g10 * p11
        s2 += g9 * p11
        s3 += g8 * p11
        a12 = y[i + 12, j]
        b12 = y_hr[i_hr + 12, j]
        p12 = a12 * b12
        s2 += g10 * p12
        s3 += g9 * p12
        a13 = y[i + 13, j]
        b13 = y_hr[i_hr + 13, j]
        p13 = a13 * b13
        s3 += g10 * p13
        v[2, j] = s0
        v[5, j] = s1
        v[8, j] = s2
        v[11, j] = s3


@njit(**_JIT)
def _vertical_taps(y, i, g, v):  # noqa: ANN001, ANN201
    """:func:`_vertical11` for any number of taps, one tap (row) at a time."""
    v[0:2] = 0.0
    for k in range(g.shape[0]):
        row = y[i + k]
        w = g[k]
        for j in range(v.shape[1]):
            b = row[j]
            v[0, j] += w * b
            v[1, j] += w * (b * b)


@njit(**_JIT)
def _vertical_cross_taps(y, i, y_hr, i_hr, g, v):  # noqa: ANN001, ANN201
    """:func:`_vertical11_cross` for any number of taps, one tap (row) at a time."""
    v[0:3] = 0.0
    for k in range(g.shape[0]):
        ra = y[i + k]
        rb = y_hr[i_hr + k]
        w = g[k]
        for j in range(v.shape[1]):
            a = ra[j]
            v[0, j] += w * a
            v[1, j] += w * (a * a)
            v[2, j] += w * (a * rb[j])


@njit(**_JIT)
def ssim_hr_moments(hr, border, weights, offset, g, y, mu, sq):  # noqa: ANN001, ANN201
    """Fill ``y`` with Y(hr) cropped by ``border``, ``mu`` and ``sq`` with its local E[b], E[b^2]
    (output rows four at a time, :func:`_vertical11_quad`, the last ones one at a time)."""
    n_y, width = y.shape
    n_v = mu.shape[0]
    size = g.shape[0]
    for i in range(n_y):
        _y_row(hr, border + i, border, y[i], weights, offset)
    v = np.empty((8, width))
    i = 0
    while i < n_v:
        if size == 11 and i + 3 < n_v:
            _vertical11_quad(y, i, g, v)
            for r in range(4):
                _horizontal11(v[2 * r], g, mu[i + r])
                _horizontal11(v[2 * r + 1], g, sq[i + r])
            i += 4
            continue
        if size == 11:
            _vertical11(y, i, g, v)
        else:
            _vertical_taps(y, i, g, v)
        _horizontal(v[0], g, mu[i])
        _horizontal(v[1], g, sq[i])
        i += 1


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


_BLOCK = 32
"""Output rows of :func:`ssim_sum` per block of SR Y rows (a block and its ``size - 1`` halo rows,
42 rows of 8 KB for a 1024-pixel-wide image, stay in the L2 cache)."""


@njit(**_JIT)
def ssim_sum(sr, border, weights, offset, g, y_hr, mu_hr, sq_hr, c1, c2):  # noqa: ANN001, ANN201
    """Sum of the SSIM map of ``Y(sr)`` (cropped by ``border``) against the HR moments.

    ``Y(sr)`` is made block by block (``_BLOCK`` output rows and the ``size - 1`` rows below them, the
    last rows of a block moved up to start the next), not as a whole plane; output rows go by fours
    (:func:`_vertical11_cross_quad`). The rows' sums are added in row order, as one row at a time
    would add them."""
    width = y_hr.shape[1]
    n_v, n_h = mu_hr.shape
    size = g.shape[0]
    halo = size - 1
    y = np.empty((_BLOCK + halo, width))  # rows i0 .. i0 + _BLOCK + halo - 1 of Y(sr)
    v = np.empty((12, width))
    m = np.empty((3, n_h))
    total = 0.0
    for i0 in range(0, n_v, _BLOCK):
        n_out = min(_BLOCK, n_v - i0)
        first = 0
        if i0 > 0:
            for r in range(halo):  # row by row, forward: right even if the halo were the longer
                for j in range(width):
                    y[r, j] = y[_BLOCK + r, j]
            first = halo
        for r in range(first, n_out + halo):
            _y_row(sr, border + i0 + r, border, y[r], weights, offset)
        i = 0
        while i < n_out:
            rows = 4 if size == 11 and i + 3 < n_out else 1
            if rows == 4:
                _vertical11_cross_quad(y, i, y_hr, i0 + i, g, v)
            elif size == 11:
                _vertical11_cross(y, i, y_hr, i0 + i, g, v)
            else:
                _vertical_cross_taps(y, i, y_hr, i0 + i, g, v)
            for r in range(rows):
                _horizontal(v[3 * r], g, m[0])
                _horizontal(v[3 * r + 1], g, m[1])
                _horizontal(v[3 * r + 2], g, m[2])
                total += _ssim_row_sum(m[0], m[1], m[2], mu_hr[i0 + i + r], sq_hr[i0 + i + r], c1, c2)
            i += rows
    return total


__all__ = ["squared_y_error", "ssim_hr_moments", "ssim_sum"]
