"""`srbench-eval figures`: the figures of finished runs as PNG and PDF files."""

from __future__ import annotations

from pathlib import Path

import click

from srbench_eval.runs.results import refuse_finished


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the figure files.")
@click.option(
    "--crop", default=None, metavar="X,Y,W,H", help="Crop region in HR pixels [default: automatic]."
)
@click.option("--dataset", default=None, help="Dataset of the crop grid [default: the first with SR images].")
@click.option("--image", default=None, help="Image of the crop grid [default: where PSNR differs most].")
@click.option(
    "--train-log",
    "train_logs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Training run folder (with log.jsonl) to plot (repeatable).",
)
def figures(
    run_dirs: tuple[Path, ...],
    out: Path,
    crop: str | None,
    dataset: str | None,
    image: str | None,
    train_logs: tuple[Path, ...],
) -> None:
    """Perception-distortion plane, per-image distributions, sweep curves, crop grids and training
    curves of finished runs; says what is missing for a figure the runs cannot support."""
    from srbench_eval.reports import figures as figs
    from srbench_eval.runs.finished import load_runs

    refuse_finished(out)
    region = figs.Crop.parse(crop) if crop else None
    runs = load_runs(run_dirs)
    for fig in figs.all_figures(runs, region, train_logs, dataset, image):
        if fig.plot is None:
            click.echo(f"skipped {fig.name}: {fig.missing}")
            continue
        for path in fig.save(out):
            click.echo(f"wrote {path}")
