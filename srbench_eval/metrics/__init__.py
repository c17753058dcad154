"""Metric registry: name -> metric class. A metric is one entry of
:data:`srbench_eval.metrics.facts.METRIC_FACTS` (its facts and the class that computes it) and that
class, decorated with :func:`register`.

Importing this package imports no torch: the facts are data, and a metric's module (with torch,
SciPy or a network) is imported when the metric is first asked for (:func:`get_metric`). The base
classes (``Metric``, ``MetricSettings``, ...) are importable from here as before; they load
:mod:`srbench_eval.metrics.base` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.metrics.facts import METRIC_FACTS, MetricFacts
from srbench_eval.registry import Registry

if TYPE_CHECKING:
    from srbench_eval.metrics.base import Metric, MetricSettings, MetricValue, PerImageMetric, SetMetric

METRICS: Registry[type[Metric]] = Registry("metric", base="srbench_eval.metrics.base:Metric", key=str.lower)
"""The metric classes by name: each entry of METRIC_FACTS, its module imported on first :func:`get_metric`."""
for _facts in METRIC_FACTS.values():
    METRICS.add_lazy(_facts.name, f"{__name__}.{_facts.implementation}")


def register(cls: type[Metric]) -> type[Metric]:
    """Class decorator adding a metric to :data:`METRICS` under ``cls.name`` (a name of
    :data:`~srbench_eval.metrics.facts.METRIC_FACTS`)."""
    if getattr(cls, "name", None) not in METRIC_FACTS:
        raise ValueError(f"{cls.__qualname__}: a metric takes its facts from METRIC_FACTS (facts=NAME)")
    return METRICS.add(cls.name, cls)


NOT_PROVIDED: dict[str, str] = {
    "pi": "the Perceptual Index (10 - Ma + NIQE) / 2 needs Ma et al.'s NRQM: its three regRF forests "
    "(model.mat of chaoma99/sr-metric, MATLAB) and feature_all.m have not been ported; "
    "no lookalike is shipped",
    "nrqm": "Ma et al.'s NRQM (MATLAB regRF forests in chaoma99/sr-metric's model.mat) has not been ported",
}
"""Metrics that SR papers report but this harness does not compute, with the reason (``metrics``
prints them; asking for one gives the reason instead of an unknown-name error)."""


def metric_facts(name: str) -> MetricFacts:
    """The facts of metric ``name``, case-insensitively (``MS-SSIM`` is ``ms-ssim``), without
    importing it; a metric of :data:`NOT_PROVIDED` or an unknown name is a one-line user error."""
    key = name.lower()
    if key in NOT_PROVIDED:
        raise SrbenchError(f"metric '{name}' is not provided: {NOT_PROVIDED[key]}")
    try:
        return METRIC_FACTS[key]
    except KeyError:
        raise unknown_name("metric", name, METRIC_FACTS) from None


def get_metric(name: str) -> type[Metric]:
    """The metric class registered as ``name``, case-insensitively; imports its module."""
    return METRICS.get(metric_facts(name).name)


def metric_names() -> list[str]:
    """Every metric's name, in the order of :data:`~srbench_eval.metrics.facts.METRIC_FACTS`."""
    return METRICS.names()


_BASE = ("Metric", "MetricSettings", "MetricValue", "PerImageMetric", "SetMetric")


def __getattr__(name: str) -> object:
    if name in _BASE:  # the base classes import torch: loaded when first used
        from srbench_eval.metrics import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "METRICS",
    "NOT_PROVIDED",
    "Metric",
    "MetricFacts",
    "MetricSettings",
    "MetricValue",
    "PerImageMetric",
    "SetMetric",
    "get_metric",
    "metric_facts",
    "metric_names",
    "register",
]
