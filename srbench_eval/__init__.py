"""srbench-eval: one exact protocol for evaluating single-image super-resolution.

``srbench_eval.evaluate(model, scale=..., datasets=..., protocol=..., metrics=...)`` is the Python API
(:func:`srbench_eval.api.evaluate`); the evaluation loop itself is :mod:`srbench_eval.evaluation`.
Nothing heavy is imported here, so the command line starts without torch.
"""

from __future__ import annotations

import os
from typing import Any

# torch's idle OpenMP threads spin by default; on cores shared with other processes that makes the
# numerics crawl (BSD100 x4: 1.3 s -> 124 s measured). Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from srbench_eval.version import __version__ as __version__  # noqa: E402 - after the environment


def evaluate(model: Any, **options: Any) -> Any:
    """Evaluate any network (``nn.Module`` or callable) under the protocol of ``srbench-eval run``;
    returns the :class:`~srbench_eval.runs.results.Summary` it writes (:func:`srbench_eval.api.evaluate`)."""
    from srbench_eval.api import evaluate as _evaluate

    return _evaluate(model, **options)
