"""One member of a study: its first stage, its training and evaluation settings, and running it
(in this process or in a worker)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import get_metric
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.models.recipes.named import get_recipe
from srbench_eval.protocol import resolve as resolve_protocol
from srbench_eval.runs.results import load_summary
from srbench_eval.studies.spec import Member, Study, members


def init_recipe(study: Study, recipe: str) -> str | None:
    """The first stage ``recipe`` starts from, when the study trains it (``init: stage``)."""

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


def check_settings(study: Study) -> None:
    """Everything the command line would refuse before training: each variant's training settings
    resolved (preset, scale, sizes, ``--set``), the protocol and the metrics."""
    from srbench_eval.training.config import resolve

    study.check()
    for m in members(study):
        if m.seed == study.seeds[0]:
            resolve(train_config(study, m, Path("checkpoints")))
    resolve_protocol(study.protocol, study.protocol_set)
    for name in study.metrics:
        get_metric(name)


def loss_users(study: Study, member: Member) -> set[str]:
    """``loss NAME`` / ``loss KIND`` of every weighted loss term of the member's recipe (the names the
    weights registry's ``used_by`` lists: ``loss dp`` needs VGG19 and ResNet-50)."""
    from srbench_eval.training.config import resolve

    recipe = resolve(train_config(study, member, Path("checkpoints"))).recipe
    return {f"loss {n}" for spec in recipe.losses if spec.weight for n in (spec.name, spec.kind)}


def weights_needed(study: Study, todo: Iterable[Member]) -> dict[str, list[str]]:
    """The weights keys the losses of the members ``todo`` (one seed of each variant) and the study's
    metrics load, each with its users (``loss dp``, ``metric lpips``), in the registry's order."""
    from srbench_eval.weights import hub

    users = {f"metric {m}" for m in study.metrics}
    for m in {m.variant: m for m in todo}.values():
        users |= loss_users(study, m)
    needed = {key: sorted(u for u in w.used_by if u in users) for key, w in hub.WEIGHTS.items()}
    return {key: found for key, found in needed.items() if found}


def check_weights(study: Study, todo: Iterable[Member]) -> None:
    """The weights of every loss network of the members ``todo`` and of every metric, in the cache or
    copied from the study's mirror, before the first iteration: a study never trains its first members
    for hours and then stops at a missing VGG19 (one line naming the file and where to put it)."""
    from srbench_eval.weights import hub

    missing: dict[str, tuple[str, SrbenchError]] = {}  # key: (file (users), its error)
    for key, found in weights_needed(study, todo).items():
        try:
            hub.require(key, ", ".join(found), mirror=study.mirror)
        except SrbenchError as e:
            if hub.path_of(key).is_file():  # there, but not the published file: its own line
                raise
            missing[key] = (f"{hub.WEIGHTS[key].filename} ({', '.join(found)})", e)
    if len(missing) == 1:
        raise next(iter(missing.values()))[1]
    if missing:
        files = ", ".join(what for what, _ in missing.values())
        raise SrbenchError(
            f"the study needs weights files that are neither cached nor in a mirror: {files}; run "
            f"'srbench-eval weights fetch {' '.join(missing)}' on a connected machine (or with --mirror DIR)"
        )


def is_finished(study: Study, member: Member, root: Path) -> bool:
    """Whether the member's ``run/`` holds a finished evaluation, verified against the study: its run
    (scale, datasets, metrics, protocol) and the checkpoint it evaluated (recipe, ``--set``, preset,
    scale, sizes, data, seed, first stage) must be the study's, else a one-line error names the field
    (a hand-edited ``study.json`` never relabels results measured under other settings)."""
    run = member.folder(root) / "run"
    if not (run / "summary.json").is_file():
        return False

    summary = load_summary(run)
    where = f"{member.variant} seed {member.seed}"
    scale = _check_run(study, summary.config, run / "summary.json", where)
    models = [v for v in summary.provenance.get("models", {}).values() if v.get("kind") == "checkpoint"]
    if len(models) != 1 or not isinstance(models[0].get("path"), str):
        raise SrbenchError(f"{run / 'summary.json'}: not the evaluation of one checkpoint ({where}); refused")
    # The run records the absolute path; the study folder may have moved since: the last three parts
    # (<recipe>/<run>/step_N.pt) inside this member's checkpoints.
    checkpoint = member.folder(root).joinpath("checkpoints", *Path(models[0]["path"]).parts[-3:])
    if checkpoint.is_file():
        check_checkpoint(study, member, root, checkpoint)
    else:  # checkpoints pruned after the evaluation: what the run recorded of the one it evaluated
        done = models[0].get("step") == models[0].get("iterations")
        _check_recorded(study, member, models[0], run / "summary.json", {}, done)
    if scale != resolved_scale(study, member):
        _differs(study, "scale", resolved_scale(study, member), scale, run / "summary.json", where)
    return True


def resolved_scale(study: Study, member: Member) -> int:
    from srbench_eval.training.config import resolve

    return resolve(train_config(study, member, Path("checkpoints"))).scale


def _check_run(study: Study, config: dict[str, Any], path: Path, where: str) -> int:
    """The run's recorded settings against the study's; returns the run's scale."""
    wants = {
        "datasets": list(study.datasets),
        "metrics": [m.lower() for m in study.metrics],
        "protocol": study.protocol,
        "protocol_set": list(study.protocol_set),
    }
    for name, want in wants.items():
        got = config.get(name)
        got = [str(x).lower() for x in got] if name == "metrics" and isinstance(got, list) else got
        if got != want:
            _differs(study, name, want, got, path, where)
    return config.get("scale")  # type: ignore[return-value]


def check_bicubic(study: Study, root: Path) -> bool:
    """Whether the study's bicubic run is finished, verified like a member's run."""
    path = root / "bicubic" / "summary.json"
    if not path.is_file():
        return False

    scale = _check_run(study, load_summary(path.parent).config, path, "bicubic")
    if scale != (study.scale or 4):
        _differs(study, "scale", study.scale or 4, scale, path, "bicubic")
    return True


def check_checkpoint(study: Study, member: Member, root: Path, path: Path) -> None:
    """The (final) checkpoint of a member or first stage against the study's settings."""

    ckpt = ckpts.load_checkpoint(path)
    config = ckpt.get("config") or {}
    extra = {
        "data": (study.data, config.get("data")),
        "seeds": (member.seed, config.get("seed")),
        "init": (init_recipe(study, member.recipe), (ckpt.get("init") or {}).get("recipe")),
    }
    _check_recorded(study, member, ckpt, path, extra, bool(ckpt.get("finished")))


def _check_recorded(
    study: Study,
    member: Member,
    recorded: dict[str, Any],
    path: Path,
    extra: dict[str, tuple[object, object]],
    finished: bool,
) -> None:
    """What a checkpoint (or a run's record of one) says was trained, against the study's settings:
    ``recorded`` holds ``recipe``, ``preset``, ``scale`` and ``iterations``; ``extra`` more pairs."""
    from srbench_eval.training.config import resolve

    where = f"{member.variant} seed {member.seed}"
    plan = resolve(train_config(study, member, Path("checkpoints")))
    recipe = recorded.get("recipe") or {}
    train = recipe.get("train") or {}
    pairs = {
        "recipes": (member.recipe, recipe.get("name")),
        "overrides": (list(member.overrides), list(recipe.get("overrides") or [])),
        "preset": (study.preset, recorded.get("preset")),
        "scale": (plan.scale, recorded.get("scale")),
        "iterations": (plan.iterations, recorded.get("iterations")),
        "batch_size": (plan.batch_size, train.get("batch_size")),
        "hr_patch": (plan.hr_patch, train.get("hr_patch")),
        **extra,
    }
    for name, (want, got) in pairs.items():
        if want != got:
            _differs(study, name, want, got, path, where)
    if not finished:
        raise SrbenchError(f"{path}: not a finished training ({where}); remove it to train the member again")


def _differs(study: Study, name: str, want: object, got: object, path: Path, where: str) -> None:
    raise SrbenchError(
        f"study field '{name}' is {want!r} but {where} was made with {got!r} ({path}): restore the "
        f"study's {name}, or run the changed study in another --out"
    )


def run_member(study: Study, member: Member, root: Path, progress: bool = False) -> str:
    """Train (resuming) and evaluate one member; returns a one-line account."""
    from srbench_eval.evaluation import run_evaluation
    from srbench_eval.training import train

    if is_finished(study, member, root):
        return f"{member.variant} seed {member.seed}: finished before, skipped"
    checkpoints = member.folder(root) / "checkpoints"
    final = final_checkpoint(study, member, checkpoints)
    if final.is_file():  # trained before (e.g. by a --plan line), not evaluated yet
        check_checkpoint(study, member, root, final)
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
        check_checkpoint(study, stage, root, final)
        return f"first stage {stage.recipe} seed {stage.seed}: finished before, skipped"
    result = train(train_config(study, stage, stage_folder(root, stage) / "checkpoints", progress))
    if not result.finished:
        raise SrbenchError(f"first stage {stage.recipe} seed {stage.seed}: stopped at step {result.step}")
    return f"first stage {stage.recipe} seed {stage.seed}: trained {result.step} iterations"
