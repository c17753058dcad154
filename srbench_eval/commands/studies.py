"""`srbench-eval studies list` (the shipped study specs and their members) and the spec form of
`srbench-eval study SPEC` (run, ``--plan``, ``--plan --estimate``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.options import split_list
from srbench_eval.papers.specs import load_spec, spec_names

if TYPE_CHECKING:
    from srbench_eval.papers.specs import StudySpec
    from srbench_eval.studies.spec import Study
    from srbench_eval.studies.specs import SpecOptions

# study options a spec fixes itself: given with a spec name, they are an error.
_FIXED = ("recipes", "metrics", "protocol", "protocol_set", "pairs", "scale", "val")
# study options that replace the spec's (or add to it: --set) when given.
_TAKEN = (
    "preset",
    "seeds",
    "datasets",
    "data",
    "mirror",
    "iterations",
    "batch_size",
    "hr_patch",
    "overrides",
    "device",
    "workers",
    "save_every",
    "init",
)


def is_spec_name(value: object) -> bool:
    """Whether ``value`` (``study``'s argument) names a shipped spec rather than a file; a bare name
    (no folder, no suffix) that is neither is a one-line error listing the specs."""
    text = str(value)
    if "/" in text or Path(text).exists():
        return False
    if text in spec_names():
        return True
    if not Path(text).suffix:
        raise unknown_name("study spec (or study file)", text, spec_names())
    return False


@click.group()
def studies() -> None:
    """The study specs shipped with the package: the papers' experiments (run one with `study SPEC`)."""


@studies.command("list")
def list_specs() -> None:
    """Each spec with its title and members (trained recipe and overrides, or a ready model)."""
    for name in spec_names():
        spec = load_spec(name)
        click.echo(f"{name}: {spec.title}")
        for m in spec.members:
            what = f"train {m.recipe}" + (f" --set {' '.join(m.overrides)}" if m.overrides else "")
            if m.recipe is None:
                what = f"ready model {m.model}"
            row = f" (paper row {m.row})" if m.row else ""
            click.echo(f"  {m.label:<30} {what}{row}")
        if spec.printed_only:
            click.echo(f"  printed only: {', '.join(spec.printed_only)}")
        seeds = ",".join(map(str, spec.seeds))
        click.echo(f"  seeds {seeds}; datasets {','.join(spec.datasets)}; metrics {','.join(spec.metrics)}")


def spec_options(ctx: click.Context, options: dict[str, object]) -> SpecOptions:
    """The :class:`~srbench_eval.studies.specs.SpecOptions` of the options given on the command line."""
    from srbench_eval.studies import parse_seeds
    from srbench_eval.studies.specs import SpecOptions

    def given(name: str) -> bool:
        source = ctx.get_parameter_source(name)
        return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")

    for name in _FIXED:
        if name in options and given(name):
            flag = "--" + name.replace("_", "-")
            raise SrbenchError(
                f"{flag}: a study spec fixes it; run `study --recipes ...` for a study of your own"
            )
    values: dict[str, object] = {"preset": options["preset"]}
    for name in _TAKEN:
        if name in options and given(name):
            value = options[name]
            if name == "seeds":
                value = parse_seeds(value)
            elif name == "datasets":
                value = tuple(split_list(str(value)))
            elif name == "overrides":
                value = tuple(value)
            values[name] = value
    return SpecOptions(**values)


def run_spec_command(
    ctx: click.Context,
    name: str,
    options: dict[str, object],
    out: Path | None,
    plan: bool,
    estimate: bool,
    timed: int,
    quiet: bool,
) -> None:
    """``study SPEC``: run it (or with ``--plan`` print its commands and files, and with
    ``--estimate`` the measured hours)."""
    from srbench_eval.studies.spec_run import run_spec
    from srbench_eval.studies.specs import spec_study

    spec = load_spec(name)
    opts = spec_options(ctx, options)
    study = spec_study(spec, opts)
    root = out or Path("results/studies") / f"{spec.name}-{study.preset}"
    if estimate and timed < 1:
        raise SrbenchError(f"--estimate-iterations {timed}: must be positive")
    if plan:
        _print_plan(spec, opts, study, root, estimate, timed)
        return
    if estimate:
        raise SrbenchError("--estimate goes with --plan: study SPEC --plan --estimate")
    result = run_spec(spec, opts, root, echo=click.echo, progress=not quiet and sys.stderr.isatty())
    click.echo(result.table, nl=False)
    click.echo(f"study: {root}")


def _print_plan(
    spec: StudySpec, opts: SpecOptions, study: Study, root: Path, estimate: bool, timed: int
) -> None:
    from srbench_eval.studies.estimate import estimate as measure
    from srbench_eval.studies.estimate import needed_files, render_estimate
    from srbench_eval.studies.specs import open_spec_folder, spec_plan_commands

    if estimate:
        from srbench_eval.studies.estimate import estimate_device

        estimate_device(study.device)  # no GPU: one line, before the plan
    open_spec_folder(spec, opts, root)
    click.echo(f"# {spec.title}")
    click.echo("# Commands (one per first stage, trained member and ready model):")
    for line in spec_plan_commands(spec, study, root):
        click.echo(line)
    again = f"srbench-eval study {spec.name} --out {root}"
    click.echo(f"# afterwards, with the same options: {again}  (writes the table)")
    click.echo("")
    click.echo("Files to fetch first (`srbench-eval datasets download NAME`, `srbench-eval weights fetch`):")
    click.echo("")
    click.echo("| kind | name | size | source | used by |")
    click.echo("|---|---|---|---|---|")
    for f in needed_files(spec, study):
        click.echo(f"| {f.kind} | {f.name} | {f.size} | {f.source} | {f.used_by} |")
    if estimate:
        click.echo("")
        for line in render_estimate(measure(spec, study, timed)):
            click.echo(line)
