"""`srbench-eval compare`: paired differences of every model from a reference, with tests."""

from __future__ import annotations

from pathlib import Path

import click

from srbench_eval.errors import SrbenchError
from srbench_eval.files import write_text_atomic
from srbench_eval.names import check_path
from srbench_eval.options import split_list
from srbench_eval.runs.results import refuse_finished


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--reference", required=True, help="The model every other model is compared with.")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")
@click.option("--metrics", default="", help="Comma list of metrics to compare [default: all].")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Write to this file instead of stdout."
)
def compare(
    run_dirs: tuple[Path, ...], reference: str, alpha: float, metrics: str, fmt: str, out: Path | None
) -> None:
    """Per dataset and metric: each model minus REFERENCE per image, its 95% bootstrap interval, the
    Wilcoxon signed-rank and paired bootstrap p-values."""
    from srbench_eval.reports import paired as cmp
    from srbench_eval.runs.finished import load_runs

    if not 0 < alpha < 1:
        raise SrbenchError(f"--alpha {alpha}: must be between 0 and 1")
    if out:
        check_path(out, "--out")
        refuse_finished(out, anywhere_inside=True)  # one file: never inside a finished run
    runs = load_runs(run_dirs)
    wanted = split_list(metrics)
    comparisons = cmp.compare_runs(runs, reference, wanted)
    text = (
        cmp.to_markdown(comparisons, cmp.metric_info(runs), alpha, cmp.dataset_titles(runs))
        if fmt == "md"
        else cmp.to_json(comparisons, alpha)
    )
    if out:
        write_text_atomic(out, text)
    else:
        click.echo(text, nl=False)
