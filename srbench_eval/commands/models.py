"""`srbench-eval models`: list the recipes of the model zoo, show one with overrides applied."""

from __future__ import annotations

import json
from pathlib import Path

import click
from tabulate import tabulate

from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints, published
from srbench_eval.models.recipes import (
    Recipe,
    apply_overrides,
    discriminator_parameters,
    generator_parameters,
    get_recipe,
    recipe_names,
)
from srbench_eval.results import load_summary


def recipe_row(recipe: Recipe) -> dict[str, str]:
    """One line of ``models list``: architecture, parameter count, weighted losses, checkpoint."""
    scale = recipe.default_scale
    disc = "-"
    if recipe.disc is not None:
        disc = f"{recipe.disc.name} ({discriminator_parameters(recipe):,})"
    ckpt = checkpoints.find_latest(recipe.name, scale)
    if ckpt is None:
        zoo = checkpoints.find_in_zoo(recipe.name, scale)
        ckpt = f"zoo:{zoo.name}" if zoo else None
    return {
        "recipe": recipe.label,
        "arch": recipe.arch.name,
        "params": f"{generator_parameters(recipe, scale):,} (x{scale})",
        "losses": " + ".join(spec.describe() for spec in recipe.losses),
        "discriminator": disc,
        "scales": ",".join(f"x{s}" for s in recipe.scales),
        "init": recipe.init or "-",
        "checkpoint": str(ckpt) if ckpt else "-",  # newest at the default scale, else a shipped demo
    }


@click.group()
def models() -> None:
    """The model zoo: recipes pairing an architecture with weighted loss terms."""


def published_row(entry: published.PublishedModel) -> dict[str, str]:
    """One line of ``models list`` for a published model: what it is and what its paper printed."""
    return {
        "published model": entry.name,
        "format": entry.format,
        "input": f"{entry.channels}{' (upsampled)' if entry.upsampled_input else ''}",
        "scales": ",".join(f"x{s}" for s in entry.scales),
        "protocol": entry.protocol,
        "paper PSNR/SSIM": published.scores_text(entry),
    }


@models.command("list")
def list_models() -> None:
    """Every recipe (architecture, parameters, losses, scales, checkpoint) and every published
    model (NAME@pub: format, input, scales, its authors' protocol, the paper's numbers)."""
    rows = [recipe_row(get_recipe(name)) for name in recipe_names()]
    click.echo(tabulate(rows, headers="keys", tablefmt="simple", disable_numparse=True))
    where = f"{checkpoints.checkpoint_dir()}/<recipe>/"
    click.echo(f"\ncheckpoints are looked up in {where} (set ${checkpoints.CHECKPOINTS_ENV} to change)\n")
    pub = [published_row(e) for e in published.registry().values()]
    click.echo(tabulate(pub, headers="keys", tablefmt="simple", maxcolwidths=[None] * 5 + [70]))
    click.echo("\n'run --models NAME@pub' fetches and verifies the file (see 'srbench-eval weights list')")


@models.command("show")
@click.argument("name")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a recipe setting, e.g. --set loss.dp.mu=1 --set train.lr=2e-4 (repeatable).",
)
def show(name: str, overrides: tuple[str, ...]) -> None:
    """Print recipe NAME as JSON, with --set overrides applied (its label names table columns)."""
    recipe, label = apply_overrides(get_recipe(name), list(overrides))
    d = {"label": label, **recipe.to_dict(), "generator_parameters": generator_parameters(recipe)}
    click.echo(json.dumps(d, indent=2))


@models.command("reproduce")
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
def reproduce(runs: tuple[Path, ...]) -> None:
    """Each NAME@pub cell of finished RUNS next to the number its paper printed (and the difference).

    A cell counts as a reproduction only when the run used the authors' protocol (last columns).
    """
    rows = [r for run in runs for r in published.reproduction_rows(load_summary(run))]
    if not rows:
        raise SrbenchError(
            f"{', '.join(map(str, runs))}: no NAME@pub result with a published number (run e.g. "
            f"'srbench-eval run --models srcnn-955@pub --scale 3 --datasets set5')"
        )
    for r in rows:
        digits = 2 if r["metric"] == "psnr" else 4
        r["published"] = f"{r['published']:.{digits}f}"
        r["difference"] = f"{r['difference']:+.{digits + 1}f}"
        r["measured"] = f"{r['measured']:.{digits + 1}f}"
    click.echo(tabulate(rows, headers="keys", tablefmt="simple", disable_numparse=True))
