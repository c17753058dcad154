"""srbench-eval: one exact protocol for evaluating single-image super-resolution."""

import os

# torch's idle OpenMP threads spin by default; on cores shared with other processes that makes the
# numerics crawl (BSD100 x4: 1.3 s -> 124 s measured). Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

import types  # noqa: E402

import srbench_eval.evaluate as _evaluate_module  # noqa: E402


class _CallableModule(types.ModuleType):
    """``srbench_eval.evaluate(model, ...)`` is the Python API (:func:`srbench_eval.api.evaluate`),
    while ``srbench_eval.evaluate`` stays the module of the evaluation loop for imports."""

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from srbench_eval.api import evaluate

        return evaluate(*args, **kwargs)


_evaluate_module.__class__ = _CallableModule
