"""Scores of one set of SR images under many conventions, each decoded image and Y plane made once.

For every image of a dataset the HR file is decoded once; each HR form a convention asks for (grey
rule, mod-crop, the Y-only pipeline's plane) is made once from it, and so is each LR input (the LR
generator's fields) and SR image (a folder's file, read once, brought to the HR form as ``run`` does
it; a model's output for that LR input). Each image form is a :class:`~srbench_eval.metrics.sample.Sample`
whose Y planes (``luma(image, rule)``) are made on first request and shared by every convention with
that rule; the SSIM HR moments are shared by the conventions with the same rule and crop. The
scores are those of ``run``: the same PSNR and SSIM metric objects on the same arrays. A network's
SR images are read from and written to the SR cache `run` uses (:mod:`srbench_eval.evaluation.cache`,
plain inference on the CPU), so `explain` after `run`, or a second `explain`, runs no network for
the conventions already computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from srbench_eval.compiled import as_tensor
from srbench_eval.data.degrade.bicubic import degrade
from srbench_eval.data.io.images import read_image
from srbench_eval.data.pairs import image_batch, protocol_hr
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation.cache import (
    SRCache,
    enabled_by_environment,
    entry_key,
    lr_digest,
    model_digest,
    model_key,
)
from srbench_eval.explain.conventions import Convention
from srbench_eval.metrics import MetricSettings
from srbench_eval.metrics.fidelity import PSNR, SSIM
from srbench_eval.metrics.sample import Sample
from srbench_eval.models.base import SRModel
from srbench_eval.models.inference import InferenceMode
from srbench_eval.models.loading import FolderModel
from srbench_eval.protocol import Protocol

METRICS = ("psnr", "ssim")
"""The metrics a target may name."""

_HR_FIELDS = ("grey", "modcrop", "degradation")
_LR_FIELDS = (*_HR_FIELDS, "border", "rounding")
_SR_FIELDS = (*_LR_FIELDS, "sr_quantisation", "network_input")


@dataclass
class CachedFolder(FolderModel):
    """A :class:`~srbench_eval.models.loading.FolderModel` that decodes each SR file once."""

    _decoded: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def image_for(self, dataset: str, image: str, names: Sequence[str]) -> np.ndarray:
        key = (dataset, image)
        if key not in self._decoded:
            self._decoded[key] = super().image_for(dataset, image, names)
        return self._decoded[key]


def _key(protocol: Protocol, fields: Sequence[str]) -> tuple[object, ...]:
    return tuple(getattr(protocol, f) for f in fields)


@dataclass
class ImageForms:
    """One image of a dataset in every form the conventions ask for (see the module docstring)."""

    path: Path
    dataset: str
    scale: int
    model: SRModel
    cache: SRCache | None = None
    digest: str | None = None  # the model's weights digest (model_digest), for the SR cache
    _raw: np.ndarray | None = None
    _forms: dict[tuple[object, ...], object] = field(default_factory=dict)

    def _memo(self, key: tuple[object, ...], make: object) -> object:
        if key not in self._forms:
            self._forms[key] = make()  # type: ignore[operator]
        return self._forms[key]

    def hr(self, protocol: Protocol) -> Sample:
        """The HR image ``protocol`` scores against (:func:`~srbench_eval.data.pairs.protocol_hr`)."""

        def make() -> Sample:
            if self._raw is None:
                self._raw = read_image(self.path)
            img = protocol_hr(self._raw, self.scale, protocol)
            if img.shape[0] % self.scale or img.shape[1] % self.scale:
                raise SrbenchError(f"{img.shape[1]}x{img.shape[0]} is not a multiple of x{self.scale}")
            return Sample(image_batch(img, channels_last=True))

        return self._memo(("hr", *_key(protocol, _HR_FIELDS)), make)  # type: ignore[return-value]

    def sr(self, protocol: Protocol) -> Sample:
        """The SR image: the folder's file, or the model's output for ``protocol``'s LR input."""

        def lr() -> np.ndarray:
            return self._memo(  # type: ignore[return-value]
                ("lr", *_key(protocol, _LR_FIELDS)),
                lambda: degrade(self.hr(protocol).array(), self.scale, protocol),
            )

        def make() -> Sample:
            hr_sample = self.hr(protocol)
            hr = hr_sample.array() if self.model.takes_arrays else hr_sample.tensor()
            low = None if isinstance(self.model, FolderModel) else lr()
            key = self._cache_key(protocol, low)
            if key is not None:  # the SR cache `run` fills and reads (evaluation/cache.py)
                found = self.cache.get(key[0], key[1], tuple(hr.shape))  # type: ignore[union-attr]
                if found is not None:
                    return Sample(found if self.model.takes_arrays else as_tensor(found))
            if low is not None and not self.model.takes_arrays:  # networks take tensors, as in `run`
                low = Sample(low).tensor()
            sr = self.model.sr_image(low, hr, protocol, self.dataset, self.path.stem)  # type: ignore[arg-type]
            if key is not None:
                self.cache.put(key[0], key[1], sr)  # type: ignore[union-attr]
            return Sample(sr)

        fields = _HR_FIELDS if isinstance(self.model, FolderModel) else _SR_FIELDS
        return self._memo(("sr", *_key(protocol, fields)), make)  # type: ignore[return-value]

    def _cache_key(self, protocol: Protocol, lr: np.ndarray | None) -> tuple[str, dict[str, Any]] | None:
        """The SR cache entry of this image under ``protocol`` (plain inference on the CPU, the key
        `run` uses), or ``None`` where nothing is cached."""
        if self.cache is None or lr is None or self.digest is None:
            return None
        fields = model_key(self.digest, protocol, self.scale, InferenceMode(), "cpu")
        return entry_key(fields, lr_digest(lr)), fields

    def score(self, protocol: Protocol, metric: str) -> float:
        """``metric`` of this image under ``protocol``, as ``run`` computes it."""
        settings = MetricSettings(self.scale, protocol)
        rule = protocol.y
        hr, sr = self.hr(protocol), self.sr(protocol)
        plain = rule in ("float", "rgb")
        a, b = (sr.array(), hr.array()) if plain else (sr.luma(rule), hr.luma(rule))
        if metric == "psnr":
            return float(PSNR(settings).score(a, b)[0])
        m = SSIM(settings)
        ref_key = ("ssim-ref", *_key(protocol, _HR_FIELDS), rule, protocol.ssim, settings.crop_border)
        ref = self._memo(ref_key, lambda: m.reference(b))
        return float(m.score(a, b, ref)[0])


@dataclass(frozen=True)
class Outcome:
    """The mean of each metric over a dataset under one convention, or why it does not apply."""

    convention: Convention
    means: dict[str, float]
    error: str = ""


def score_conventions(
    conventions: Sequence[Convention],
    model: SRModel,
    dataset: str,
    images: Sequence[Path],
    scale: int,
    metrics: Sequence[str],
) -> list[Outcome]:
    """Every convention's mean ``metrics`` over ``images`` (see the module docstring); a convention
    that cannot score them (an HR not a multiple of the scale without mod-crop, an SR image of
    another size, a model refused by the protocol) is an :class:`Outcome` with its ``error``."""
    model.prepare(dataset, [p.stem for p in images])
    digest = model_digest(model)
    cache = SRCache() if digest is not None and enabled_by_environment() else None
    forms = [ImageForms(p, dataset, scale, model, cache, digest) for p in images]
    out = []
    for c in conventions:
        try:
            model.check(c.protocol)
            means = {m: float(np.mean([f.score(c.protocol, m) for f in forms])) for m in metrics}
        except (SrbenchError, ValueError) as e:
            out.append(Outcome(c, {}, str(e).splitlines()[0]))
            continue
        out.append(Outcome(c, means))
    return out


__all__ = ["METRICS", "CachedFolder", "ImageForms", "Outcome", "score_conventions"]
