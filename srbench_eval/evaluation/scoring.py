"""Scoring one model's SR image of one test image (:class:`ScoreTask`), in a thread of its own
(:class:`Scorer`) while the main thread makes the next SR image.

Every metric gets the form of the images it asks for from their :class:`~srbench_eval.metrics.sample.Sample`
(the shared Y plane, the CPU path's array or a tensor) and its HR-only work done ahead
(:meth:`~srbench_eval.metrics.base.Metric.reference`, in ``Pair.extra`` under the metric's name).
A per-image metric adds one row ``(model, dataset, scale, image, metric, value)`` (under RealSR's
patch averaging, PSNR and SSIM score each patch: :func:`~srbench_eval.metrics.patch_average.score_patches`,
the row the mean of the image's patches); a set-level
metric (:class:`~srbench_eval.metrics.base.SetMetric`) adds the image's features, or hands them back
(``ship``) for a sharded run to add in image order on rank 0.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from srbench_eval.data.pairs import Pair
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import Metric, PerImageMetric, SetMetric
from srbench_eval.metrics.patch_average import patch_averaged, score_patches
from srbench_eval.metrics.sample import Sample
from srbench_eval.runs.results import ImageValue

SAMPLE = "sample"
"""``Pair.extra`` key of the HR image's :class:`~srbench_eval.metrics.sample.Sample` (no metric is
named so)."""

Shipped = tuple[int, str, str, list[object]]
"""A set-level metric's features of one image: (image index, model, metric, features)."""


@dataclass
class ScoreTask:
    """The metrics of one model's SR image of one test image."""

    dataset: str
    scale: int
    image: str
    index: int
    model: str
    sr: Sample
    pair: Pair

    def run(
        self, metrics: list[Metric], ship: bool = False
    ) -> tuple[list[tuple[int, ImageValue]], list[Shipped]]:
        """Update ``metrics`` (this model's, in the run's metric order) with the image; its rows and,
        with ``ship``, the set-level metrics' features instead of adding them (a sharded run)."""
        hr = self.pair.extra[SAMPLE]
        assert isinstance(hr, Sample)
        rows: list[tuple[int, ImageValue]] = []
        shipped: list[Shipped] = []
        for metric in metrics:
            ref = self.pair.extra.get(metric.name)
            sr_in, hr_in = self.sr.for_metric(metric), hr.for_metric(metric)
            try:
                if isinstance(metric, SetMetric):
                    features = metric.features(sr_in, hr_in, ref)
                    if ship:
                        shipped.append((self.index, self.model, metric.name, features))
                    else:
                        metric.add_features(features)
                    continue
                if patch_averaged(metric):  # RealSR's patches (protocol average=realsr-patches)
                    assert isinstance(metric, PerImageMetric)
                    values = score_patches(metric, sr_in, hr_in, tuple(self.pair.lr.shape[-2:]))
                else:
                    values = metric.update(sr_in, hr_in, ref)
            except (SrbenchError, ValueError) as err:  # e.g. an image too small for it
                raise SrbenchError(f"{self.dataset}/{self.image}, model '{self.model}': {err}") from None
            if values is not None:
                value = float(values.reshape(-1)[0])
                row = ImageValue(self.model, self.dataset, self.scale, self.image, metric.name, value)
                rows.append((self.index, row))
        return rows, shipped


class Scorer:
    """One thread that runs :class:`ScoreTask` s in the order they come, while the evaluation's
    main thread makes the next SR images; their rows go to ``rows`` in that order, and an error is
    raised in the main thread at its next :meth:`submit` or when the block ends. At most ``pending``
    tasks wait (their SR images in memory)."""

    def __init__(self, rows: list[tuple[int, ImageValue]], pending: int = 2) -> None:
        self.rows = rows
        self.pending = pending
        self._futures: deque[Future] = deque()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="srbench-score")

    def submit(self, task: ScoreTask, metrics: list[Metric]) -> None:
        while len(self._futures) >= self.pending:
            self._collect()
        self._futures.append(self._pool.submit(task.run, metrics))

    def _collect(self) -> None:
        rows, _ = self._futures.popleft().result()
        self.rows.extend(rows)

    def __enter__(self) -> Scorer:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            while self._futures and kind is None:
                self._collect()
        finally:
            for future in self._futures:
                future.cancel()
            self._pool.shutdown(wait=True)
