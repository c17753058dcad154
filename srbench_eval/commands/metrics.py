"""`srbench-eval metrics`: every metric the harness computes, with its facts (no metric is imported)."""

from __future__ import annotations

import click
from tabulate import tabulate

from srbench_eval import weights
from srbench_eval.metrics import NOT_PROVIDED, MetricFacts, metric_facts, metric_names


def metric_row(facts: MetricFacts) -> dict[str, str]:
    """One line of ``metrics``: the metric's facts and the weight files it loads."""
    needed = [w.filename for w in weights.WEIGHTS.values() if f"metric {facts.name}" in w.used_by]
    return {
        "metric": facts.name,
        "label": facts.label,
        "better": f"{facts.arrow} {'higher' if facts.higher_is_better else 'lower'}",
        "kind": "per-image" if facts.per_image else "per-set",
        "input": facts.inputs,
        "reference": "full-ref" if facts.full_reference else "no-ref",
        "weights": ", ".join(needed) or "-",
        "implementation": facts.reference_impl or "-",
    }


@click.command("metrics")
@click.argument("names", nargs=-1, metavar="[NAME]...")
def metrics(names: tuple[str, ...]) -> None:
    """List the metrics (all, or NAME..., case-insensitive): direction, per-image or per-set,
    input (Y = the protocol's border-cropped luma, RGB = whole image), whether the HR image is used,
    the weight files they load (see `srbench-eval weights`) and the implementation they reproduce."""
    facts = [metric_facts(n) for n in (names or metric_names())]
    click.echo(tabulate([metric_row(f) for f in facts], headers="keys", tablefmt="simple"))
    if not names:
        click.echo("\nnot provided:")
        for name, reason in NOT_PROVIDED.items():
            click.echo(f"  {name}: {reason}")
