"""`srbench-eval protocols`: the named evaluation protocols, their fields and what each reproduces."""

from __future__ import annotations

import click

from srbench_eval.protocol import FIELDS, PROFILES, choices, resolve


@click.command()
@click.argument("name", required=False)
def protocols(name: str | None) -> None:
    """List the protocol profiles (or show one): their fields and the published code each reproduces.

    Use one with `run --protocol NAME`; change a field with `--protocol-set FIELD=VALUE`."""

    shown = [resolve(name)] if name else list(PROFILES.values())
    width = max(len(f) for f in FIELDS)
    header = ["profile", *FIELDS]
    rows = [[p.name, *(_text(getattr(p, f)) for f in FIELDS)] for p in shown]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    click.echo("")
    for p in shown:
        click.echo(f"{p.name}: {p.reproduces}")
    click.echo("")
    click.echo("fields (--protocol-set FIELD=VALUE):")
    for f in FIELDS:
        click.echo(f"  {f:<{width}}  {choices(f)}")


def _text(value: object) -> str:
    return "scale" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
