"""`srbench-eval report`: a static, self-contained HTML page of finished runs."""

from __future__ import annotations

from pathlib import Path

import click

from srbench_eval.options import split_list
from srbench_eval.runs.results import refuse_finished


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for index.html.")
@click.option("--reference", default=None, help="Model the paired tests compare with [default: bicubic].")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")
@click.option("--crop", default=None, metavar="X,Y,W,H", help="Crop grid region [default: automatic].")
@click.option("--rename", multiple=True, metavar="OLD=NEW", help="Rename a model (repeatable).")
@click.option("--order", default="", help="Comma list of models (after --rename) in the order to show.")
@click.option("--metrics", default="", help="Comma list of metrics for the tables [default: all].")
@click.option(
    "--train-log", "train_logs", multiple=True, type=click.Path(path_type=Path), help="Training run folder."
)
@click.option("--title", default="srbench-eval report", show_default=True)
def report(
    run_dirs: tuple[Path, ...],
    out: Path,
    reference: str | None,
    alpha: float,
    crop: str | None,
    rename: tuple[str, ...],
    order: str,
    metrics: str,
    train_logs: tuple[Path, ...],
    title: str,
) -> None:
    """Tables, statistics, figures, provenance and a synchronised image viewer in OUT/index.html."""
    from srbench_eval.reports.figures import Crop
    from srbench_eval.reports.html import ReportOptions, write_report
    from srbench_eval.reports.layouts import TableOptions
    from srbench_eval.runs.finished import load_runs

    refuse_finished(out)
    table = TableOptions(
        rename=rename, order=split_list(order), metrics=split_list(metrics), reference=reference, alpha=alpha
    )
    options = ReportOptions(reference, alpha, Crop.parse(crop) if crop else None, train_logs, title, table)
    page = write_report(load_runs(run_dirs), out, options)
    click.echo(f"report: {page}")
