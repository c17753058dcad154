"""Python API: evaluate any network (an ``nn.Module`` or a plain callable) under the protocol of
``srbench-eval run``.

    >>> import srbench_eval
    >>> summary = srbench_eval.evaluate(my_net, scale=4, datasets=["set5"])   # doctest: +SKIP

The network maps an RGB LR batch ``(N, 3, h, w)`` in [0, 1] to ``(N, 3, s*h, s*w)`` (the zoo's
contract, :mod:`srbench_eval.models.base`); the evaluation loop rounds and scores it exactly as for
every other model. :func:`evaluate` puts the network in the run's plan as a model column
(:class:`~srbench_eval.models.network.CallableModel`, built on the run's device) and runs it
(:func:`srbench_eval.evaluation.run_plan`), so it writes the same run folder (``results.csv``,
``summary.json``, tables) and returns the same :class:`~srbench_eval.runs.results.Summary`.
Networks in the user's code are also reachable from the command line as
``--models LABEL=package.module:factory`` (:func:`srbench_eval.models.network.from_factory`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from srbench_eval.defaults import DEFAULT_METRICS
from srbench_eval.models.network import CallableModel, from_factory, state_sha256, wrap
from srbench_eval.names import FACTORY as FACTORY  # re-exported
from srbench_eval.names import safe_name

if TYPE_CHECKING:
    import torch

    from srbench_eval.runs.results import Summary


def evaluate(
    model: torch.nn.Module | Callable[[torch.Tensor], torch.Tensor],
    *,
    scale: int = 4,
    datasets: Sequence[str] = ("set5",),
    protocol: str = "matlab",
    metrics: Iterable[str] = DEFAULT_METRICS,
    name: str = "model",
    out: str | Path | None = None,
    device: str = "auto",
    mirror: str | None = None,
    progress: bool = False,
) -> Summary:
    """Score ``model`` on ``datasets`` at ``scale`` under ``protocol`` (a profile of
    :data:`srbench_eval.protocol.PROFILES`); returns the run's Summary (see the module docstring).

    ``name``: the model's column; ``out``: the run folder (default ``results/runs/<timestamp>``).
    summary.json records the model as ``NAME=python:CLASS`` (the provenance has its parameters' SHA-256).
    """
    from srbench_eval.evaluation import ModelPlan, RunConfig, build_plan, default_out_dir, run_plan

    safe_name("model label", name, "the name= of srbench_eval.evaluate")
    source = f"python:{type(model).__module__}.{type(model).__qualname__}"
    config = RunConfig(
        models=(f"{name}={source}",),
        scale=scale,
        datasets=tuple(datasets),
        metrics=tuple(metrics),
        device=device,
        mirror=mirror,
        protocol=protocol,
    )
    column = ModelPlan(config.models[0], partial(wrap, name, model, scale, source="srbench_eval.evaluate"))
    plan = build_plan(config, models=[column])
    return run_plan(plan, Path(out) if out is not None else default_out_dir(), progress=progress)


__all__ = ["CallableModel", "evaluate", "from_factory", "state_sha256", "wrap"]
