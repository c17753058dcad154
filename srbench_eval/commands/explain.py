"""`srbench-eval explain`: why doesn't my number match? Ranks every scoring convention against targets."""

from __future__ import annotations

import json

import click

from srbench_eval.errors import SrbenchError


@click.command()
@click.argument("source")
@click.option(
    "--target",
    "targets",
    multiple=True,
    help='A printed number: "DATASET xS psnr=V [ssim=V]" (e.g. "set5 x4 psnr=32.46"); repeat for several.',
)
@click.option(
    "--cells",
    default=None,
    help="Targets from a published model's printed cells (NAME@pub), narrowed by --dataset/--scale.",
)
@click.option("--dataset", default=None, help="Dataset of targets that name none (a name or a folder of HR).")
@click.option("--scale", type=int, default=None, help="Scale of targets that name none.")
@click.option(
    "--mirror", default=None, help="Local folder or base URL for datasets [default: $SRBENCH_MIRROR]."
)
@click.option(
    "--checkpoints", default=None, help="Checkpoint root for recipe models ('zoo': the demo models)."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--top", type=click.IntRange(min=0), default=12, show_default=True, help="Rows per target (0: all)."
)
def explain(
    source: str,
    targets: tuple[str, ...],
    cells: str | None,
    dataset: str | None,
    scale: int | None,
    mirror: str | None,
    checkpoints: str | None,
    fmt: str,
    top: int,
) -> None:
    """Score SR images under every protocol profile and every variant the literature uses, and rank
    which reproduce the TARGET numbers within their printed precision.

    SOURCE: a folder of SR images (DIR or LABEL=DIR), a run made with --save-sr, or a model `run`
    accepts (bicubic, a recipe, a checkpoint, NAME@pub), run on each LR generator's input."""
    from srbench_eval.explain import explain as explain_all
    from srbench_eval.explain import parse_target, published_targets
    from srbench_eval.explain.text import render

    parsed = [t for text in targets for t in parse_target(text, dataset, scale)]
    parsed += published_targets(cells, dataset, scale) if cells else []
    if not parsed:
        raise SrbenchError('explain: give a --target (e.g. "set5 x4 psnr=32.46") or --cells NAME@pub')
    result = explain_all(source, parsed, mirror=mirror, checkpoints=checkpoints)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=1))
    else:
        click.echo(render(result, top))
