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

Verified and locked: ``study.json`` is checked like the command line, and a member counts as finished
only when its run and checkpoint on disk were made with the study's settings (else a one-line error
names the field: :func:`~srbench_eval.studies.members.is_finished`); one ``study`` at a time writes
in a folder, and its workers die with it (:mod:`.workers`).

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

The parts: the study as data and its folder's ``study.json`` (:mod:`.spec`), one member's settings
and run (:mod:`.members`), the study's plan and run (:mod:`.planning`) and its table (:mod:`.table`).
"""

from srbench_eval.studies.members import (
    check_settings,
    final_checkpoint,
    init_recipe,
    is_finished,
    member_init,
    run_config,
    run_member,
    run_stage,
    stages,
    train_config,
)
from srbench_eval.studies.planning import plan_commands, prepare_plan, run_study
from srbench_eval.studies.spec import (
    FORMAT,
    STUDY_FILE,
    Member,
    Study,
    expand_overrides,
    members,
    open_study,
    parse_seeds,
    variant_label,
    variants,
)
from srbench_eval.studies.table import (
    SeedSummary,
    StudyResult,
    collect,
    comparison_pairs,
    paired_comparisons,
    render_table,
    seed_summaries,
    write_table,
)

__all__ = [
    "FORMAT",
    "STUDY_FILE",
    "Member",
    "SeedSummary",
    "Study",
    "StudyResult",
    "check_settings",
    "collect",
    "comparison_pairs",
    "expand_overrides",
    "final_checkpoint",
    "init_recipe",
    "is_finished",
    "member_init",
    "members",
    "open_study",
    "paired_comparisons",
    "parse_seeds",
    "plan_commands",
    "prepare_plan",
    "render_table",
    "run_config",
    "run_member",
    "run_stage",
    "run_study",
    "seed_summaries",
    "stages",
    "train_config",
    "variant_label",
    "variants",
    "write_table",
]
