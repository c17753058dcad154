"""Metric registry: name -> metric class. Adding a metric means adding one entry here."""

from __future__ import annotations

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.metrics.base import Metric, MetricSettings, MetricValue, PerImageMetric, SetMetric

METRICS: dict[str, type[Metric]] = {}


def register(cls: type[Metric]) -> type[Metric]:
    """Class decorator adding a metric to :data:`METRICS` under ``cls.name``."""
    METRICS[cls.name] = cls
    return cls


NOT_PROVIDED: dict[str, str] = {
    "pi": "the Perceptual Index (10 - Ma + NIQE) / 2 needs Ma et al.'s NRQM: its three regRF forests "
    "(model.mat of chaoma99/sr-metric, MATLAB) and feature_all.m have not been ported; "
    "no lookalike is shipped",
    "nrqm": "Ma et al.'s NRQM (MATLAB regRF forests in chaoma99/sr-metric's model.mat) has not been ported",
}
"""Metrics that SR papers report but this harness does not compute, with the reason (``metrics``
prints them; asking for one gives the reason instead of an unknown-name error)."""


def get_metric(name: str) -> type[Metric]:
    """The metric class registered as ``name``, case-insensitively (``MS-SSIM`` is ``ms-ssim``)."""
    _load_builtin()
    key = name.lower()
    if key in NOT_PROVIDED:
        raise SrbenchError(f"metric '{name}' is not provided: {NOT_PROVIDED[key]}")
    try:
        return METRICS[key]
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
    "NOT_PROVIDED",
    "Metric",
    "MetricSettings",
    "MetricValue",
    "PerImageMetric",
    "SetMetric",
    "get_metric",
    "metric_names",
    "register",
]
