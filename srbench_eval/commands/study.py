"""`srbench-eval study`: train every (recipe, seed) of a loss study, evaluate each, compare them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml

from srbench_eval import yamlio
from srbench_eval.commands.evaluation import protocol_options
from srbench_eval.commands.studies import is_spec_name, run_spec_command
from srbench_eval.commands.train_options import study_fields, study_options
from srbench_eval.defaults import DEFAULT_METRICS
from srbench_eval.errors import SrbenchError
from srbench_eval.options import split_list

# The options a study file may also give (each a Study field of the same name).
_STUDY_ONLY = ("recipes", "seeds", "datasets", "metrics", "protocol", "protocol_set", "init", "pairs")


def _load_file(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SrbenchError(f"{path}: cannot read the study file ({e})") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yamlio.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise SrbenchError(f"{path}: not a valid study file ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise SrbenchError(f"{path}: a study file is a mapping of study fields (recipes:, seeds:, ...)")
    return data


@click.command()
@click.argument("study_file", required=False, type=click.Path(path_type=Path))
@click.option("--recipes", default=None, help="Comma list of recipes; the first is the reference.")
@click.option("--seeds", default="3", show_default=True, help="Number of seeds (0..N-1) or a comma list.")
@study_options(
    click.option("--datasets", default="set5,set14", show_default=True, help="Evaluation datasets."),
    click.option("--metrics", default=",".join(DEFAULT_METRICS), show_default=True),
)
@protocol_options()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Study folder [default: results/studies/<recipes>].",
)
@click.option("--jobs", type=int, default=1, show_default=True, help="Members trained at once (processes).")
@click.option(
    "--plan", is_flag=True, help="Print one train+run command per unfinished member instead of running."
)
@click.option(
    "--init",
    type=click.Choice(["stage", "none"]),
    default="stage",
    show_default=True,
    help="Two-stage recipes (esrgan*): train their first stage once per seed, or start from scratch.",
)
@click.option(
    "--pairs",
    default="",
    help="Comma list of RECIPE:REFERENCE comparisons, e.g. srcnn-fdl:srcnn,lapsrn-fdl:lapsrn "
    "[default: every recipe against the first].",
)
@click.option(
    "--estimate",
    is_flag=True,
    help="With a spec and --plan: time a few training iterations of each member at the paper's size "
    "on this device and print the device hours.",
)
@click.option(
    "--estimate-iterations",
    type=int,
    default=2,
    show_default=True,
    help="Timed iterations per recipe for --estimate (after one warm-up).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def study(
    ctx: click.Context,
    study_file: Path | None,
    out: Path | None,
    jobs: int,
    plan: bool,
    estimate: bool,
    estimate_iterations: int,
    quiet: bool,
    **options: object,
) -> None:
    """Train every (recipe, seed) of a study, evaluate each, and write the study's table.

    STUDY_FILE may name a shipped spec of a paper's experiment (`srbench-eval studies list`, e.g.
    dp-table1): its members, datasets, metrics and protocol are the spec's; --preset paper trains
    with the paper's schedule; --plan --estimate prints the commands, files and device hours.

    Give the study by options or as STUDY_FILE (YAML, or a study folder or its study.json, which
    continues that folder; fields
    recipes, seeds, preset, data, iterations, datasets, overrides, ...); options given on
    the command line replace the file's. Finished members are skipped and killed ones resume, so
    the same command continues a study. See srbench_eval/studies/ for the statistics."""
    from srbench_eval.studies import Study, parse_seeds, prepare_plan, run_study

    if study_file is not None and is_spec_name(study_file):
        if jobs != 1:
            raise SrbenchError(
                "--jobs: a spec's members are trained one at a time; --plan lists them for a scheduler"
            )
        run_spec_command(ctx, str(study_file), options, out, plan, estimate, estimate_iterations, quiet)
        return
    if estimate:
        raise SrbenchError("--estimate needs a study spec (see `srbench-eval studies list`)")
    values: dict = {}
    if study_file is not None:
        if study_file.is_dir():
            study_file = study_file / "study.json"
        values.update(_load_file(study_file))
        values.pop("format", None)
    for name in (*_STUDY_ONLY, *study_fields()):
        source = ctx.get_parameter_source(name)
        given = source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
        if given or name not in values:
            values[name] = options[name]
    if not values.get("recipes"):
        raise SrbenchError("a study needs --recipes a,b (or a STUDY_FILE naming them)")
    for name in ("recipes", "datasets", "metrics", "pairs"):
        if isinstance(values[name], str):
            values[name] = split_list(values[name])
    values["seeds"] = parse_seeds(values["seeds"])
    if jobs < 1:
        raise SrbenchError(f"--jobs {jobs}: must be positive")
    spec = Study.from_mapping(values, str(study_file or "the command line"))
    if out is None and study_file is not None and study_file.name == "study.json":
        out = study_file.parent  # a study folder continues in place
    root = out or Path("results/studies") / "-".join(spec.recipes)
    if plan:
        for line in prepare_plan(spec, root):
            click.echo(line)
        click.echo(f"# afterwards: srbench-eval study {root / 'study.json'}  (writes the table)")
        return
    result = run_study(spec, root, jobs=jobs, echo=click.echo, progress=not quiet and sys.stderr.isatty())
    click.echo(result.table, nl=False)
    click.echo(f"study: {root}")
