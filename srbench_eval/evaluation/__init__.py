"""The evaluation behind ``srbench-eval run``: a :class:`RunConfig` (the user's strings, the run's
record) becomes a :class:`RunPlan` once (:func:`build_plan`, :mod:`.plan`), which :func:`run_plan`
evaluates (:mod:`.loop`: the dataset and image loop; :mod:`.scoring`: the scoring thread;
:mod:`.distributed`: a sharded torchrun run; :mod:`.provenance` and :mod:`.writing`: the run's
files). :func:`run_evaluation` is both steps."""

from srbench_eval.evaluation.device import resolve_device
from srbench_eval.evaluation.loop import run_evaluation, run_plan
from srbench_eval.evaluation.plan import (
    MetricPlan,
    ModelPlan,
    RunConfig,
    RunPlan,
    build_plan,
    parse_metric_options,
)
from srbench_eval.evaluation.writing import default_out_dir, write_run_files

__all__ = [
    "MetricPlan",
    "ModelPlan",
    "RunConfig",
    "RunPlan",
    "build_plan",
    "default_out_dir",
    "parse_metric_options",
    "resolve_device",
    "run_evaluation",
    "run_plan",
    "write_run_files",
]
