"""The images behind the zoomed-crop figure (:func:`srbench_eval.reports.figures.crop_grid`).

* :class:`Crop`: a region ``x,y,w,h`` in HR pixels, parsed from ``--crop`` and checked;
* :func:`auto_crop`: the ``size x size`` window where the models' images differ most;
* :func:`sr_panels`: HR (from the local copy of the dataset, :func:`hr_image`), bicubic
  (:func:`bicubic_from_hr` when the runs did not include it) and every model's ``--save-sr`` image of
  one dataset image, side by side.

No matplotlib here: the figure is drawn in :mod:`srbench_eval.reports.figures`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srbench_eval.color import display_grey
from srbench_eval.data.datasets.registry import open_dataset
from srbench_eval.data.io.images import modcrop, read_image
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.runs.finished import FinishedRun, all_values


@dataclass(frozen=True)
class Crop:
    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> Crop:
        """``"x,y,w,h"`` in HR pixels; one-line error for anything else."""
        parts = text.split(",")
        try:
            x, y, w, h = (int(p) for p in parts)
        except ValueError:
            raise SrbenchError(
                f"--crop '{text}': expected x,y,w,h as four integers, e.g. --crop 40,60,64,64"
            ) from None
        if x < 0 or y < 0 or w <= 0 or h <= 0:
            raise SrbenchError(f"--crop '{text}': x and y must be >= 0 and w, h > 0")
        return cls(x, y, w, h)

    def check(self, shape: tuple[int, ...], where: str) -> None:
        height, width = shape[:2]
        if self.x + self.w > width or self.y + self.h > height:
            raise SrbenchError(
                f"--crop {self.x},{self.y},{self.w},{self.h}: outside {where} ({width}x{height} pixels)"
            )

    def cut(self, img: np.ndarray) -> np.ndarray:
        return img[self.y : self.y + self.h, self.x : self.x + self.w]


def auto_crop(images: Sequence[np.ndarray], size: int = 64, hr: np.ndarray | None = None) -> Crop:
    """The ``size x size`` window where the models differ most.

    With the HR image: the largest box sum of the variance across models of the per-pixel squared
    error ``e_m = (g(SR_m) - g(HR))^2`` (``g``: :func:`~srbench_eval.color.display_grey`), so a flat
    patch that every model renders alike (or all equally wrong) is never chosen over detail that one
    model restores and another does not. Without it: the box sum of the per-pixel standard deviation
    across the models' images. An integral image gives every window sum."""
    stack = np.stack([display_grey(i) for i in images])
    if hr is not None and hr.shape[:2] == images[0].shape[:2]:
        spread = ((stack - display_grey(hr)[None]) ** 2).var(axis=0)
    else:
        spread = stack.std(axis=0)
    h, w = spread.shape
    s = max(1, min(size, h, w))
    integral = np.pad(spread.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = integral[s:, s:] - integral[:-s, s:] - integral[s:, :-s] + integral[:-s, :-s]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return Crop(int(x), int(y), s, s)


def crop_psnr(sr: np.ndarray, hr: np.ndarray) -> float:
    """PSNR (dB, peak 255) of a crop against the HR crop on their display grey: a label, not a result
    (the run's numbers follow the protocol on whole images)."""
    mse = float(np.mean((display_grey(sr) - display_grey(hr)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def hr_image(runs: Sequence[FinishedRun], dataset: str, image: str, scale: int) -> np.ndarray | None:
    """The HR image, mod-cropped to ``scale``, from the local copy of the dataset (never downloaded)."""
    candidates = [dataset]
    for r in runs:
        loc = r.summary.provenance.get("datasets", {}).get(dataset, {}).get("location", "")
        candidates += [t for t in str(loc).split() if Path(t).is_dir()]
    for spec in candidates:
        try:
            ds = open_dataset(spec, download=False)
        except SrbenchError:
            continue
        for path, name in zip(ds.images, ds.names(), strict=True):
            if name == image:
                return modcrop(read_image(path), scale)
    return None


def bicubic_from_hr(hr: np.ndarray, scale: int) -> np.ndarray:
    """The bicubic baseline's SR image: ``imresize(uint8(imresize(HR, 1/scale)), scale)`` (MATLAB, uint8),
    the same as the ``bicubic`` model of a run, for runs that did not include it."""
    import torch

    from srbench_eval.data.degrade.bicubic import degrade_bicubic, imresize_uint8  # numba kernels

    lr = degrade_bicubic(hr, scale)
    t = torch.from_numpy(lr).to(torch.float64)
    t = t[None] if lr.ndim == 2 else t.permute(2, 0, 1)
    up = imresize_uint8(t, scale)
    up = up[0] if lr.ndim == 2 else up.permute(1, 2, 0)
    return np.ascontiguousarray(up.numpy().astype(np.uint8))


@dataclass(frozen=True)
class Panels:
    """The images of one dataset image side by side: HR (when found locally) then every model."""

    dataset: str
    image: str
    scale: int
    labels: tuple[str, ...]
    images: tuple[np.ndarray, ...]
    missing: str = ""


def sr_panels(
    runs: Sequence[FinishedRun], dataset: str | None = None, image: str | None = None
) -> Panels | None:
    """HR and every model's ``--save-sr`` image of ``dataset/image`` (default: the first dataset and the
    image whose PSNR differs most across models); ``None`` when the runs kept no SR images."""
    values = all_values(runs)
    saved = [
        (v.model, v.dataset, v.scale, v.image)
        for v in values
        if v.image and any(r.sr_image(v.model, v.dataset, v.image, v.scale) for r in runs)
    ]
    if not saved:
        return None
    saved = list(dict.fromkeys(saved))
    if dataset is not None:
        known = list(dict.fromkeys(s[1] for s in saved))
        if dataset not in known:
            raise unknown_name("dataset with --save-sr images", dataset, known)
    dataset = dataset or saved[0][1]
    in_ds = [s for s in saved if s[1] == dataset]
    scale = in_ds[0][2]
    images = list(dict.fromkeys(s[3] for s in in_ds))
    if image is not None and image not in images:
        raise unknown_name(f"image of {dataset}", image, images)
    if image is None:
        psnr: dict[str, list[float]] = {}
        for v in values:
            if v.metric == "psnr" and v.dataset == dataset and v.scale == scale and math.isfinite(v.value):
                psnr.setdefault(v.image, []).append(v.value)
        image = max(images, key=lambda i: np.ptp(psnr.get(i, [0.0])))
    models = list(dict.fromkeys(s[0] for s in in_ds if s[3] == image))
    labels, imgs = [], []
    for m in models:
        path = next(p for r in runs if (p := r.sr_image(m, dataset, image, scale)) is not None)
        labels.append(m)
        imgs.append(read_image(path))
    hr = hr_image(runs, dataset, image, scale)
    missing = ""
    if hr is not None and hr.shape[:2] == imgs[0].shape[:2]:
        if "bicubic" not in labels:
            labels.insert(0, "bicubic")
            imgs.insert(0, bicubic_from_hr(hr, scale))
        labels.insert(0, "HR")
        imgs.insert(0, hr)
    else:
        missing = f"HR of {dataset}/{image} not found locally (the dataset cache or folder): shown without HR"
    return Panels(dataset, image, scale, tuple(labels), tuple(imgs), missing)


__all__ = ["Crop", "Panels", "auto_crop", "bicubic_from_hr", "crop_psnr", "hr_image", "sr_panels"]
