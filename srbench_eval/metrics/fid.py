"""FID, the Fréchet Inception Distance (Heusel et al., NeurIPS 2017), lower is better; set-level.

Features are pytorch-fid's: its ``InceptionV3`` (the TensorFlow FID Inception ported to PyTorch,
weights ``pt_inception-2015-12-05-6726825d.pth`` from the torch hub cache), pool3 block, 2048-d,
with pytorch-fid's preprocessing exactly: RGB in ``[0, 1]`` (``x / 255``, as ``ToTensor`` gives),
bilinear resize to 299x299 (``F.interpolate``, ``align_corners=False``, no antialias) and ``2x - 1``.
Grey images are replicated to RGB, as pytorch-fid's ``Image.convert("RGB")`` does.

With ``mu``, ``S`` the mean and (unbiased, ``np.cov``) covariance of the SR and HR feature sets::

    FID = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))

* ``fid``: one sample per image, SR images of a model against the HR images of the dataset.
* ``fid-patch``: each image cut into non-overlapping ``P x P`` patches plus a second grid shifted by
  ``P/2`` in both directions (the FID/256 recipe of learned image compression, Mentzer et al., HiFiC,
  2020), each patch a sample. ``P`` defaults to 64: the largest power of two that gives more samples
  than the 2048 feature dimensions on the standard 100-image benchmarks (BSD100 at 480x320 gives
  about 5900 patches, 800 at ``P = 128``); at x4 a 64-pixel HR patch covers 16 LR pixels.

Reliability: the covariance of ``n`` samples has rank at most ``n - 1``, so with ``n <= 2048`` the
statistic is dominated by sample size (Set5's 5 images, Set14's 14); such values come back with
``reliable=False`` and a note, for tables to mark, and are comparable only at equal ``n``.

The trace of the matrix square root is computed exactly without ``scipy.linalg.sqrtm`` (which costs
about 10 s for 2048x2048 on a CPU and is unstable on the singular products of small sets): with
``A``, ``B`` the centred features scaled by ``1/sqrt(n - 1)`` (``S_1 = A^T A``, ``S_2 = B^T B``),
``Tr (S_1 S_2)^(1/2)`` is the sum of the singular values of ``A B^T`` (``n_1 x n_2``) when both sets
have at most 2048 samples, and otherwise ``sum_i sqrt(lambda_i)`` over the eigenvalues of
``S_1^(1/2) S_2 S_1^(1/2)``. The tests check both paths against pytorch-fid's own
``calculate_frechet_distance`` on the same activations (relative 1e-6 on well-conditioned sets). On
the rank-deficient 2048-d covariances of a small benchmark, ``sqrtm`` itself is the less accurate
side: on Set14 pytorch-fid's value differs from the exact formula on its own activations by about
3e-5 relative, and the harness from that exact value by 4e-7. (pytorch-fid 0.3.0's function also
fails on SciPy >= 1.18, which removed the ``disp`` argument it passes; the harness does not call it.)

Speed and memory: each image's samples go through the network in batches of ``batch_size`` (patches
are kept at their own size until their batch is resized), in channels-last layout, with full-fp32
convolutions on CUDA (no TF32). A batch never mixes images, so an image's features are the same
whichever other images share the set and whichever process computes them: the metric is a
:class:`~srbench_eval.metrics.base.SetMetric`, whose per-image :meth:`~_FIDBase.features` (SR and HR
pool3 rows, CPU float32) a sharded run computes on the rank that holds the image and sends to rank 0,
which adds them in image order (:meth:`~_FIDBase.add_features`). Statistics are accumulated as
running mean and scatter matrices (Chan et al.), image by image, never as a list of every feature.
HR features are identical for every model of a dataset: the evaluation loop computes them once per
image in its read-ahead threads (:meth:`~_FIDBase.reference`), and they are cached per image (keyed
by a hash of its values, the variant and the weights file) in :data:`HR_FEATURES`, so each HR image
goes through the network once per process. No image is written to disk.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from srbench_eval import weights
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import register
from srbench_eval.metrics.base import MetricSettings, MetricValue, SetMetric, check_pair
from srbench_eval.metrics.lpips_metric import FeatureCache, checked_rgb, exact_fp32, image_digest

FEATURE_DIM = 2048
INCEPTION_SIZE = 299

HR_FEATURES = FeatureCache(1 << 30)
"""pool3 features of HR images (or of their patches), per process: 8 KB an image for ``fid``;
``fid-patch`` at P = 64 takes about 3 MB per Urban100 image."""


class FeatureStats:
    """Running statistics of feature rows: count, mean and scatter matrix, in float64.

    Batches merge by Chan et al.'s update: for a batch with ``n_b`` rows, mean ``m_b`` and centred
    scatter ``C_b``: ``delta = m_b - m``, ``m += delta n_b / (n + n_b)``,
    ``C += C_b + delta delta^T n n_b / (n + n_b)``.
    While there are at most ``keep_rows`` rows they are kept as well, for the exact low-rank path
    of :func:`frechet_distance`.
    """

    def __init__(self, dim: int = FEATURE_DIM, keep_rows: int = FEATURE_DIM) -> None:
        self.dim = dim
        self.keep_rows = keep_rows
        self.n = 0
        self.mean = torch.zeros(dim, dtype=torch.float64)
        self.scatter = torch.zeros(dim, dim, dtype=torch.float64)
        self.rows: list[torch.Tensor] | None = []

    def add(self, feats: torch.Tensor) -> None:
        """Add ``(k, dim)`` feature rows (any device; accumulated there in float64)."""
        x = feats.detach().to(torch.float64).reshape(-1, self.dim)
        k = x.shape[0]
        if k == 0:
            return
        if self.mean.device != x.device:
            self.mean, self.scatter = self.mean.to(x.device), self.scatter.to(x.device)
        m_b = x.mean(dim=0)
        xc = x - m_b
        delta = m_b - self.mean
        n = self.n + k
        self.scatter += xc.T @ xc + torch.outer(delta, delta) * (self.n * k / n)
        self.mean += delta * (k / n)
        self.n = n
        if self.rows is not None:
            self.rows.append(x)
            if self.n > self.keep_rows:
                self.rows = None

    def covariance(self) -> np.ndarray:
        """Unbiased covariance (``np.cov(features, rowvar=False)``)."""
        return (self.scatter / (self.n - 1)).cpu().numpy()

    def centred_rows(self) -> np.ndarray | None:
        """``(X - mean) / sqrt(n - 1)`` as an ``(n, dim)`` array, or None once the rows were dropped."""
        if self.rows is None:
            return None
        x = torch.cat(self.rows).cpu().numpy()
        return (x - x.mean(axis=0)) / math.sqrt(self.n - 1)


def frechet_distance(a: FeatureStats, b: FeatureStats) -> float:
    """``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, exactly (see the module doc)."""
    if a.n < 2 or b.n < 2:
        raise ValueError("the Fréchet distance needs at least 2 samples on each side")
    diff = (a.mean - b.mean.to(a.mean.device)).cpu().numpy()
    ra, rb = a.centred_rows(), b.centred_rows()
    if ra is not None and rb is not None:
        tr_a, tr_b = float(np.sum(ra * ra)), float(np.sum(rb * rb))
        tr_sqrt = float(np.linalg.svd(ra @ rb.T, compute_uv=False).sum())
    else:
        s_a, s_b = a.covariance(), b.covariance()
        tr_a, tr_b = float(np.trace(s_a)), float(np.trace(s_b))
        w, v = np.linalg.eigh(s_a)
        root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        lam = np.linalg.eigvalsh(root_a @ s_b @ root_a)
        tr_sqrt = float(np.sqrt(np.clip(lam, 0, None)).sum())
    return float(diff @ diff) + tr_a + tr_b - 2 * tr_sqrt


def _build_inception() -> torch.nn.Module:
    """pytorch-fid's FID InceptionV3, pool3 block; we resize to 299 ourselves with pytorch-fid's
    own call (so that images of different sizes can share a batch) and let it map [0, 1] to [-1, 1]."""
    from pytorch_fid.inception import InceptionV3

    model = InceptionV3(
        [InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIM]], resize_input=False, normalize_input=True
    )
    return model.to(memory_format=torch.channels_last)


def to_inception_size(x: torch.Tensor) -> torch.Tensor:
    """pytorch-fid's resize: bilinear to 299x299, ``align_corners=False`` (identity at that size)."""
    if tuple(x.shape[-2:]) == (INCEPTION_SIZE, INCEPTION_SIZE):
        return x
    return F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)


def grid_patches(x: torch.Tensor, p: int) -> torch.Tensor:
    """The ``p x p`` patches of a ``(1, C, H, W)`` image on two grids, shape ``(k, C, p, p)``.

    The first grid starts at the top-left corner, the second at ``(p // 2, p // 2)``; pixels that do
    not fill a whole patch at the bottom/right are left out. ``k = floor(H/p) floor(W/p) +
    floor((H - p/2)/p) floor((W - p/2)/p)``.
    """
    out = []
    for s in (0, p // 2):
        g = x[..., s:, s:]
        h, w = (g.shape[-2] // p) * p, (g.shape[-1] // p) * p
        if h and w:
            g = g[..., :h, :w].unfold(2, p, p).unfold(3, p, p)  # (N, C, nh, nw, p, p)
            out.append(g.permute(0, 2, 3, 1, 4, 5).reshape(-1, x.shape[1], p, p))
    return torch.cat(out)


class _FIDBase(SetMetric):
    """Shared machinery of ``fid`` and ``fid-patch``: per-image features, HR cache, statistics."""

    def __init__(self, settings: MetricSettings, *, batch_size: int = 16) -> None:
        super().__init__(settings)
        if batch_size < 1:
            raise SrbenchError(f"{self.name}: batch_size must be >= 1")
        self.batch_size = int(batch_size)
        self.model = weights.load_network(
            "fid-inception", "inception-fid", f"metric {self.name}", settings.device, _build_inception
        )
        self._scope = (self.variant(), str(settings.device), *weights.file_identity("inception-fid"))
        self.sr_stats = FeatureStats()
        self.hr_stats = FeatureStats()

    # -- subclass hooks
    def variant(self) -> str:
        return self.name

    def options(self) -> dict[str, int]:
        """The option values in force, for the results' provenance."""
        return {"batch_size": self.batch_size}

    def samples(self, x: torch.Tensor) -> torch.Tensor:
        """The samples of one ``(1, 3, H, W)`` image in ``[0, 1]``: ``(k, 3, h, w)``."""
        return to_inception_size(x)

    # -- protocol
    def reference(self, hr: torch.Tensor) -> list[torch.Tensor]:
        """The pool3 features of every HR image (the HR half of the work, the same for every model),
        ``(k, 2048)`` float32 CPU tensors; computed by the evaluation loop's read-ahead threads."""
        hr_rgb = checked_rgb(hr.to(self.settings.device, torch.float32), self.name, "HR") / 255
        return [self._hr_features(hr_rgb[i : i + 1]) for i in range(hr_rgb.shape[0])]

    def features(
        self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(SR features, HR features)`` of every image, ``(k, 2048)`` float32 CPU tensors."""
        check_pair(sr, hr)
        sr_rgb = checked_rgb(sr.to(self.settings.device, torch.float32), self.name, "SR") / 255
        hr_feats = self.reference(hr) if ref is None else ref
        assert isinstance(hr_feats, list) and len(hr_feats) == sr.shape[0]
        return [(self._network(self.samples(sr_rgb[i : i + 1])), hr_feats[i]) for i in range(sr.shape[0])]

    def add_features(self, features: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Add each image's SR and HR feature rows to the running statistics, on the metric's device."""
        device = self.settings.device
        for sr_feats, hr_feats in features:
            self.sr_stats.add(sr_feats.to(device))
            self.hr_stats.add(hr_feats.to(device))

    def compute(self) -> MetricValue:
        n = self.sr_stats.n
        if n < 2:
            return MetricValue(
                math.nan, n, reliable=False, note=f"{self.name} needs at least 2 samples, got {n}"
            )
        value = frechet_distance(self.sr_stats, self.hr_stats)
        if n <= FEATURE_DIM:
            note = (
                f"{n} samples <= {FEATURE_DIM} feature dimensions: rank-deficient covariance, value "
                f"depends on the sample count"
            )
            return MetricValue(value, n, reliable=False, note=note)
        return MetricValue(value, n)

    # -- the network
    def _hr_features(self, hr_rgb: torch.Tensor) -> torch.Tensor:
        """Features of one HR image in ``[0, 1]``, from :data:`HR_FEATURES` when it was seen before."""
        key = (*self._scope, image_digest(hr_rgb[0]))
        cached = HR_FEATURES.get(key)
        if cached is not None:
            return cached[0]
        feats = self._network(self.samples(hr_rgb))
        HR_FEATURES.put(key, [feats])
        return feats

    def _network(self, samples: torch.Tensor) -> torch.Tensor:
        """pool3 features of one image's ``(k, 3, h, w)`` samples, ``batch_size`` per network call,
        as a ``(k, 2048)`` float32 CPU tensor. Batches never mix images, so an image's features do
        not depend on the other images of the set, nor on the process that computes them."""
        out = []
        with torch.inference_mode(), exact_fp32(self.settings.device):
            for chunk in samples.split(self.batch_size):
                x = to_inception_size(chunk).contiguous(memory_format=torch.channels_last)
                out.append(self.model(x)[0].flatten(1))
        feats = torch.cat(out)
        if not torch.isfinite(feats).all():
            raise SrbenchError(f"{self.name}: the Inception network returned non-finite features")
        return feats.float().cpu()


@register
class FID(_FIDBase, facts="fid"):
    """FID over whole images (one 2048-d sample per image).

    Option (keyword argument): ``batch_size``, samples per network call (default 16; it bounds the
    memory, about 0.5 GB of activations).
    """


@register
class PatchFID(_FIDBase, facts="fid-patch"):
    """FID over ``P x P`` patches on two grids (one shifted by ``P/2``); see the module doc.

    Options (keyword arguments): ``patch_size`` P (default :attr:`patch_size`, 64), ``batch_size``.
    """

    patch_size: ClassVar[int] = 64

    def __init__(
        self, settings: MetricSettings, *, patch_size: int | None = None, batch_size: int = 16
    ) -> None:
        p = type(self).patch_size if patch_size is None else int(patch_size)
        if p < 2:
            raise SrbenchError(f"fid-patch: patch_size must be at least 2, got {p}")
        self.p = p
        super().__init__(settings, batch_size=batch_size)

    def variant(self) -> str:
        return f"{self.name}-{self.p}"

    def options(self) -> dict[str, int]:
        return {"patch_size": self.p, "batch_size": self.batch_size}

    def samples(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if min(h, w) < self.p:
            raise SrbenchError(
                f"fid-patch: an image of {h}x{w} pixels is smaller than the patch size {self.p}; "
                f"choose a smaller patch_size"
            )
        return grid_patches(x, self.p)


__all__ = ["FID", "FEATURE_DIM", "FeatureStats", "PatchFID", "frechet_distance", "grid_patches"]
