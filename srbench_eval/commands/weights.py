"""`srbench-eval weights list|fetch|verify`: the pretrained files that metrics and losses need.

Each file lives where its library reads it, ``$TORCH_HOME/hub/checkpoints``; fetching on a connected
machine and copying that folder to an air-gapped one is all an offline node needs.
"""

from __future__ import annotations

import click

from srbench_eval import weights as w
from srbench_eval.errors import SrbenchError

_NAMES = click.argument("names", nargs=-1, metavar="[NAME]...")
_STATE = {"ok": "present", "missing": "MISSING", "mismatch": "NOT GENUINE"}


def _short_users(f: w.WeightFile) -> str:
    return ", ".join(f.used_by)


@click.group()
def weights() -> None:
    """List, fetch and verify the pretrained weights that metrics and losses load.

    NAME is a weights key (alexnet, inception-fid, ...) or a metric/loss name (lpips, fid, ...);
    no NAME means every file.
    """


@weights.command("list")
@_NAMES
def list_(names: tuple[str, ...]) -> None:
    """Show each file: key, users, file name, SHA-256 prefix, state, URL and path."""
    keys = w.keys_for(names)
    click.echo(f"hub cache: {w.checkpoint_dir()}  (follows $TORCH_HOME)")
    width = max(len(k) for k in keys)
    for key in keys:
        s = w.status(key)
        click.echo(
            f"{key:<{width}}  {_STATE[s.state]:<11}  sha256 {s.file.sha256_prefix}...  {s.file.filename}  "
            f"[{_short_users(s.file)}]"
        )
        click.echo(f"{'':<{width}}  url  {s.file.url}")
        click.echo(f"{'':<{width}}  path {s.path}")


@weights.command("fetch")
@_NAMES
@click.option("--quiet", is_flag=True, help="No download progress bars.")
def fetch(names: tuple[str, ...], quiet: bool) -> None:
    """Download missing (or non-genuine) files into the hub cache, checking their SHA-256 prefix."""
    for key in w.keys_for(names):
        before = w.status(key)
        if before.ok:
            click.echo(f"{key}: present {before.path}")
            continue
        after = w.fetch(key, progress=not quiet)
        click.echo(f"{key}: fetched {after.path}")


@weights.command("verify")
@_NAMES
def verify(names: tuple[str, ...]) -> None:
    """Hash each file and compare with its published SHA-256 prefix; fail if any is missing or wrong."""
    bad = []
    for key in w.keys_for(names):
        s = w.status(key)
        click.echo(f"{key}: {'ok' if s.ok else _STATE[s.state].lower()}  {s.path}")
        if not s.ok:
            bad.append(f"{key} ({_STATE[s.state].lower()})")
    if bad:
        raise SrbenchError(
            f"{len(bad)} weights file(s) not usable: {', '.join(bad)}; run 'srbench-eval weights fetch' "
            f"on a connected machine, or copy its hub cache into {w.checkpoint_dir()}"
        )
