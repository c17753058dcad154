"""A sharded evaluation (``torchrun --nproc_per_node N srbench-eval run ...``): which images each rank
computes, and what the ranks exchange (:mod:`srbench_eval.distributed`'s collectives, imported only
by a torchrun run: torch loads with them).

Rank ``r`` of ``world`` reads and computes images ``r, r + world, ...`` (:func:`shard`); after every
step the ranks exchange their errors and the set-level metrics' features, which rank 0 adds in
image order (:func:`exchange`); at the end rank 0 gathers every rank's per-image values
(:func:`merge`). No image travels between ranks, and the result is that of one process.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from srbench_eval.data.datasets.registry import Dataset
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation.scoring import Shipped
from srbench_eval.metrics import Metric, SetMetric
from srbench_eval.ranks import DistEnv
from srbench_eval.runs.results import RESERVATION, ImageValue


def collectives() -> ModuleType:
    """:mod:`srbench_eval.distributed` (torch loads with it, so only a torchrun run imports it)."""
    from srbench_eval import distributed

    return distributed


def shard(n: int, env: DistEnv) -> list[int]:
    """The image indices rank ``env.rank`` of ``env.world`` computes: ``rank, rank + world, ...``."""
    return list(range(env.rank, n, env.world))


def exchange(
    shipped: list[Shipped], error: str, metrics: Mapping[tuple[str, str], Metric], env: DistEnv
) -> None:
    """One lockstep of a sharded run: every rank's error (raised on all ranks, so none waits
    forever) and the set-level metrics' features of its image, which rank 0 adds in image order."""
    gathered = collectives().gather_objects(env, (error, shipped))
    errors = [e for e, _ in gathered if e]
    if errors:
        raise SrbenchError(errors[0])
    if not env.is_main:
        return
    items = sorted((item for _, part in gathered for item in part), key=lambda t: t[0])  # stable
    for _, model, name, features in items:
        metric = metrics[(model, name)]
        assert isinstance(metric, SetMetric)
        metric.add_features(features)


def agree(env: DistEnv, datasets: list[Dataset], staging: Path | None, save_sr: bool) -> Path | None:
    """Rank 0's staging folder on every rank, once every rank has found the same image names in
    each dataset as rank 0 (the shards are positions in that list) and, with ``--save-sr``, sees
    rank 0's staging folder (each rank writes its own SR images there: a shared filesystem)."""
    dist = collectives()
    staging = dist.broadcast_object(env, staging)
    names = [(ds.name, ds.names()) for ds in datasets]
    problem = ""
    if names != dist.broadcast_object(env, names):
        problem = (
            f"rank {env.rank} finds other images in --datasets than rank 0: every rank must read the "
            f"same files"
        )
    elif save_sr and staging is not None and not (staging / RESERVATION).is_file():
        problem = (
            f"--save-sr: rank {env.rank} cannot see the run folder {staging} of rank 0; each rank writes "
            f"its own SR images there: give --out on a filesystem that every rank shares"
        )
    problems = [p for p in dist.gather_objects(env, problem) if p]
    if problems:
        raise SrbenchError(problems[0])
    return staging


def merge(rows: list[tuple[int, ImageValue]], env: DistEnv) -> list[ImageValue]:
    """Every rank's per-image values in the order of one process (image, then model and metric as
    computed); on rank 0 only (the other ranks return theirs)."""
    if not env.distributed:
        return [row for _, row in rows]
    everything = [item for part in collectives().gather_objects(env, rows) for item in part]
    return [row for _, row in sorted(everything, key=lambda t: t[0])]  # stable: model/metric order kept
