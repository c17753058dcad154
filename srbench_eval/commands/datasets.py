"""`srbench-eval datasets` commands."""

from __future__ import annotations

import click


@click.group()
def datasets() -> None:
    """Datasets commands."""
