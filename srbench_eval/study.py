"""Multi-seed loss studies: train every (recipe, seed), evaluate each under one protocol, compare.

A :class:`Study` names recipes (the first is the reference), seeds, the training settings shared by
every member (preset, data, iterations, ...) and the evaluation (datasets, metrics, protocol).
``--set PATH=V1,V2,...`` sweeps: every combination of the listed values is one *variant* of each
recipe (inside a sweep, a list value is written with ``+`` between its items: ``train.milestones=2+4``).
A *member* is one variant trained with one seed.

The study folder::

    STUDY/study.json                      the study (repeatable: ``srbench-eval study STUDY/study.json``)
    STUDY/members/<variant>/seed<S>/checkpoints/   the member's training run (``train --checkpoints``)
    STUDY/members/<variant>/seed<S>/run/           its evaluation (``run --out``)
    STUDY/init/<recipe>/seed<S>/checkpoints/       first stage of two-stage recipes (esrgan: rrdb)
    STUDY/bicubic/                        bicubic on the same images, for context
    STUDY/table.md, STUDY/summary.json, STUDY/per_seed.csv   the study's own table

Two-stage recipes (``esrgan*`` start from a trained ``rrdb``): the first stage is trained once
per seed with the study's settings (of its ``--set`` only the unswept ``arch.*`` ones) and every
member of that seed starts from its final checkpoint; ``init: none`` in the study starts them
from scratch instead.

Resumable: a member whose ``run/`` holds a finished evaluation is skipped; any other member is
trained with ``--resume`` (a killed run continues from its newest checkpoint, a finished one returns
at once) and then evaluated. The table is computed from the finished members only.

Statistics (:mod:`srbench_eval.reports.statistics`, nothing new):

* per variant x dataset x metric, the mean over images of each seed ``m_s``; the table shows
  ``mean_s(m_s) +- std_s(m_s)`` (sample standard deviation, ``n - 1``) over the seeds;
* paired against the first variant: ``d_{s,i} = x_{s,i} - ref_{s,i}`` for every seed ``s`` both
  finished and every image ``i`` (same seed: same initialisation seed and data order); the mean of
  the pooled ``d``, its percentile bootstrap interval, the Wilcoxon signed-rank and the paired
  bootstrap p-values (:func:`srbench_eval.reports.statistics.paired_differences`). The bootstrap resamples the
  (seed, image) pairs as independent units; with few seeds the seed-to-seed spread is shown
  separately by the per-seed columns.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from srbench_eval.errors import SrbenchError
from srbench_eval.names import safe_name
from srbench_eval.options import parse_assignment, split_list
from srbench_eval.reports import statistics as stats
from srbench_eval.runs.results import ImageValue, read_csv, write_text_atomic

STUDY_FILE = "study.json"
FORMAT = "srbench-eval-study/1"


@dataclass(frozen=True)
class Study:
    """Everything that defines a study (stored as ``study.json``)."""

    recipes: tuple[str, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    preset: str = "smoke"
    scale: int | None = None
    data: str = "div2k-train"
    mirror: str | None = None
    overrides: tuple[str, ...] = ()  # --set; comma lists sweep
    iterations: int | None = None
    batch_size: int | None = None
    hr_patch: int | None = None
    device: str = "auto"
    val: str = "none"
    save_every: int | None = None
    workers: int | None = None
    datasets: tuple[str, ...] = ("set5", "set14")
    metrics: tuple[str, ...] = ("psnr", "ssim")
    protocol: str = "matlab"
    protocol_set: tuple[str, ...] = ()
    bicubic: bool = True
    init: str = "stage"  # two-stage recipes: "stage" (train the first stage per seed) or "none"
    pairs: tuple[str, ...] = ()  # RECIPE:REFERENCE comparisons; none: every recipe against the first

    def check(self) -> None:
        if not self.recipes:
            raise SrbenchError("a study needs at least one recipe (--recipes a,b)")
        if not self.seeds:
            raise SrbenchError("a study needs at least one seed (--seeds N)")
        if len(set(self.recipes)) != len(self.recipes):
            raise SrbenchError(f"--recipes {','.join(self.recipes)}: a recipe is listed twice")
        if len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise SrbenchError(f"seeds {list(self.seeds)}: must be distinct and >= 0")
        for item in self.pairs:
            name, sep, ref = item.partition(":")
            if not sep or name not in self.recipes or ref not in self.recipes:
                shown = ", ".join(self.recipes)
                raise SrbenchError(f"--pairs '{item}': use RECIPE:REFERENCE with two of --recipes ({shown})")
        if self.init not in ("stage", "none"):
            raise SrbenchError(f"study init '{self.init}': use 'stage' (train the first stage) or 'none'")
        if not self.datasets:
            raise SrbenchError("a study needs at least one dataset (--datasets set5)")

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> Study:
        """A study from ``study.json`` or a YAML file: the field names of :class:`Study`; ``seeds``
        may be a count (``3`` = seeds 0, 1, 2) and list fields a comma string."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"format"})
        if unknown:
            raise SrbenchError(
                f"{source}: unknown study field '{unknown[0]}' (known: {', '.join(sorted(known))})"
            )
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "format":
                continue
            if key == "seeds":
                value = parse_seeds(value)
            elif key in ("recipes", "overrides", "datasets", "metrics", "protocol_set", "pairs"):
                if isinstance(value, str):
                    value = split_list(value) if key != "overrides" else (value,)
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str | int | float) for v in value
                ):
                    raise SrbenchError(f"{source}: study field '{key}' must be a list of strings")
                value = tuple(str(v) for v in value)
            values[key] = value
        if "recipes" not in values:
            raise SrbenchError(f"{source}: the study names no recipes")
        return cls(**values)


def parse_seeds(value: object) -> tuple[int, ...]:
    """``3`` -> seeds 0, 1, 2; ``"0,4,7"`` or ``[0, 4, 7]`` -> those seeds."""
    if isinstance(value, bool):
        raise SrbenchError(f"seeds {value!r}: give a count (3) or a list (0,4,7)")
    if isinstance(value, int):
        if value < 1:
            raise SrbenchError(f"--seeds {value}: the number of seeds must be positive")
        return tuple(range(value))
    items: Sequence[Any] = split_list(value) if isinstance(value, str) else value  # type: ignore[assignment]
    try:
        seeds = tuple(int(v) for v in items)
    except (TypeError, ValueError):
        raise SrbenchError(f"seeds {value!r}: give a count (3) or a comma list of seeds (0,4,7)") from None
    if isinstance(value, str) and len(seeds) == 1 and "," not in value:
        return parse_seeds(seeds[0])  # "3" on the command line is a count
    return seeds


_LIST_PLUS = re.compile(r"(?<![eE])\+")


def expand_overrides(overrides: Sequence[str]) -> list[tuple[str, ...]]:
    """The sweep's variants: ``["loss.dp.mu=0.5,1", "train.lr=1e-4"]`` ->
    ``[("loss.dp.mu=0.5", "train.lr=1e-4"), ("loss.dp.mu=1", "train.lr=1e-4")]`` (every combination,
    in the order given). A ``+`` between digits or words (not in ``1e+3``) separates list items."""
    choices: list[list[str]] = []
    for item in overrides:
        a = parse_assignment(item)
        values = split_list(a.raw, keep_empty=True) if a is not None else ()
        if a is None or not all(values):
            raise SrbenchError(f"--set '{item}': expected PATH=VALUE or PATH=V1,V2,... (a sweep)")
        choices.append([f"{a.key}={_LIST_PLUS.sub(',', v)}" for v in values])
    return [tuple(combo) for combo in itertools.product(*choices)] if choices else [()]


@dataclass(frozen=True)
class Member:
    """One recipe variant trained with one seed."""

    recipe: str
    overrides: tuple[str, ...]
    seed: int
    variant: str  # the table label, e.g. ``esrgan-dp[dp.mu=1]``

    def folder(self, root: Path) -> Path:
        return root / "members" / self.variant / f"seed{self.seed}"


def variant_label(recipe: str, overrides: Sequence[str]) -> str:
    """The recipe's label with its overrides (:attr:`Recipe.label`), checked as a path component."""
    from srbench_eval.models.recipes.named import apply_overrides, get_recipe

    base = get_recipe(recipe)
    label = apply_overrides(base, list(overrides))[0].label if overrides else base.name
    return safe_name("study variant", label, f"recipe {recipe} with --set {' '.join(overrides)}")


def members(study: Study) -> list[Member]:
    """Every (variant, seed) of the study, variants in recipe then sweep order."""
    out = []
    for recipe in study.recipes:
        for combo in expand_overrides(study.overrides):
            label = variant_label(recipe, combo)
            out.extend(Member(recipe, combo, seed, label) for seed in study.seeds)
    labels = [m.variant for m in out]
    if len(set(labels)) * len(study.seeds) != len(labels):
        raise SrbenchError("two variants of the study share a label; give distinct --set values")
    return out


def variants(study: Study) -> list[str]:
    return list(dict.fromkeys(m.variant for m in members(study)))


# --------------------------------------------------------------------------- one member


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


def _in_process(args: tuple[Callable[..., str], Study, Member, Path]) -> str:
    import torch

    torch.set_num_threads(1)  # N jobs on N cores: one thread each
    fn, *rest = args
    return fn(*rest)


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


# --------------------------------------------------------------------------- the study


def open_study(study: Study, root: Path) -> None:
    """Write ``study.json``, or check that the folder holds this same study."""
    study.check()
    path = root / STUDY_FILE
    if path.is_file():
        try:
            recorded = Study.from_mapping(json.loads(path.read_text(encoding="utf-8")), str(path))
        except json.JSONDecodeError as e:
            raise SrbenchError(f"{path}: not valid JSON ({e.msg})") from None
        if replace(recorded, pairs=study.pairs) == study and recorded.pairs != study.pairs:
            write_text_atomic(path, json.dumps(study.to_json(), indent=2) + "\n")  # the table only
            return
        if recorded != study:
            diff = [f.name for f in fields(Study) if getattr(recorded, f.name) != getattr(study, f.name)]
            raise SrbenchError(
                f"{root} holds another study (differs in {', '.join(diff)}): choose another --out, "
                f"or repeat it with: srbench-eval study {path}"
            )
        return
    root.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(study.to_json(), indent=2) + "\n")


def run_study(
    study: Study, root: Path, jobs: int = 1, echo: Callable[[str], None] = print, progress: bool = False
) -> StudyResult:
    """Train and evaluate every unfinished member (``jobs`` at a time), then write the table."""
    open_study(study, root)
    todo = [m for m in members(study) if not is_finished(study, m, root)]
    done = len(members(study)) - len(todo)
    if done:
        echo(f"{done} member(s) finished before: skipped")
    first = [s for s in stages(study) if any(m.seed == s.seed for m in todo)]
    for fn, items in ((run_stage, first), (run_member, todo)):  # every first stage before its members
        if jobs > 1 and len(items) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                for line in pool.map(_in_process, [(fn, study, m, root) for m in items]):
                    echo(line)
        else:
            for m in items:
                echo(fn(study, m, root, progress))
    if study.bicubic and not (root / "bicubic" / "summary.json").is_file():
        from srbench_eval.evaluation import run_evaluation

        run_evaluation(run_config(study, ("bicubic",), study.scale or 4), root / "bicubic", progress=False)
    return write_table(study, root)


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class SeedSummary:
    """A variant on a dataset and metric: the mean over images of each seed, and over the seeds."""

    variant: str
    dataset: str
    metric: str
    per_seed: dict[int, float]
    mean: float
    std: float | None


@dataclass
class StudyResult:
    summaries: list[SeedSummary]
    comparisons: list[stats.Comparison]
    missing: list[Member] = field(default_factory=list)
    bicubic: dict[tuple[str, str], float] = field(default_factory=dict)
    table: str = ""


def collect(study: Study, root: Path) -> tuple[dict[tuple[str, int], list[ImageValue]], list[Member]]:
    """The per-image rows of every finished member, keyed by (variant, seed), relabelled with the
    variant (a run made from ``--plan`` names its column by the checkpoint); and the unfinished."""
    rows: dict[tuple[str, int], list[ImageValue]] = {}
    missing = []
    for m in members(study):
        csv_path = m.folder(root) / "run" / "results.csv"
        if not is_finished(study, m, root) or not csv_path.is_file():
            missing.append(m)
            continue
        rows[(m.variant, m.seed)] = [replace(r, model=m.variant) for r in read_csv(csv_path)]
    return rows, missing


def seed_summaries(rows: dict[tuple[str, int], list[ImageValue]], order: Sequence[str]) -> list[SeedSummary]:
    """``mean_s(m_s) +- std_s(m_s)`` per variant x dataset x metric, ``m_s`` the seed's image mean."""
    means: dict[tuple[str, str, str], dict[int, float]] = {}
    for (variant, seed), values in rows.items():
        groups: dict[tuple[str, str], list[float]] = {}
        for r in values:
            groups.setdefault((r.dataset, r.metric), []).append(r.value)
        for (dataset, metric), xs in groups.items():
            means.setdefault((variant, dataset, metric), {})[seed] = float(np.mean(xs))
    out = []
    for (variant, dataset, metric), per_seed in sorted(
        means.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1:])
    ):
        x = np.array([per_seed[s] for s in sorted(per_seed)])
        std = float(x.std(ddof=1)) if len(x) > 1 else None
        out.append(
            SeedSummary(variant, dataset, metric, dict(sorted(per_seed.items())), float(x.mean()), std)
        )
    return out


def comparison_pairs(study: Study, order: Sequence[str]) -> list[tuple[str, str]]:
    """(variant, reference) pairs to compare: ``study.pairs`` (``recipe:reference`` by recipe name,
    every variant of each) or else every variant against the first."""
    if not study.pairs:
        return [(v, order[0]) for v in order[1:]]
    by_recipe = {m.variant: m.recipe for m in members(study)}
    out = []
    for item in study.pairs:  # checked by Study.check
        name, _, ref = item.partition(":")
        refs = [v for v in order if by_recipe[v] == ref]
        out += [(v, refs[i % len(refs)]) for i, v in enumerate(x for x in order if by_recipe[x] == name)]
    return out


def paired_comparisons(
    rows: dict[tuple[str, int], list[ImageValue]],
    order: Sequence[str],
    pairs: Sequence[tuple[str, str]] | None = None,
) -> list[stats.Comparison]:
    """Each (variant, reference) of ``pairs`` (default: every variant against ``order[0]``),
    pooling the (seed, image) pairs of the seeds both finished."""
    if pairs is None:
        pairs = [(v, order[0]) for v in order[1:]]
    by_key: dict[tuple[str, str, str], dict[tuple[int, str], float]] = {}
    scale_of: dict[tuple[str, str], int] = {}
    for (variant, seed), values in rows.items():
        for r in values:
            by_key.setdefault((variant, r.dataset, r.metric), {})[(seed, r.image)] = r.value
            scale_of[(r.dataset, r.metric)] = r.scale
    out = []
    for variant, reference in pairs:
        for (v, dataset, metric), values in sorted(by_key.items()):
            ref = by_key.get((reference, dataset, metric))
            if v != variant or ref is None:
                continue
            common = sorted(k for k in values if k in ref)
            diffs = [values[k] - ref[k] for k in common]
            mean, lo, hi, p_w, p_b, note = stats.paired_differences(diffs)
            out.append(
                stats.Comparison(
                    variant,
                    reference,
                    dataset,
                    scale_of[(dataset, metric)],
                    metric,
                    len(common),
                    mean,
                    lo,
                    hi,
                    p_w,
                    p_b,
                    note,
                )
            )
    return out


def _fmt(x: float | None, digits: int) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _digits(metric: str) -> int:
    return 2 if metric.lower() == "psnr" else 4


def render_table(study: Study, result: StudyResult, seeds: Sequence[int]) -> str:
    lines = [f"# Study: {', '.join(study.recipes)}", ""]
    scale = study.scale or 4
    lines.append(
        f"Preset {study.preset}, x{scale}, trained on {study.data}"
        + (f" for {study.iterations} iterations" if study.iterations else "")
        + f", seeds {', '.join(map(str, study.seeds))}; protocol {study.protocol}"
        + (f" ({', '.join(study.protocol_set)})" if study.protocol_set else "")
        + "."
    )
    if study.overrides:
        lines.append(f"Settings: {' '.join('--set ' + o for o in study.overrides)}.")
    if result.missing:
        shown = ", ".join(f"{m.variant} seed {m.seed}" for m in result.missing)
        lines.append(f"**Unfinished members (not in the table): {shown}.**")
    lines += ["", "## Mean +- std over seeds (each seed: mean over the images)", ""]
    seed_cols = [f"seed {s}" for s in seeds]
    lines.append("| variant | dataset | metric | mean +- std | " + " | ".join(seed_cols) + " |")
    lines.append("|" + "---|" * (4 + len(seed_cols)))
    for (dataset, metric), value in sorted(result.bicubic.items()):
        d = _digits(metric)
        blank = " | ".join("" for _ in seeds)
        lines.append(f"| bicubic | {dataset} | {metric} | {_fmt(value, d)} | {blank} |")
    for s in result.summaries:
        d = _digits(s.metric)
        spread = f"{_fmt(s.mean, d)} +- {_fmt(s.std, d)}"
        cells = " | ".join(_fmt(s.per_seed.get(seed), d) for seed in seeds)
        lines.append(f"| {s.variant} | {s.dataset} | {s.metric} | {spread} | {cells} |")
    if result.comparisons:
        lines += [
            "",
            f"## Paired differences, variant - reference (seeds x images; 95% percentile bootstrap CI, "
            f"{stats.RESAMPLES} resamples, seed {stats.SEED})",
            "",
            "| variant | reference | dataset | metric | pairs | mean diff | 95% CI | p (Wilcoxon) "
            "| p (bootstrap) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for c in result.comparisons:
            d = _digits(c.metric) + 1
            ci = f"[{_fmt(c.ci_low, d)}, {_fmt(c.ci_high, d)}]" if c.ci_low is not None else c.note or "-"
            p_w = "-" if c.p_wilcoxon is None else f"{c.p_wilcoxon:.3g}"
            p_b = "-" if c.p_bootstrap is None else f"{c.p_bootstrap:.3g}"
            lines.append(
                f"| {c.model} | {c.reference} | {c.dataset} | {c.metric} | "
                f"{c.n} | {c.mean_diff:+.{d}f} | {ci} | {p_w} | {p_b} |"
            )
    return "\n".join(lines) + "\n"


def _bicubic_means(root: Path) -> dict[tuple[str, str], float]:
    path = root / "bicubic" / "results.csv"
    if not path.is_file():
        return {}
    groups: dict[tuple[str, str], list[float]] = {}
    for r in read_csv(path):
        groups.setdefault((r.dataset, r.metric), []).append(r.value)
    return {k: float(np.mean(v)) for k, v in groups.items()}


def write_table(study: Study, root: Path) -> StudyResult:
    """Compute the study's statistics from its finished members and write its files."""
    order = variants(study)
    rows, missing = collect(study, root)
    pairs = comparison_pairs(study, order)
    result = StudyResult(seed_summaries(rows, order), paired_comparisons(rows, order, pairs), missing)
    result.bicubic = _bicubic_means(root)
    result.table = render_table(study, result, study.seeds)
    write_text_atomic(root / "table.md", result.table)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["variant", "seed", "dataset", "metric", "mean"])
    for s in result.summaries:
        for seed, value in s.per_seed.items():
            w.writerow([s.variant, seed, s.dataset, s.metric, repr(value)])
    write_text_atomic(root / "per_seed.csv", buf.getvalue())
    summary = {
        "study": study.to_json(),
        "bootstrap": stats.bootstrap_method(),
        "pairing": "(seed, image) pairs of the seeds both variants finished",
        "summaries": [asdict(s) for s in result.summaries],
        "comparisons": [asdict(c) for c in result.comparisons],
        "missing": [asdict(m) for m in missing],
        "bicubic": [{"dataset": d, "metric": m, "mean": v} for (d, m), v in sorted(result.bicubic.items())],
    }
    write_text_atomic(root / "summary.json", json.dumps(summary, indent=2, default=_json_default) + "\n")
    return result


def _json_default(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(type(value).__name__)
