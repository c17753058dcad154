"""A training run's checkpoints: what one holds, writing it, and resuming a run from it.

A training checkpoint (:mod:`srbench_eval.models.checkpoints` lists its fields) holds the
generator, its EMA, the discriminator, both optimisers and schedules, the step and every rank's
RNG states: with the data stream a pure function of the step (:mod:`.stream`), a run resumed from
step ``t`` computes the same iterations ``t+1, t+2, ...`` as an uninterrupted one.

* :func:`existing_checkpoint`: the checkpoint a run folder already holds (only with ``--resume``);
  :func:`remove_leftovers`: the temporary files of a killed run;
* :func:`training_state` / :func:`save`: the dict of a step and its atomic write (rank 0), with
  the older periodic checkpoints pruned;
* :func:`restore`: load a checkpoint into freshly built :class:`Parts`, refusing one of other
  settings, and return where the run stands (:class:`Restored`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from srbench_eval import distributed as dist_utils
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation.provenance import environment_provenance
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.models.checkpoint_fields import check_fields, check_training_fields
from srbench_eval.models.recipes.named import Recipe
from srbench_eval.runs.results import utc_now
from srbench_eval.training.config import Plan, TrainConfig
from srbench_eval.training.state import EMA, rng_state, set_rng_state


@dataclass
class Parts:
    """What a checkpoint saves and restores: the networks, their optimisers and schedules, the EMA."""

    g: nn.Module
    opt_g: torch.optim.Optimizer
    sched_g: torch.optim.lr_scheduler.LRScheduler
    d: nn.Module | None = None
    opt_d: torch.optim.Optimizer | None = None
    sched_d: torch.optim.lr_scheduler.LRScheduler | None = None
    ema: EMA | None = None


@dataclass(frozen=True)
class Restored:
    """Where a resumed run stands: its checkpoint, step, init provenance, last validation, and
    this rank's RNG state (``None`` when the checkpoint was written by another number of ranks)."""

    path: Path
    step: int
    init: dict[str, Any] | None
    val: dict[str, float] | None
    rng: dict[str, Any] | None


def existing_checkpoint(run_dir: Path, resume: bool) -> Path | None:
    """The newest checkpoint of ``run_dir``; a run folder that holds one needs ``resume``."""
    latest = ckpts.newest_file(ckpts.checkpoint_files(run_dir))
    if latest is None:
        return None
    if not resume:
        raise SrbenchError(
            f"{run_dir} already holds a run (up to {latest.name}): pass --resume to continue it, "
            f"--seed N for another run, or --checkpoints DIR for another place"
        )
    return latest


def remove_leftovers(run_dir: Path) -> list[Path]:
    """Remove the temporary files a killed run left in ``run_dir`` (``.step_0000100.pt.<random>.tmp``
    and those of the logs: every write goes through a hidden ``.tmp`` file renamed into place);
    returns them. Only rank 0 calls it, before any write of its own."""
    if not run_dir.is_dir():
        return []
    leftovers = [p for p in run_dir.glob(".*.tmp") if p.is_file() and not p.is_symlink()]
    for p in leftovers:
        p.unlink(missing_ok=True)
    return leftovers


def comparable(recipe: dict[str, Any]) -> dict[str, Any]:
    """A recipe dict without the run length (a resumed run may be extended)."""
    d = {**recipe, "train": dict(recipe["train"])}
    d["train"].pop("iterations", None)
    d["train"].pop("notes", None)
    return d


def restore(path: Path, parts: Parts, recipe: Recipe, env: dist_utils.DistEnv) -> Restored:
    """Load the training checkpoint ``path`` into ``parts`` (built for ``recipe``). One-line errors
    naming the file for a weights-only checkpoint, other recipe settings or ``--ema``, and any
    missing, mistyped or ill-fitting field."""
    ckpt = ckpts.load_checkpoint(path, map_location=env.device)
    if ckpt.get("kind") != "training":
        raise SrbenchError(f"{path}: a weights-only checkpoint cannot be resumed (no optimiser state)")
    check_fields(ckpt, path)
    check_training_fields(ckpt, path, discriminator=parts.d is not None)
    if comparable(ckpt["recipe"]) != comparable(recipe.to_dict()):
        raise SrbenchError(
            f"{path}: was trained with other recipe settings than this command's "
            f"(--set, --preset, --batch-size, --patch); resume with the same ones"
        )
    if parts.ema is None and ckpt.get("generator_ema") is not None:
        raise SrbenchError(f"{path}: was trained with --ema; resume with the same --ema")
    if parts.ema is not None and ckpt.get("generator_ema") is None:
        raise SrbenchError(f"{path}: was trained without --ema; resume without it")
    targets: list[tuple[str, Any, Any]] = [
        ("generator", parts.g, ckpt["generator"]),
        ("optimizers.g", parts.opt_g, ckpt["optimizers"]["g"]),
        ("schedulers.g", parts.sched_g, ckpt["schedulers"]["g"]),
    ]
    if parts.d is not None:
        targets += [
            ("discriminator", parts.d, ckpt["discriminator"]),
            ("optimizers.d", parts.opt_d, ckpt["optimizers"]["d"]),
            ("schedulers.d", parts.sched_d, ckpt["schedulers"]["d"]),
        ]
    if parts.ema is not None:
        targets.append(("generator_ema", parts.ema.net, ckpt["generator_ema"]))
    for name, target, state in targets:
        try:
            target.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as e:
            lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
            detail = lines[1] if len(lines) > 1 else (lines[0] if lines else type(e).__name__)
            raise SrbenchError(f"{path}: field '{name}' does not fit this run ({detail})") from None
    states = ckpt.get("rng") or []
    rng = states[env.rank] if len(states) == env.world else None
    if rng is not None:
        _check_rng(rng, path, env.device)
    return Restored(path, ckpt["step"], ckpt.get("init"), ckpt.get("val"), rng)


def _check_rng(state: dict[str, Any], path: Path, device: torch.device) -> None:
    """Try a checkpoint's RNG state (and put the current one back): a damaged one fails here, before
    any work, as a one-line error naming the file."""
    current = rng_state(device)
    try:
        set_rng_state(state, device)
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as e:
        raise SrbenchError(f"{path}: field 'rng' is not a saved random-generator state ({e})") from None
    finally:
        set_rng_state(current, device)


def training_state(
    parts: Parts,
    *,
    recipe: Recipe,
    config: TrainConfig,
    plan: Plan,
    env: dist_utils.DistEnv,
    step: int,
    finished: bool,
    data: dict[str, Any],
    init: dict[str, Any] | None,
    val: dict[str, float] | None,
) -> dict[str, Any]:
    """The checkpoint of step ``step`` (every rank takes part: the RNG states are gathered)."""
    rngs = dist_utils.gather_objects(env, rng_state(env.device))
    arch = recipe.to_dict()["arch"]
    name = arch.pop("name")
    return {
        "format": ckpts.FORMAT,
        "kind": "training",
        "recipe": recipe.to_dict(),
        "label": recipe.label,
        "preset": config.preset,
        "scale": plan.scale,
        "arch": {"name": name, "params": arch},
        "step": step,
        "iterations": plan.iterations,
        "finished": finished,
        "generator": parts.g.state_dict(),
        "generator_ema": None if parts.ema is None else parts.ema.net.state_dict(),
        "discriminator": None if parts.d is None else parts.d.state_dict(),
        "optimizers": {"g": parts.opt_g.state_dict(), "d": parts.opt_d and parts.opt_d.state_dict()},
        "schedulers": {"g": parts.sched_g.state_dict(), "d": parts.sched_d and parts.sched_d.state_dict()},
        "rng": rngs,
        "config": config.to_json(),
        "world_size": env.world,
        "data": data,
        "init": init,
        "val": val,
        "created": utc_now(),
        # plain JSON types only: the file must load with torch.load(weights_only=True)
        "environment": json.loads(json.dumps(environment_provenance(str(env.device)), default=str)),
    }


def save(
    state: dict[str, Any],
    run_dir: Path,
    env: dist_utils.DistEnv,
    *,
    last_good: Path | None,
    iterations: int,
    keep: int,
) -> Path:
    """Write ``state`` as ``run_dir/step_<step>.pt`` (rank 0) and prune the older periodic ones. A
    failed write (a full disk) stops every rank with one line; the previous checkpoints stay."""
    path = run_dir / ckpts.step_file(state["step"])
    error: SrbenchError | None = None
    if env.is_main:
        try:
            ckpts.save_checkpoint(state, path)
        except SrbenchError as e:
            kept = f"{last_good} is intact" if last_good else "none was written before"
            error = SrbenchError(
                f"{e}; stopped at step {state['step']}, the last good checkpoint {kept}: "
                f"resume with --resume once it can be written"
            )
        else:
            prune(run_dir, path, iterations, keep)
    if dist_utils.any_over_ranks(env, error is not None):  # also the barrier after the save
        raise error or SrbenchError(f"rank 0 could not write {path} (see its message)")
    return path


def prune(run_dir: Path, newest: Path, iterations: int, keep: int) -> None:
    """Keep the newest ``keep`` periodic checkpoints (and the final one of the schedule, step
    ``iterations``)."""
    files = sorted((p for p in ckpts.checkpoint_files(run_dir) if p.parent == run_dir), key=ckpts.step_of)
    periodic = [p for p in files if ckpts.step_of(p) != iterations and p != newest]
    for p in periodic[: max(0, len(periodic) - (keep - 1))]:
        p.unlink(missing_ok=True)
