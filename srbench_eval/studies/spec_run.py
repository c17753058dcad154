"""Running a study spec: train and evaluate every unfinished member (first stages first, ready
models once), then write the paper-layout table (:mod:`.paper_table`). The folder and the members
are those of :mod:`.specs`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from srbench_eval.evaluation import run_evaluation
from srbench_eval.files import write_text_atomic
from srbench_eval.papers.specs import SpecMember, StudySpec
from srbench_eval.studies.members import check_weights, is_finished, run_config, run_member, run_stage, stages
from srbench_eval.studies.paper_table import SpecResult, write_spec_table
from srbench_eval.studies.spec import Study
from srbench_eval.studies.specs import (
    SpecOptions,
    absent_file,
    open_spec_folder,
    ready_folder,
    ready_members,
    spec_study,
    trained_members,
    weights_absent,
)


def run_ready(study: Study, member: SpecMember, root: Path) -> str:
    """Evaluate a ready member (once: it has no seeds). A published model whose weights are absent
    (:func:`~srbench_eval.studies.specs.weights_absent`) is skipped and its cells stay printed only;
    a later run with the file in a mirror evaluates it."""
    out = ready_folder(root, member)
    if (out / "summary.json").is_file():
        return f"{member.label}: evaluated before, skipped"
    marker = absent_file(root, member)
    why = weights_absent(study, member)
    if why is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(marker, why + "\n")
        return f"{member.label}: {why}; its cells stay printed only"
    marker.unlink(missing_ok=True)
    run_evaluation(run_config(study, (str(member.model),), study.scale or 4), out, progress=False)
    return f"{member.label}: evaluated"


def run_spec(
    spec: StudySpec,
    opts: SpecOptions,
    root: Path,
    echo: Callable[[str], None] = print,
    progress: bool = False,
) -> SpecResult:
    """Train and evaluate every unfinished member of ``spec``, then write its table
    (:func:`srbench_eval.studies.paper_table.write_spec_table`, returned)."""
    study = spec_study(spec, opts)
    open_spec_folder(spec, opts, root)
    every = trained_members(spec, study)
    todo = [m for m in every if not is_finished(study, m, root)]
    check_weights(study, todo)  # before the first stage trains
    if len(every) > len(todo):
        echo(f"{len(every) - len(todo)} trained member(s) finished before, skipped")
    if spec.recipes:
        for stage in stages(study):
            if any(m.seed == stage.seed for m in todo):
                echo(run_stage(study, stage, root, progress))
    for m in todo:
        echo(run_member(study, m, root, progress))
    for r in ready_members(spec):
        echo(run_ready(study, r, root))
    return write_spec_table(spec, study, root)
