"""NIQE, Natural Image Quality Evaluator (Mittal, Soundararajan & Bovik, IEEE SPL 2013), lower is better.

No-reference: only the SR image is read (the HR image is ignored). As the authors' MATLAB release
(``niqe.m`` -> ``computequality.m``), with its pristine model (``modelparameters.mat``; the registry
file ``niqe-pris``, BasicSR's conversion of it, downloaded with its SHA-256), on one grey plane ``I``
of 0..255 values:

1. ``I`` is cut to a whole number of 96x96 blocks (the bottom and right remainders are dropped).
2. At each of two scales (``I``, then MATLAB ``imresize(I, 0.5)``: bicubic with antialiasing, in
   double, :func:`srbench_eval.data.degrade.bicubic.imresize`), the MSCN coefficients::

       mu = w * I,   sigma = sqrt(|w * I^2 - mu^2|),   J = (I - mu) / (sigma + 1)

   with ``w`` the 7x7 Gaussian of sigma 7/6 (``fspecial``, normalised) and replicated borders
   (``imfilter(.., 'replicate')``).
3. Per block (96x96, then 48x48 at the second scale), 18 features: the AGGD fit ``(alpha,
   (beta_l + beta_r) / 2)`` of ``J``, and for the products of ``J`` with its circular shifts by
   (0,1), (1,0), (1,1), (1,-1) within the block the AGGD ``(alpha, (beta_r - beta_l)
   Gamma(2/alpha)/Gamma(1/alpha), beta_l, beta_r)``. The AGGD fit (``estimateaggdparam``): with
   ``s_l``, ``s_r`` the RMS of the negative and positive samples, ``g = s_l / s_r``,
   ``r = mean(|x|)^2 / mean(x^2)``, ``R = r (g^3 + 1)(g + 1) / (g^2 + 1)^2``, ``alpha`` is the point
   of the grid 0.2:0.001:10 minimising ``(Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a)) - R)^2`` and
   ``beta_{l,r} = s_{l,r} sqrt(Gamma(1/alpha) / Gamma(3/alpha))``.
4. With ``nu``, ``S`` the column means (``nanmean``) and the covariance of the rows without NaN
   (``nancov``) of the 36-feature block rows, and ``nu_p``, ``S_p`` the pristine model::

       NIQE = sqrt((nu_p - nu) pinv((S_p + S) / 2) (nu_p - nu)^T)

Exactness, a documented, measured difference. ``I - mu`` is exactly 0 wherever the 7x7
neighbourhood is constant (saturated or flat areas); here such positions are set to that exact 0
(SciPy's filtering would leave +-1e-14 there, in its own summation order). MATLAB's ``imfilter``
leaves ``delta(c) = c - fl(sum of w_k c)``, 0 or a few 1e-14 of either sign depending on the grey
level ``c``, on its summation order and on whether it separates the kernel (``svd`` factors from
its LAPACK, for double images once the kernel has ``getSeparableFilterThreshold`` elements); the
AGGD fits count those samples as negative or positive, which changes ``beta_l``/``beta_r`` and the
score. Against the MATLAB release's values (pyiqa's ``iqa/results_official.csv`` row ``niqe``,
``rgb2gray`` input, to 15 digits), ours - MATLAB on the five pairs is:

    I03 -0.0098 (2728 flat pixels), I04 +2e-13 (none), I06 -0.0013 (1242), I08 +0.0180 (4056),
    I19 +0.0297 (55640)

``benchmarks/niqe_roundoff.py`` recomputes NIQE with ``delta(c)`` from 49 MATLAB-like arithmetic
models (signs per scale; random summation orders; separable factors a few ulps apart): the spread
is I03 -0.0200..+0.0365, I04 0 (no flat pixel: every model gives the same value), I06
-0.0013..+0.0012, I08 -0.0078..+0.0549, I19 -0.0126..+0.4979, covering the MATLAB value on every
image; no model matches all four flat images to 0.005, and which ``delta(c)`` MATLAB got cannot be
had without MATLAB. Our exact zero is the one roundoff-free choice and among the closest (largest
gap 0.0297, on I19; the best of the 49 models: 0.0283). The grey plane is not the cause: with
``rgb2gray``'s own weights (0.2989, 0.5870, 0.1140, rounded) I04 is exact, while YIQ's 0.299, 0.587,
0.114 move I03 to -0.091 and an unrounded grey moves I04 by 0.013.

The issue's ``niqe_matlab`` row (7.20, 2.99, 3.17, 3.71, 7.69) is not the authors' release: it is
MATLAB's Image Processing Toolbox ``niqe`` with MathWorks' own default model. pyiqa's
``niqe_matlab`` metric, calibrated against that row, runs the same algorithm as its ``niqe`` with
another model file (``version='matlab'``: ``niqe_matlab_params.mat`` from pyiqa's weight hub instead
of the release's ``niqe_modelparameters.mat``; pyiqa 0.1.16, ``archs/niqe_arch.py``). That model is
not published by the authors, not in ``../shared`` and cannot be fetched here, so that row is not
reproduced (ours, with the release's model: 15.74, 3.65, 3.23, 3.20, 8.66).

Under the SR protocol the plane is the border-cropped Y channel (PIRM 2018's ``calc_NIQE``: Y of
``rgb2ycbcr``, shaved by the scale). Images need at least 96x96 pixels after the crop (one block);
a single block gives MATLAB ``nancov``'s variance-of-a-vector, reproduced as such.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import torch
from scipy.ndimage import correlate, maximum_filter, minimum_filter
from scipy.special import gamma

from srbench_eval import weights
from srbench_eval.data.degrade.bicubic import imresize
from srbench_eval.metrics import register
from srbench_eval.metrics.base import MetricSettings
from srbench_eval.metrics.luma import LumaMetric

BLOCK = 96
WINDOW = 7
WINDOW_SIGMA = 7 / 6
SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))
ALPHAS = 0.2 + 0.001 * np.arange(9801)  # MATLAB 0.2:0.001:10
_R_ALPHAS = gamma(2 / ALPHAS) ** 2 / (gamma(1 / ALPHAS) * gamma(3 / ALPHAS))


def gaussian_window() -> np.ndarray:
    """``fspecial('gaussian', 7, 7/6)``, normalised to sum 1."""
    d = np.arange(WINDOW) - (WINDOW - 1) / 2
    g = np.exp(-(d * d) / (2 * WINDOW_SIGMA**2))
    w = np.outer(g, g)
    return w / w.sum()


def aggd(x: np.ndarray) -> tuple[float, float, float]:
    """``(alpha, beta_l, beta_r)`` of the asymmetric generalised Gaussian fit (``estimateaggdparam``)."""
    left = math.sqrt(np.mean(x[x < 0] ** 2)) if (x < 0).any() else math.nan
    right = math.sqrt(np.mean(x[x > 0] ** 2)) if (x > 0).any() else math.nan
    g = left / right
    r = np.mean(np.abs(x)) ** 2 / np.mean(x * x)
    r_norm = r * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = float(ALPHAS[np.argmin((_R_ALPHAS - r_norm) ** 2)])  # all-NaN: the first, as MATLAB's min
    c = math.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * c, right * c


def block_features(j: np.ndarray) -> list[float]:
    """The 18 features of one block of MSCN coefficients (step 3 of the module docstring)."""
    alpha, bl, br = aggd(j)
    feats = [alpha, (bl + br) / 2]
    for shift in SHIFTS:
        alpha, bl, br = aggd(j * np.roll(j, shift, axis=(0, 1)))
        feats += [alpha, (br - bl) * gamma(2 / alpha) / gamma(1 / alpha), bl, br]
    return feats


def mscn(img: np.ndarray) -> np.ndarray:
    """``(I - mu) / (sigma + 1)`` (step 2), exactly 0 where the 7x7 neighbourhood is constant."""
    w = gaussian_window()
    mu = correlate(img, w, mode="nearest")
    sigma = np.sqrt(np.abs(correlate(img * img, w, mode="nearest") - mu * mu))
    flat = maximum_filter(img, WINDOW, mode="nearest") == minimum_filter(img, WINDOW, mode="nearest")
    mu[flat] = img[flat]
    return (img - mu) / (sigma + 1)


def niqe_features(img: np.ndarray) -> np.ndarray:
    """``(blocks, 36)`` feature rows of an ``(H, W)`` float64 plane with ``H, W >= 96``."""
    h, w = img.shape[0] // BLOCK * BLOCK, img.shape[1] // BLOCK * BLOCK
    img = img[:h, :w]
    scales = []
    for scale in (1, 2):
        j = mscn(img)
        b = BLOCK // scale
        scales.append(
            [
                block_features(j[r : r + b, c : c + b])
                for c in range(0, j.shape[1], b)
                for r in range(0, j.shape[0], b)
            ]
        )
        if scale == 1:
            img = imresize(torch.from_numpy(img)[None], 0.5)[0].numpy()
    return np.concatenate([np.asarray(s) for s in scales], axis=1)


def niqe(img: np.ndarray, mu_pris: np.ndarray, cov_pris: np.ndarray) -> float:
    """NIQE of one ``(H, W)`` grey plane of 0..255 values against the pristine model (step 4)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # flat blocks: NaN features, as in MATLAB
        feats = niqe_features(np.asarray(img, dtype=np.float64))
    nu = np.nanmean(feats, axis=0)
    complete = feats[~np.isnan(feats).any(axis=1)]
    cov = np.var(complete[0], ddof=1) if len(complete) == 1 else np.cov(complete, rowvar=False)
    d = mu_pris.reshape(-1) - nu
    return float(math.sqrt(d @ np.linalg.pinv((cov_pris + cov) / 2) @ d))


@register
class NIQE(LumaMetric, facts="niqe"):
    """NIQE of the SR image's cropped Y plane (no reference); see the module docstring."""

    min_side: ClassVar[int] = BLOCK

    def __init__(self, settings: MetricSettings) -> None:
        super().__init__(settings)
        params = np.load(weights.require("niqe-pris", f"metric {self.name}"))
        self.mu_pris = np.asarray(params["mu_pris_param"], dtype=np.float64)
        self.cov_pris = np.asarray(params["cov_pris_param"], dtype=np.float64)

    def score(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        planes = self._y(sr, "SR").cpu().numpy()
        return torch.tensor([niqe(p, self.mu_pris, self.cov_pris) for p in planes], dtype=torch.float64)


__all__ = ["NIQE", "aggd", "block_features", "mscn", "niqe", "niqe_features"]
