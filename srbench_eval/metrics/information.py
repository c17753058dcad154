"""IFC and VIF, the information-theoretic fidelity criteria of Sheikh, Bovik & de Veciana; higher is better.

Both follow the authors' MATLAB releases (``ifcvec.m``, Sheikh, Bovik & de Veciana, IEEE TIP 2005;
``vifvec.m``, Sheikh & Bovik, IEEE TIP 2006), on one grey plane of 0..255 values, reference ``c``
and distorted ``d``:

1. Steerable pyramid of both planes: 4 levels, 6 orientations, the ``sp5Filters``, 'reflect1'
   borders (matlabPyrTools ``buildSpyr(x, 4, 'sp5Filters', 'reflect1')``; here ``pyrtools``'
   ``SteerablePyramidSpace(x, 4, order=5)``, the port of the same C code). The subbands used are
   orientations 1 and 4 of every level (the MATLAB ``subbands = [4 7 10 13 16 19 22 25]`` of the
   ``ind2wtree`` ordering), each cropped to a multiple of ``M = 3``.
2. Distortion channel ``D = g C + V`` per 3x3 block centre: with box windows of side
   ``w = 2^l + 1`` (``l`` = 1 for the coarsest level .. 4 for the finest), evaluated every third
   sample from the second one ('reflect1' borders, matlabPyrTools ``corrDn``)::

       g = cov(c, d) / (var(c) + 1e-15),   sigma_v^2 = (var(d) - g cov(c, d))

   with the releases' guards: negative variances -> 0; where ``var(c) < 1e-15``: ``g = 0``,
   ``sigma_v^2 = var(d)``; where ``var(d) < 1e-15``: ``g = sigma_v^2 = 0``; where ``g < 0``:
   ``sigma_v^2 = var(d)``, ``g = 0``; finally ``sigma_v^2 <= 1e-15`` -> ``1e-15``.
3. Reference GSM: ``C_u`` the (biased) covariance of all overlapping 3x3 blocks of ``c`` (9-vectors),
   ``lambda_k`` its 9 eigenvalues, and per non-overlapping block ``s^2 = u^T C_u^-1 u / 9``.
4. ``offset = ceil(2^(l-1) / 3)`` block rows/columns are dropped on each side of the ``g``,
   ``sigma_v^2``, ``s^2`` maps, then, summing over the maps, the 9 eigenvalues and the 8 subbands::

       IFC = sum log2(1 + g^2 s^2 lambda_k / (sigma_v^2 + 1e-10)) / (H W)
       VIF = sum log2(1 + g^2 s^2 lambda_k / (sigma_v^2 + sigma_n^2)) / sum log2(1 + s^2 lambda_k / sigma_n^2)

   with ``sigma_n^2 = 0.4`` (the HVS noise of ``vifvec.m``) and ``H x W`` the reference plane's size.

The pyramid needs sides of at least 72 pixels (``maxPyrHt``: MATLAB refuses smaller images too);
smaller images are refused with a one-line error. The work runs in float64 NumPy on the CPU whatever
the evaluation device (the values do not depend on it). The reference-only part (pyramid, GSM
parameters) is the metric's :meth:`reference`, computed once per HR image for every model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import register
from srbench_eval.metrics.luma import LumaMetric

LEVELS = 4
ORDER = 5  # sp5Filters: 6 orientations
BANDS = (3, 0)  # orientations 4 and 1 (0-based) of each level, in the MATLAB order
BLOCK = 3  # M, the GSM vector is an M x M block
TOL = 1e-15
IFC_EPS = 1e-10
VIF_SIGMA_NSQ = 0.4
MIN_SIDE = 72


@dataclass(frozen=True)
class Subband:
    """The reference side of one subband: its coefficients (cropped to a multiple of ``BLOCK``),
    the box window exponent ``l``, the GSM field ``s^2`` per block and the eigenvalues of ``C_u``."""

    coeffs: np.ndarray
    win_exp: int
    ss: np.ndarray
    eigenvalues: np.ndarray


def _pyramid_bands(x: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """The 8 subbands of the releases, coarsest level first, with their window exponents ``l``."""
    import pyrtools

    pyr = pyrtools.pyramids.SteerablePyramidSpace(x, height=LEVELS, order=ORDER, edge_type="reflect1")
    out = []
    for level in range(LEVELS - 1, -1, -1):  # pyrtools level 0 is the finest
        for band in BANDS:
            y = pyr.pyr_coeffs[(level, band)]
            h, w = (s // BLOCK * BLOCK for s in y.shape)
            out.append((np.ascontiguousarray(y[:h, :w], dtype=np.float64), LEVELS - level))
    return out


def _gsm(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(s^2 field, eigenvalues of C_u)`` of a subband cropped to a multiple of ``BLOCK``."""
    m = BLOCK
    h, w = y.shape
    overlapping = np.stack(
        [y[k : h - m + 1 + k, j : w - m + 1 + j].ravel() for k in range(m) for j in range(m)]
    )
    centred = overlapping - overlapping.mean(axis=1, keepdims=True)
    cu = centred @ centred.T / overlapping.shape[1]
    blocks = y.reshape(h // m, m, w // m, m).transpose(1, 3, 0, 2).reshape(m * m, -1)
    ss = (np.linalg.inv(cu) @ blocks * blocks).sum(axis=0) / (m * m)
    return ss.reshape(h // m, w // m), np.linalg.eigvalsh(cu)


def reference_subbands(c: np.ndarray) -> list[Subband]:
    """Steps 1 and 3 of the module docstring for one ``(H, W)`` float64 reference plane."""
    if min(c.shape) < MIN_SIDE:
        raise SrbenchError(
            f"the image is {c.shape[0]}x{c.shape[1]}; IFC/VIF need at least {MIN_SIDE}x{MIN_SIDE}"
        )
    return [Subband(y, l, *_gsm(y)) for y, l in _pyramid_bands(c)]


def _box(x: np.ndarray, side: int) -> np.ndarray:
    """Sums over ``side x side`` boxes centred on every third sample from the second ('reflect1')."""
    from pyrtools.pyramids.c.wrapper import corrDn

    h, w = x.shape
    half = BLOCK // 2
    stop = (h - math.ceil(BLOCK / 2) + 1, w - math.ceil(BLOCK / 2) + 1)
    return corrDn(
        np.ascontiguousarray(x), np.ones((side, side)), "reflect1", (BLOCK, BLOCK), (half, half), stop
    )


def distortion_channel(c: np.ndarray, d: np.ndarray, win_exp: int) -> tuple[np.ndarray, np.ndarray]:
    """``(g, sigma_v^2)`` per block centre (step 2 of the module docstring)."""
    side = 2**win_exp + 1
    n = side * side
    mc, md = _box(c, side) / n, _box(d, side) / n
    cov = _box(c * d, side) - n * mc * md
    var_c = np.maximum(_box(c * c, side) - n * mc * mc, 0)
    var_d = np.maximum(_box(d * d, side) - n * md * md, 0)
    g = cov / (var_c + TOL)
    vv = (var_d - g * cov) / n
    flat_c = var_c < TOL
    g[flat_c] = 0
    vv[flat_c] = var_d[flat_c]
    flat_d = var_d < TOL
    g[flat_d] = 0
    vv[flat_d] = 0
    negative = g < 0
    vv[negative] = var_d[negative]
    g[negative] = 0
    vv[vv <= TOL] = TOL
    return g, vv


def information_sums(ref: list[Subband], d: np.ndarray, sigma_nsq: float) -> tuple[float, float]:
    """``(sum log2(1 + g^2 s^2 lambda / (sigma_v^2 + sigma_nsq)), sum log2(1 + s^2 lambda / sigma_nsq))``
    over the subbands of the distorted plane ``d`` (step 4)."""
    num = den = 0.0
    for sub, (yd, _) in zip(ref, _pyramid_bands(d), strict=True):
        g, vv = distortion_channel(sub.coeffs, yd, sub.win_exp)
        o = math.ceil(2 ** (sub.win_exp - 1) / BLOCK)
        g, vv, ss = (a[o:-o, o:-o] for a in (g, vv, sub.ss))
        gain = (g * g * ss)[..., None] * sub.eigenvalues
        num += float(np.log2(1 + gain / (vv[..., None] + sigma_nsq)).sum())
        den += float(np.log2(1 + ss[..., None] * sub.eigenvalues / sigma_nsq).sum())
    return num, den


def ifc(reference: np.ndarray, distorted: np.ndarray) -> float:
    """IFC of one ``(H, W)`` distorted plane against its reference (reference first, as ``ifcvec``)."""
    num, _ = information_sums(reference_subbands(reference), distorted, IFC_EPS)
    return num / reference.size


def vif(reference: np.ndarray, distorted: np.ndarray) -> float:
    """Wavelet-domain VIF of one ``(H, W)`` distorted plane against its reference (as ``vifvec``)."""
    num, den = information_sums(reference_subbands(reference), distorted, VIF_SIGMA_NSQ)
    return num / den


class _GSMMetric(LumaMetric):
    """IFC and VIF: the HR pyramid and GSM parameters are the per-image reference."""

    min_side: ClassVar[int] = MIN_SIDE

    def reference(self, hr: torch.Tensor) -> list[list[Subband]]:
        try:
            planes = self._y(hr, "HR").cpu().numpy()
        except SrbenchError as e:  # the read-ahead (data/pairs.make_pair) names the image of a ValueError
            raise ValueError(str(e).removeprefix(f"{self.name}: ")) from None
        return [reference_subbands(p) for p in planes]

    def _value(self, ref: list[Subband], d: np.ndarray) -> float:
        raise NotImplementedError

    def score(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        planes = self._y(sr, "SR").cpu().numpy()
        refs = ref if ref is not None else self.reference(hr)
        values = [self._value(r, p) for r, p in zip(refs, planes, strict=True)]  # type: ignore[arg-type]
        return torch.tensor(values, dtype=torch.float64)


@register
class IFC(_GSMMetric, facts="ifc"):
    """Information fidelity criterion (``ifcvec.m``), on the cropped Y plane; see the module doc."""

    def _value(self, ref: list[Subband], d: np.ndarray) -> float:
        num, _ = information_sums(ref, d, IFC_EPS)
        return num / d.size


@register
class VIF(_GSMMetric, facts="vif"):
    """Visual information fidelity, wavelet domain (``vifvec.m``), on the cropped Y plane."""

    def _value(self, ref: list[Subband], d: np.ndarray) -> float:
        num, den = information_sums(ref, d, VIF_SIGMA_NSQ)
        return num / den


__all__ = ["IFC", "MIN_SIDE", "VIF", "Subband", "distortion_channel", "ifc", "reference_subbands", "vif"]
