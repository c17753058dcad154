"""`srbench-eval train`."""

from __future__ import annotations

import click


@click.command()
def train() -> None:
    """Train a recipe (see the training issue)."""
    raise click.ClickException("training is not available yet")
