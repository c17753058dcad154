"""`srbench-eval models`: list the recipes of the model zoo, show one with overrides applied."""

from __future__ import annotations

import json

import click
from tabulate import tabulate

from srbench_eval.models import checkpoints
from srbench_eval.models.recipes import (
    Recipe,
    apply_overrides,
    discriminator_parameters,
    generator_parameters,
    get_recipe,
    recipe_names,
)


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


@models.command("list")
def list_models() -> None:
    """Every recipe: architecture, parameters (paper size), losses with weights, scales, checkpoint."""
    rows = [recipe_row(get_recipe(name)) for name in recipe_names()]
    click.echo(tabulate(rows, headers="keys", tablefmt="simple"))
    where = f"{checkpoints.checkpoint_dir()}/<recipe>/"
    click.echo(f"\ncheckpoints are looked up in {where} (set ${checkpoints.CHECKPOINTS_ENV} to change)")


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
