"""`srbench-eval metrics`: every metric the harness computes, with the facts its class declares."""

from __future__ import annotations

import click
from tabulate import tabulate

from srbench_eval import weights
from srbench_eval.metrics import NOT_PROVIDED, Metric, get_metric, metric_names


def metric_row(cls: type[Metric]) -> dict[str, str]:
    """One line of ``metrics``: the facts on the metric class and the weight files it loads."""
    needed = [w.filename for w in weights.WEIGHTS.values() if f"metric {cls.name}" in w.used_by]
    return {
        "metric": cls.name,
        "label": cls.label,
        "better": f"{cls.arrow()} {'higher' if cls.higher_is_better else 'lower'}",
        "kind": "per-image" if cls.per_image else "per-set",
        "input": cls.inputs,
        "reference": "full-ref" if cls.full_reference else "no-ref",
        "weights": ", ".join(needed) or "-",
        "implementation": cls.reference_impl or "-",
    }


@click.command("metrics")
@click.argument("names", nargs=-1, metavar="[NAME]...")
def metrics(names: tuple[str, ...]) -> None:
    """List the metrics (all, or NAME..., case-insensitive): direction, per-image or per-set,
    input (Y = the protocol's border-cropped luma, RGB = whole image), whether the HR image is used,
    the weight files they load (see `srbench-eval weights`) and the implementation they reproduce."""
    classes = [get_metric(n) for n in (names or metric_names())]
    click.echo(tabulate([metric_row(c) for c in classes], headers="keys", tablefmt="simple"))
    if not names:
        click.echo("\nnot provided:")
        for name, reason in NOT_PROVIDED.items():
            click.echo(f"  {name}: {reason}")
