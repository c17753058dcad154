"""`srbench-eval models`: list the recipes of the model zoo, show one with overrides applied.

Both read data only (recipes, the architectures' parameter counts, the published registry, the
checkpoint folders), so they import no torch; ``show --set`` builds the overridden networks on
the meta device to count and check them."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from srbench_eval.models import checkpoints
from srbench_eval.models.published import registry as published
from srbench_eval.models.recipes.overrides import apply_overrides
from srbench_eval.models.recipes.registry import (
    discriminator_parameters,
    generator_parameters,
    get_recipe,
    recipe_names,
)
from srbench_eval.models.recipes.spec import Recipe


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
    pub = [published_row(e) for e in published.PUBLISHED.values()]
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
    recipe, label = get_recipe(name), get_recipe(name).label
    if overrides:
        recipe, label = apply_overrides(recipe, list(overrides))
    d = {"label": label, **recipe.to_dict(), "generator_parameters": generator_parameters(recipe)}
    click.echo(json.dumps(d, indent=2))
