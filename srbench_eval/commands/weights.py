"""`srbench-eval weights` commands."""

from __future__ import annotations

import click


@click.group()
def weights() -> None:
    """Weights commands."""
