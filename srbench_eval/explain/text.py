"""The ranked table `explain` prints: one block per target, the reproducing conventions first."""

from __future__ import annotations

from srbench_eval.explain.engine import Explanation
from srbench_eval.explain.ranking import Row, Target


def _cells(row: Row, target: Target) -> list[str]:
    digits = target.decimals + 2
    if row.value is None:
        return [row.convention, "n/a", "", "no", row.error]
    same = f" (= {', '.join(row.same_as)})" if row.same_as else ""
    return [
        row.convention + same,
        f"{row.value:.{digits}f}",
        f"{row.difference:+.{digits}f}",
        "yes" if row.reproduces else "no",
        row.command,
    ]


def _verdict(rows: tuple[Row, ...], target: Target) -> str:
    found = [r for r in rows if r.reproduces]
    if found:
        best = found[0]
        return f"=> reproduced by {best.convention}: srbench-eval run {best.command}"
    near = [r for r in rows if r.value is not None][:3]
    shown = "; ".join(
        f"{r.convention} {r.value:.{target.decimals + 2}f} ({r.difference:+.{target.decimals + 2}f})"
        for r in near
    )
    return f"=> no convention reproduces {target.describe()} (within ±{target.tolerance:g}); nearest: {shown}"


def render(explanation: Explanation, top: int = 0) -> str:
    """The ranked tables (``top``: rows shown per target, 0 for all) and the verdicts."""
    lines = [
        f"explain {explanation.source}: {explanation.conventions} conventions, {explanation.images} images, "
        f"{explanation.seconds:.1f} s"
    ]
    header = ["convention", "value", "difference", "reproduces", "run with / why not"]
    for target, rows in zip(explanation.targets, explanation.rankings, strict=True):
        shown = rows[:top] if top else rows
        table = [header, *(_cells(r, target) for r in shown)]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        lines += ["", f"{target.describe()} (printed precision ±{target.tolerance:g})"]
        for i, r in enumerate(table):
            rank = "#" if i == 0 else str(i)
            lines.append(
                f"  {rank:>2}  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            )
        if top and len(rows) > top:
            lines.append(f"      ... {len(rows) - top} more (--top 0 shows all)")
        lines.append(_verdict(rows, target))
    if len(explanation.targets) > 1:
        every = explanation.reproducing_all()
        lines += [
            "",
            f"reproduces every target: {', '.join(every)}"
            if every
            else "no convention reproduces every target",
        ]
    return "\n".join(lines)


__all__ = ["render"]
