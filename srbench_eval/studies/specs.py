"""A shipped study spec (:mod:`srbench_eval.papers.specs`, ``srbench-eval study dp-table1``) as a
runnable study.

A spec's trained members each have their own ``--set`` overrides and label (``mu=0.5``), unlike a
:class:`~srbench_eval.studies.Study`, whose sweep applies to every recipe: the spec becomes one
:class:`Study` (the shared settings: preset, data, seeds, datasets, metrics, protocol, and the
user's extra ``--set``, applied to every trained member) plus its own list of :class:`Member`\\ s,
and each member is trained and evaluated by the same code as a study's
(:func:`~srbench_eval.studies.members.run_member`, first stages by
:func:`~srbench_eval.studies.members.run_stage`). Ready members (``esrgan@pub``, ``bicubic``) are
evaluated once, not trained.

Overrides of a trained member, in order (later ones win): under ``--preset paper`` the spec's
schedule (:func:`~srbench_eval.papers.specs.paper_train_overrides` for its recipe), then the user's
``--set``, then the member's own ``set``.

The folder::

    OUT/spec.json                         the spec's name and the options (a rerun must match)
    OUT/members/<label>/seed<S>/          a trained member (checkpoints/, run/), as in a study
    OUT/init/<recipe>/seed<S>/            first stages of two-stage recipes
    OUT/ready/<label>/run/                a ready member's evaluation
    OUT/table.md, OUT/summary.json        the paper-layout table (:mod:`.paper_table`)
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path

from srbench_eval.data.datasets.download import is_url, offline, resolve_mirror
from srbench_eval.defaults import default_train_data
from srbench_eval.errors import SrbenchError
from srbench_eval.files import write_text_atomic
from srbench_eval.models.published import registry as published
from srbench_eval.names import safe_name
from srbench_eval.papers.specs import SpecMember, StudySpec, paper_train_overrides
from srbench_eval.studies.members import (
    final_checkpoint,
    is_finished,
    member_init,
    stage_folder,
    stages,
)
from srbench_eval.studies.planning import _protocol_args, _train_args
from srbench_eval.studies.spec import _LIST_PLUS, Member, Study
from srbench_eval.weights.published import published_status

SPEC_FILE = "spec.json"
FORMAT = "srbench-eval-spec-study/1"


@dataclass(frozen=True)
class SpecOptions:
    """The user's settings for running a spec (``None``: the spec's own, or the recipe's/preset's)."""

    preset: str = "smoke"
    seeds: tuple[int, ...] | None = None
    datasets: tuple[str, ...] | None = None
    data: str | None = None
    mirror: str | None = None
    iterations: int | None = None
    batch_size: int | None = None
    hr_patch: int | None = None
    overrides: tuple[str, ...] = ()  # --set for every trained member
    device: str = "auto"
    workers: int | None = None
    save_every: int | None = None
    init: str | None = None


def spec_study(spec: StudySpec, opts: SpecOptions) -> Study:
    """The settings every member of ``spec`` shares, as a :class:`Study` of its recipes. Its
    training data: ``--data``, else the spec's (DIV2K) under ``--preset paper`` and the smoke
    preset's default (:func:`~srbench_eval.defaults.default_train_data`: the embedded demo images,
    there offline) under ``--preset smoke``. A spec's
    members are fixed: the user's ``--set`` is not a sweep, and a list value may be written with
    commas or, as inside a study's sweep, with ``+`` (``train.milestones=2+4``)."""
    study = Study(
        recipes=spec.recipes or ("bicubic",),
        seeds=opts.seeds or spec.seeds,
        preset=opts.preset,
        scale=spec.scale,
        data=opts.data or (spec.data if opts.preset == "paper" else default_train_data(opts.preset)),
        mirror=opts.mirror,
        overrides=tuple(_LIST_PLUS.sub(",", o) for o in opts.overrides),
        iterations=opts.iterations,
        batch_size=opts.batch_size,
        hr_patch=opts.hr_patch,
        device=opts.device,
        workers=opts.workers,
        save_every=opts.save_every,
        datasets=opts.datasets or spec.datasets,
        metrics=spec.metrics,
        protocol=spec.protocol,
        protocol_set=spec.protocol_set,
        bicubic=False,
        init=opts.init or spec.init,
    )
    if spec.recipes:
        study.check()
    return study


def member_overrides(spec: StudySpec, study: Study, member: SpecMember) -> tuple[str, ...]:
    """A trained member's overrides (see the module docstring)."""
    assert member.recipe is not None
    paper = paper_train_overrides(spec, member.recipe) if study.preset == "paper" else ()
    return (*paper, *study.overrides, *member.overrides)


_BRACES = str.maketrans("{}", "()")


def folder_name(member: SpecMember) -> str:
    """The member's folder name: its label with ``{}`` as ``()`` (``beta_{1,3}`` -> ``beta_(1,3)``)."""
    return safe_name("study member", member.label.translate(_BRACES), "a study spec's member label")


def trained_members(spec: StudySpec, study: Study) -> list[Member]:
    """Every (trained member, seed); ``variant`` is the member's :func:`folder_name`."""
    out = []
    for m in spec.members:
        if m.recipe is not None:
            out += [
                Member(m.recipe, member_overrides(spec, study, m), s, folder_name(m)) for s in study.seeds
            ]
    return out


def ready_members(spec: StudySpec) -> list[SpecMember]:
    return [m for m in spec.members if m.recipe is None]


def ready_folder(root: Path, member: SpecMember) -> Path:
    return root / "ready" / folder_name(member) / "run"


def absent_file(root: Path, member: SpecMember) -> Path:
    """Where a ready member whose weights are absent says why (its cells stay printed only)."""
    return ready_folder(root, member).parent / "weights-absent.txt"


def weights_absent(study: Study, member: SpecMember) -> str | None:
    """Why a ready ``NAME@pub`` member cannot be evaluated here: its file is in neither the weights
    cache nor the mirror folder, and no download can bring it (no public URL, or offline). ``None``
    when it can be evaluated, or when the run itself must say what is wrong (a file present but
    unpinned or of another hash, a mirror URL): those stop the study with the run's one-line error."""
    name = str(member.model)
    if not published.is_published(name):
        return None
    entry = published.get(name)
    scale = study.scale or 4
    entry.file_for(scale)  # a scale it lacks: the one-line error
    mirror = resolve_mirror(study.mirror)
    for f in (c for c in entry.files if c.scale in (None, scale)):  # SFTGAN: two files
        if published_status(entry, f, mirror)[0] == "missing" and not (
            (mirror and is_url(mirror)) or (f.urls and not offline())
        ):
            break
    else:
        return None
    where = (
        f"a mirror as {mirror}/weights/{f.path}" if mirror else f"a mirror (--mirror DIR) as weights/{f.path}"
    )
    how = "it has no public URL" if not f.urls else "offline"
    return f"weights file {f.path} in neither the weights cache nor {where} ({how})"


def open_spec_folder(spec: StudySpec, opts: SpecOptions, root: Path) -> None:
    """Write ``spec.json``, or check that the folder holds this same spec with the same options."""
    record = {"format": FORMAT, "spec": spec.name, "options": asdict(opts)}
    record = json.loads(json.dumps(record))  # tuples as lists, as read back
    path = root / SPEC_FILE
    if path.is_file():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise SrbenchError(f"{path}: not valid JSON ({e.msg})") from None
        if found != record:
            old = found.get("options", {}) if isinstance(found, dict) else {}
            diff = [k for k in record["options"] if old.get(k) != record["options"][k]]
            what = "another spec" if found.get("spec") != spec.name else f"other options ({', '.join(diff)})"
            raise SrbenchError(f"{root} holds {what}: choose another --out")
        return
    root.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(record, indent=2) + "\n")


def _ready_run_args(study: Study, model: str, out: Path, program: str) -> list[str]:
    args = [program, "run", "--models", model, "--scale", str(study.scale or 4)]
    args += ["--datasets", ",".join(study.datasets), "--metrics", ",".join(study.metrics)]
    args += ["--device", study.device, "--out", str(out)]
    if study.mirror:
        args += ["--mirror", study.mirror]
    return args + _protocol_args(study) + ["--quiet"]


def spec_plan_commands(spec: StudySpec, study: Study, root: Path, program: str = "srbench-eval") -> list[str]:
    """One line per unfinished first stage, trained member (train && run) and ready member (run)."""
    lines = []
    if spec.recipes:
        for stage in stages(study):
            checkpoints = stage_folder(root, stage) / "checkpoints"
            if not final_checkpoint(study, stage, checkpoints).is_file():
                lines.append(shlex.join(_train_args(study, stage, checkpoints, "none", program)))
    for m in trained_members(spec, study):
        if is_finished(study, m, root):
            continue
        folder = m.folder(root)
        train = _train_args(study, m, folder / "checkpoints", member_init(study, m, root), program)
        ckpt = folder / "checkpoints" / m.recipe
        run = _ready_run_args(study, m.recipe, folder / "run", program)
        run[4:4] = ["--weights", f"{m.recipe}={ckpt}"]
        lines.append(f"{shlex.join(train)} && {shlex.join(run)}")
    for r in ready_members(spec):
        out = ready_folder(root, r)
        if not (out / "summary.json").is_file():
            lines.append(shlex.join(_ready_run_args(study, str(r.model), out, program)))
    return lines
