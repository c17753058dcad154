"""One member of a study: its first stage, its training and evaluation settings, and running it
(in this process or in a worker)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from srbench_eval.errors import SrbenchError
from srbench_eval.studies.spec import Member, Study


def init_recipe(study: Study, recipe: str) -> str | None:
    """The first stage ``recipe`` starts from, when the study trains it (``init: stage``)."""
    from srbench_eval.models.recipes.named import get_recipe

    return get_recipe(recipe).init if study.init == "stage" else None


def stages(study: Study) -> list[Member]:
    """The first stages to train: one per (init recipe, seed) of the study's two-stage recipes."""
    names = dict.fromkeys(r for r in (init_recipe(study, name) for name in study.recipes) if r)
    return [Member(name, stage_overrides(study), seed, name) for name in names for seed in study.seeds]


def stage_overrides(study: Study) -> tuple[str, ...]:
    """The study's ``arch.*`` settings that are not swept: the first stage must match the members'
    network (the other settings, and sweeps, belong to the second stage)."""
    return tuple(o for o in study.overrides if o.startswith("arch.") and "," not in o)


def stage_folder(root: Path, stage: Member) -> Path:
    return root / "init" / stage.recipe / f"seed{stage.seed}"


def final_checkpoint(study: Study, member: Member, checkpoints: Path) -> Path:
    """Where the member's (or stage's) final checkpoint is written."""
    from srbench_eval.models import checkpoints as ckpts
    from srbench_eval.training.config import resolve
    from srbench_eval.training.loop import run_dir_of

    config = train_config(study, member, checkpoints, init="none")
    plan = resolve(config)
    return run_dir_of(config, plan) / ckpts.step_file(plan.iterations)


def member_init(study: Study, member: Member, root: Path) -> str:
    first = init_recipe(study, member.recipe)
    if first is None:
        return "none"
    stage = Member(first, stage_overrides(study), member.seed, first)
    return str(final_checkpoint(study, stage, stage_folder(root, stage) / "checkpoints"))


def train_config(
    study: Study, member: Member, checkpoints: Path, progress: bool = False, init: str = "none"
) -> Any:
    from srbench_eval.training import TrainConfig

    return TrainConfig(
        model=member.recipe,
        preset=study.preset,
        scale=study.scale,
        data=study.data,
        mirror=study.mirror,
        overrides=member.overrides,
        iterations=study.iterations,
        batch_size=study.batch_size,
        hr_patch=study.hr_patch,
        checkpoints=str(checkpoints),
        resume=True,
        init=init,
        seed=member.seed,
        device=study.device,
        val=study.val,
        save_every=study.save_every,
        workers=study.workers,
        protocol=study.protocol,
        protocol_set=study.protocol_set,
        progress=progress,
    )


def run_config(study: Study, models: tuple[str, ...], scale: int) -> Any:
    from srbench_eval.evaluation import RunConfig

    return RunConfig(
        models=models,
        scale=scale,
        datasets=study.datasets,
        metrics=study.metrics,
        device=study.device,
        mirror=study.mirror,
        protocol=study.protocol,
        protocol_set=study.protocol_set,
    )


def is_finished(study: Study, member: Member, root: Path) -> bool:
    return (member.folder(root) / "run" / "summary.json").is_file()


def run_member(study: Study, member: Member, root: Path, progress: bool = False) -> str:
    """Train (resuming) and evaluate one member; returns a one-line account."""
    from srbench_eval.evaluation import run_evaluation
    from srbench_eval.training import train

    if is_finished(study, member, root):
        return f"{member.variant} seed {member.seed}: finished before, skipped"
    checkpoints = member.folder(root) / "checkpoints"
    final = final_checkpoint(study, member, checkpoints)
    if final.is_file():  # trained before (e.g. by a --plan line), not evaluated yet
        checkpoint, scale, done = final, study.scale or 4, "trained before"
    else:
        config = train_config(study, member, checkpoints, progress, member_init(study, member, root))
        result = train(config)
        if not result.finished or result.checkpoint is None:
            raise SrbenchError(f"{member.variant} seed {member.seed}: training stopped at step {result.step}")
        checkpoint, scale, done = result.checkpoint, result.scale, f"trained {result.step} iterations"
    # By --weights (a variant's label may hold '='); the table relabels the column (collect).
    config = replace(run_config(study, (member.recipe,), scale), weights=(f"{member.recipe}={checkpoint}",))
    run_evaluation(config, member.folder(root) / "run", progress=False)
    return f"{member.variant} seed {member.seed}: {done} and evaluated"


def run_stage(study: Study, stage: Member, root: Path, progress: bool = False) -> str:
    """Train (resuming) the first stage of a two-stage recipe for one seed."""
    from srbench_eval.training import train

    final = final_checkpoint(study, stage, stage_folder(root, stage) / "checkpoints")
    if final.is_file():
        return f"first stage {stage.recipe} seed {stage.seed}: finished before, skipped"
    result = train(train_config(study, stage, stage_folder(root, stage) / "checkpoints", progress))
    if not result.finished:
        raise SrbenchError(f"first stage {stage.recipe} seed {stage.seed}: stopped at step {result.step}")
    return f"first stage {stage.recipe} seed {stage.seed}: trained {result.step} iterations"


def run_in_worker(args: tuple[Callable[..., str], Study, Member, Path]) -> str:
    import torch

    torch.set_num_threads(1)  # N jobs on N cores: one thread each
    fn, *rest = args
    return fn(*rest)
