"""One image as every metric and model of a run asks for it: :class:`Sample`.

The evaluation loop holds an image as a ``(1, C, H, W)`` float batch of 8-bit values: a NumPy array
on the CPU path, a tensor on a GPU. Each reader asks for its own form, made on the first request and
kept for the next ones:

* :meth:`Sample.array`: the batch as the loop holds it, for the metrics and models that take the CPU
  path's arrays (:attr:`~srbench_eval.metrics.base.Metric.takes_arrays`); on a GPU, the tensor;
* :meth:`Sample.tensor`: a tensor of it (:func:`srbench_eval.compiled.as_tensor`; the HR image in
  channels-last memory order, the layout networks and learned metrics have always been handed);
* :meth:`Sample.luma`: its Y plane under the protocol's rule, ``luma(image, rule)``
  (:func:`srbench_eval.metrics.fidelity.luma`): made once per image for every metric that reads it
  (:attr:`~srbench_eval.metrics.base.Metric.reads_luma`, PSNR and SSIM) where the rule is not the
  plain float one.

:meth:`Sample.for_metric` and :meth:`Sample.for_model` make the choice, so the loop has none.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from srbench_eval.compiled import as_tensor
from srbench_eval.metrics.fidelity import luma

if TYPE_CHECKING:
    import torch

    from srbench_eval.data.degrade.bicubic import Image
    from srbench_eval.metrics.base import Metric
    from srbench_eval.models.base import SRModel


class Sample:
    """One image batch and the forms made of it (see the module docstring). ``rule``: the protocol's Y
    rule where metrics share the Y plane (``None`` under the plain float Y: each computes its own);
    ``channels_last``: the memory order of :meth:`tensor` (the HR image's)."""

    __slots__ = ("_image", "_lumas", "_tensor", "channels_last", "rule")

    def __init__(self, image: Image, rule: str | None = None, *, channels_last: bool = False) -> None:
        self._image = image
        self.rule = rule
        self.channels_last = channels_last
        self._tensor: torch.Tensor | None = None
        self._lumas: dict[str, Image] = {}

    def array(self) -> Image:
        """The batch as the loop holds it (a NumPy array on the CPU path, else a tensor)."""
        return self._image

    def tensor(self) -> torch.Tensor:
        """The batch as a tensor on the image's device (shares a NumPy array's memory)."""
        if self._tensor is None:
            self._tensor = as_tensor(self._image, channels_last=self.channels_last)
        return self._tensor

    def luma(self, rule: str) -> Image:
        """``luma(image, rule)``: the Y plane under ``rule``, made once."""
        if rule not in self._lumas:
            self._lumas[rule] = luma(self._image, rule)
        return self._lumas[rule]

    def shares_luma(self, metric: Metric) -> bool:
        """Whether ``metric`` is handed this sample's Y plane: a rule is shared and the metric reads the
        protocol's Y and takes arrays and tensors alike."""
        return self.rule is not None and metric.reads_luma and metric.takes_arrays

    def for_metric(self, metric: Metric) -> Image:
        """What ``metric`` takes of the image: the shared Y plane, the array or the tensor."""
        if self.shares_luma(metric):
            assert self.rule is not None
            return self.luma(self.rule)
        return self.array() if metric.takes_arrays else self.tensor()

    def for_model(self, model: SRModel) -> Image:
        """What ``model`` takes of the image: the array where it takes the CPU path's arrays, else the
        tensor (:attr:`~srbench_eval.models.base.SRModel.takes_arrays`)."""
        return self.array() if model.takes_arrays else self.tensor()


class LastSample:
    """The HR :class:`Sample` of the image a read-ahead thread is preparing: its metrics' HR-only
    work (:meth:`~srbench_eval.metrics.base.Metric.reference`) runs one after the other on one thread,
    and the first to ask makes the sample for the rest (one per thread, by identity of the image)."""

    def __init__(self, rule: str | None) -> None:
        self.rule = rule
        self._last = threading.local()

    def __call__(self, hr: Image) -> Sample:
        last = self._last
        if getattr(last, "hr", None) is not hr:
            last.hr, last.sample = hr, Sample(hr, self.rule, channels_last=True)
        return last.sample


__all__ = ["LastSample", "Sample"]
