"""Metric registry: name -> metric class. Adding a metric means adding one entry here."""

from __future__ import annotations

from srbench_eval.errors import unknown_name
from srbench_eval.metrics.base import Metric, MetricSettings, MetricValue, PerImageMetric

METRICS: dict[str, type[Metric]] = {}


def register(cls: type[Metric]) -> type[Metric]:
    """Class decorator adding a metric to :data:`METRICS` under ``cls.name``."""
    METRICS[cls.name] = cls
    return cls


def get_metric(name: str) -> type[Metric]:
    """The metric class registered as ``name``, case-insensitively (``MS-SSIM`` is ``ms-ssim``)."""
    _load_builtin()
    try:
        return METRICS[name.lower()]
    except KeyError:
        raise unknown_name("metric", name, METRICS) from None


def metric_names() -> list[str]:
    _load_builtin()
    return list(METRICS)


def _load_builtin() -> None:
    # The modules that define the built-in metrics, listed once (no folder scanning).
    from srbench_eval.metrics import dists, fid, fidelity, information, lpips_metric, ms_ssim, niqe  # noqa: F401


__all__ = [
    "METRICS",
    "Metric",
    "MetricSettings",
    "MetricValue",
    "PerImageMetric",
    "get_metric",
    "metric_names",
    "register",
]
