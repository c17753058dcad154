"""The one metric protocol, for per-image metrics (PSNR, SSIM, LPIPS) and set-level ones (FID).

Every metric is a small stateful object built for one (model, dataset) pair:

* ``update(sr, hr)`` takes a batch of SR outputs and their HR references as ``float32`` tensors of
  shape ``(N, C, H, W)`` on the evaluation device, holding the 8-bit values 0..255 of the images as
  they would be saved (the SR output is rounded and clipped to uint8 before any metric sees it, the
  way the published tables were computed from PNG files). ``C`` is 3 (RGB) or 1 (a grey image,
  which fidelity metrics use directly as the Y channel). ``sr`` and ``hr`` have the same size.
  A per-image metric returns its ``N`` per-image values; a set-level metric returns ``None``.
* A set-level metric (:class:`SetMetric`, FID) splits ``update`` in two: ``features(sr, hr)`` is
  each image's share of the work (network features, on the CPU, picklable), computed by whichever
  process holds the image, and ``add_features`` accumulates them in image order; a sharded run
  (``torchrun``) sends only those features to rank 0.
* ``compute()`` returns the :class:`MetricValue` for everything seen since construction: the mean
  of the per-image values, or the set-level statistic. An image scored as several samples
  (:meth:`PerImageMetric.add_samples`: RealSR's patches, :mod:`srbench_eval.metrics.patch_average`)
  has the mean of its samples as its value, and the set's value is then the mean over every sample
  of every image (``mean(PSNRs)`` of RealSR's ``Test.m``), resting on that many samples.

Facts about a metric (label, direction, per-image or per-set, display precision) live on its class
so that tables, regression checks and the CLI never special-case metric names; a class takes them
by name from the torch-free table :data:`srbench_eval.metrics.facts.METRIC_FACTS`
(``class PSNR(PerImageMetric, facts="psnr")``), which ``srbench-eval metrics`` reads without
importing any metric.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from srbench_eval.compiled import is_tensor
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics.facts import CLASS_FACTS, METRIC_FACTS
from srbench_eval.protocol import DEFAULT as DEFAULT_PROTOCOL
from srbench_eval.protocol import Protocol

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class MetricSettings:
    """What a metric may need to know: the scale, the resolved evaluation :class:`Protocol` (border
    crop, Y rule, SSIM variant, ...) and the device (a ``torch.device`` or its name, ``"cpu"`` by
    default: torch takes either). The crop is the protocol's, never a second copy."""

    scale: int
    protocol: Protocol = DEFAULT_PROTOCOL
    device: torch.device | str = "cpu"

    @property
    def crop_border(self) -> int:
        """Pixels removed on every side before scoring: :meth:`Protocol.crop` of the scale."""
        return self.protocol.crop(self.scale)

    @property
    def perceptual_crop(self) -> int:
        """The border the perceptual metrics (LPIPS, DISTS) drop: :attr:`crop_border` when the
        protocol's ``perceptual_crop`` is on, else 0 (whole images, as the SR papers compute LPIPS)."""
        return self.crop_border if self.protocol.perceptual_crop else 0


@dataclass(frozen=True)
class MetricValue:
    """A metric's value over a set, with the number of samples it rests on.

    ``reliable`` is False when the statistic is known to be unreliable for that many samples (for
    example FID with fewer samples than feature dimensions); ``note`` says why.
    """

    value: float
    n_samples: int
    reliable: bool = True
    note: str = ""


class Metric(ABC):
    """Base class of every metric; see the module docstring for the protocol."""

    # The facts (:class:`~srbench_eval.metrics.facts.MetricFacts`), set by ``facts=NAME``.
    name: ClassVar[str]
    label: ClassVar[str]
    higher_is_better: ClassVar[bool]
    per_image: ClassVar[bool]
    decimals: ClassVar[int]
    inputs: ClassVar[str]  # what it reads: "Y" (the protocol's luma plane) or "RGB"
    full_reference: ClassVar[bool]  # False: the HR image is not used (NIQE)
    reference_impl: ClassVar[str]  # the published code its values are checked against
    takes_arrays: ClassVar[bool] = False
    """Whether :meth:`reference`, :meth:`update` (and :meth:`SetMetric.features`) also take the NumPy
    ``(N, C, H, W)`` float arrays of the evaluation's CPU path (and return NumPy values for them);
    otherwise the evaluation hands them tensors (:meth:`srbench_eval.metrics.sample.Sample.for_metric`
    makes the choice)."""
    reads_luma: ClassVar[bool] = False
    """Whether the metric's first step on both images is the protocol's Y plane
    (:func:`srbench_eval.metrics.fidelity.luma` under ``protocol.y``) and a 1-channel image is taken as
    its own Y: the evaluation may then hand it the Y planes, made once per image for every such
    metric (PSNR and SSIM), where the protocol's Y is not the plain float one
    (:meth:`srbench_eval.metrics.sample.Sample.luma`)."""

    def __init_subclass__(cls, facts: str | None = None, **kwargs: object) -> None:
        """``class M(Metric, facts="name")`` sets the class's facts from ``METRIC_FACTS["name"]``."""
        super().__init_subclass__(**kwargs)
        if facts is not None:
            entry = METRIC_FACTS[facts]
            for attribute in CLASS_FACTS:
                setattr(cls, attribute, getattr(entry, attribute))

    def __init__(self, settings: MetricSettings) -> None:
        self.settings = settings

    def reference(self, hr: torch.Tensor) -> object | None:
        """The part of the work that depends on the HR images only (the same for every model), or
        ``None``. The evaluation loop computes it once per HR batch, ahead of time in its read-ahead
        threads, and passes it to :meth:`update` of every model's metric as ``ref``. It must not
        touch the metric's state."""
        return None

    @abstractmethod
    def update(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor | None:
        """Accumulate a batch; return per-image values (shape ``(N,)``) or ``None``. ``ref`` is
        :meth:`reference` of ``hr`` when the caller has it, else ``None`` (then it is computed)."""

    @abstractmethod
    def compute(self) -> MetricValue:
        """The value over every batch seen so far."""

    def options(self) -> dict[str, object]:
        """Option values in force (keyword arguments of the constructor), for provenance."""
        return {}

    @classmethod
    def arrow(cls) -> str:
        return "↑" if cls.higher_is_better else "↓"


class PerImageMetric(Metric):
    """A metric defined per image; the set value is the mean of the per-image values."""

    def __init__(self, settings: MetricSettings) -> None:
        super().__init__(settings)
        self._values: list[float] = []
        self._samples: list[float] = []  # every sample of every image, once add_samples was used

    @abstractmethod
    def score(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        """Per-image values of the batch, shape ``(N,)``; ``ref`` as for :meth:`Metric.update`."""

    def update(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        check_pair(sr, hr)
        values = self.score(sr, hr, ref)
        held = values.detach().cpu().double().tolist() if is_tensor(values) else np.asarray(values).tolist()
        self._values.extend(float(v) for v in held)
        return values

    def add_samples(self, samples: list[float]) -> float:
        """Accumulate one image scored as several samples (RealSR's patches); its value, their mean.
        From then on :meth:`compute` is the mean over every sample added, not over the images."""
        if not samples:
            raise ValueError("an image scored as no samples")
        if self._values and not self._samples:
            raise ValueError(f"{self.name}: images scored whole and as samples in one set")
        self._samples.extend(float(s) for s in samples)
        value = math.fsum(samples) / len(samples)
        self._values.append(value)
        return value

    def set_values(self, values: list[float]) -> None:
        """The per-image values of the whole set (a sharded run: every rank's, gathered)."""
        if self._samples:
            raise SrbenchError(
                f"metric {self.name}: a sharded run (torchrun) cannot average over patches "
                f"(protocol average={self.settings.protocol.average}); run it in one process"
            )
        self._values = list(values)

    def compute(self) -> MetricValue:
        if not self._values:
            return MetricValue(math.nan, 0, reliable=False, note="no images")
        if self._samples:
            return MetricValue(math.fsum(self._samples) / len(self._samples), len(self._samples))
        return MetricValue(math.fsum(self._values) / len(self._values), len(self._values))


class SetMetric(Metric):
    """A metric of a whole set computed from per-image features (FID).

    ``update(sr, hr, ref) = add_features(features(sr, hr, ref))``: :meth:`features` does the heavy
    work of one batch of images without touching the metric's state, so any process can compute it
    for its own images; :meth:`add_features` accumulates the result; :meth:`compute` gives the
    statistic. Adding the same features in the same order gives the same value, wherever they were
    computed: a sharded run computes the features of each image on the rank that holds it and
    gathers them, in image order, on rank 0 (:mod:`srbench_eval.evaluation.distributed`).
    """

    per_image: ClassVar[bool] = False

    @abstractmethod
    def features(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> list[object]:
        """One entry per image of the batch: what :meth:`add_features` needs of it, as CPU tensors
        (they may travel between processes). ``ref`` as for :meth:`Metric.update`. Must not touch
        the metric's state, and an image's entry must not depend on the other images of the batch."""

    @abstractmethod
    def add_features(self, features: list[object]) -> None:
        """Accumulate the entries of :meth:`features`, in image order."""

    def update(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> None:
        check_pair(sr, hr)
        self.add_features(self.features(sr, hr, ref))
        return None


def check_pair(sr: torch.Tensor, hr: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``sr`` and ``hr`` are same-shaped ``(N, C, H, W)`` batches."""
    if sr.ndim != 4 or hr.ndim != 4:
        raise ValueError(f"metrics take (N, C, H, W) batches, got {tuple(sr.shape)} and {tuple(hr.shape)}")
    if sr.shape != hr.shape:
        raise ValueError(f"SR {tuple(sr.shape)} and HR {tuple(hr.shape)} differ in shape")
    if sr.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got {sr.shape[1]}")
