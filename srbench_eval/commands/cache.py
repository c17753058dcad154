"""`srbench-eval cache list|prune`: the SR cache under $SRBENCH_DATA/sr-cache."""

from __future__ import annotations

import click


@click.group()
def cache() -> None:
    """The SR cache: networks' SR images reused by later runs (`run --no-cache` bypasses it)."""


@cache.command("list")
def list_entries() -> None:
    """One line per model, protocol, scale, mode and device: entries and size."""
    from srbench_eval.evaluation.cache import cache_dir, entries

    groups: dict[str, list[int]] = {}
    for e in entries():
        f = e.fields
        label = (
            f"{str(f.get('model', '?'))[:24]}  x{f.get('scale', '?')}  {f.get('device', '?')}  "
            f"{_mode(f.get('inference', {}))}  {_protocol(f.get('protocol', {}))}"
        )
        g = groups.setdefault(label, [0, 0])
        g[0], g[1] = g[0] + 1, g[1] + e.size
    click.echo(f"{cache_dir()}: {sum(g[0] for g in groups.values())} entries")
    for label, (n, size) in sorted(groups.items()):
        click.echo(f"  {n:6d}  {size / 1e6:9.1f} MB  {label}")


def _mode(m: dict) -> str:
    return ("+" if m.get("self_ensemble") else "") + str(m.get("precision", "fp32"))


def _protocol(p: dict) -> str:
    return ",".join(
        f"{k}={v}" for k, v in sorted(p.items()) if k in ("degradation", "border", "network_input")
    )


@cache.command()
@click.option("--older-than", type=float, default=0.0, show_default=True, help="Days since written (0: all).")
@click.option("--model", default=None, help="Only entries of this model digest (a suffix of it).")
def prune(older_than: float, model: str | None) -> None:
    """Remove entries (all, or older than N days, or of one model) and stale temporary files."""
    from srbench_eval.evaluation.cache import cache_dir
    from srbench_eval.evaluation.cache import prune as prune_entries

    removed, freed = prune_entries(older_than_days=older_than, model=model)
    click.echo(f"{cache_dir()}: removed {removed} files, {freed / 1e6:.1f} MB")
