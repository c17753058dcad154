"""Running a study: the shell commands that would do it (:func:`plan_commands`) and doing it
(:func:`run_study`: every unfinished member, ``jobs`` at a time, then the table)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

from srbench_eval.studies.members import (
    check_bicubic,
    check_settings,
    check_weights,
    final_checkpoint,
    is_finished,
    member_init,
    run_config,
    run_member,
    run_stage,
    stage_folder,
    stages,
)
from srbench_eval.studies.spec import Member, Study, members, open_study
from srbench_eval.studies.table import StudyResult, write_table
from srbench_eval.studies.workers import locked, run_parallel


def plan_commands(study: Study, root: Path, program: str = "srbench-eval") -> list[str]:
    """One ``train ...`` + ``run ...`` command line per member (for a scheduler or torchrun);
    running ``study`` on the same folder afterwards skips them and writes the table."""
    scale = study.scale or 4
    lines = []
    for stage in stages(study):
        checkpoints = stage_folder(root, stage) / "checkpoints"
        if not final_checkpoint(study, stage, checkpoints).is_file():
            lines.append(shlex.join(_train_args(study, stage, checkpoints, "none", program)))
    for m in members(study):
        if is_finished(study, m, root):
            continue
        folder = m.folder(root)
        train = _train_args(study, m, folder / "checkpoints", member_init(study, m, root), program)
        ckpt_dir = folder / "checkpoints" / m.recipe
        run = [program, "run", "--models", m.recipe, "--weights", f"{m.recipe}={ckpt_dir}"]
        run += ["--scale", str(scale), "--datasets", ",".join(study.datasets)]
        run += ["--metrics", ",".join(study.metrics), "--device", study.device, "--out", str(folder / "run")]
        if study.mirror:
            run += ["--mirror", study.mirror]
        run += _protocol_args(study) + ["--quiet"]
        lines.append(f"{shlex.join(train)} && {shlex.join(run)}")
    return lines


def prepare_plan(study: Study, root: Path, program: str = "srbench-eval") -> list[str]:
    """Check the study, write (or check) its ``study.json`` under the folder's lock, and return
    :func:`plan_commands`."""
    check_settings(study)
    with locked(root):
        open_study(study, root)
        return plan_commands(study, root, program)


def _train_args(study: Study, m: Member, checkpoints: Path, init: str, program: str) -> list[str]:
    scale = study.scale or 4
    train = [program, "train", "--model", m.recipe, "--preset", study.preset, "--scale", str(scale)]
    train += ["--data", study.data, "--seed", str(m.seed), "--resume", "--init", init]
    train += ["--checkpoints", str(checkpoints), "--val", study.val, "--device", study.device]
    for flag, value in (
        ("--mirror", study.mirror),
        ("--iterations", study.iterations),
        ("--batch-size", study.batch_size),
        ("--patch", study.hr_patch),
        ("--save-every", study.save_every),
        ("--workers", study.workers),
    ):
        if value is not None:
            train += [flag, str(value)]
    for o in m.overrides:
        train += ["--set", o]
    return train + _protocol_args(study) + ["--quiet"]


def _protocol_args(study: Study) -> list[str]:
    out = ["--protocol", study.protocol]
    for s in study.protocol_set:
        out += ["--protocol-set", s]
    return out


def run_study(
    study: Study, root: Path, jobs: int = 1, echo: Callable[[str], None] = print, progress: bool = False
) -> StudyResult:
    """Train and evaluate every unfinished member (``jobs`` at a time), then write the table; the
    study folder is locked meanwhile (:func:`srbench_eval.studies.workers.locked`)."""
    check_settings(study)
    with locked(root):
        open_study(study, root)
        todo = [m for m in members(study) if not is_finished(study, m, root)]
        check_weights(study, todo)
        done = len(members(study)) - len(todo)
        if done:
            echo(f"{done} member(s) finished before: skipped")
        first = [s for s in stages(study) if any(m.seed == s.seed for m in todo)]
        for fn, items in ((run_stage, first), (run_member, todo)):  # every first stage before its members
            if jobs > 1 and len(items) > 1:
                run_parallel(fn, [(study, m, root) for m in items], jobs, echo)
            else:
                for m in items:
                    echo(fn(study, m, root, progress))
        if study.bicubic and not check_bicubic(study, root):
            from srbench_eval.evaluation import run_evaluation

            config = run_config(study, ("bicubic",), study.scale or 4)
            run_evaluation(config, root / "bicubic", progress=False)
        return write_table(study, root)
