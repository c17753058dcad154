"""Published cells beside measured ones, and the paper's claims checked on measured values.

Measured values are a flat mapping ``{(table, row, dataset, metric): value}``: the table and row of
the paper's data file that a study member reproduces (a study spec maps each member to its row),
the value its mean over seeds. :func:`published_values` gives the paper's own cells in that form,
so the claims can be checked on the paper itself (they all hold there).

A claim's *units* are its (dataset, metric) pairs (one per metric for ``mean_difference``). A unit is
reproduced when the measured values keep the direction the paper claims:

* ``below`` / ``above``: ``x_row < x_r`` (``>``) for every ``r`` in ``than``;
* ``best``: ``rank(row) <= at_most`` with ``rank = 1 + #{r in among : r better than row}`` (strictly
  better in the metric's direction, so ties share a rank);
* ``worst``: no ``r`` in ``among`` is strictly worse than ``row``;
* ``mean_difference``: ``mean_d (x_row,d - x_than,d)`` has the sign of the stated difference.

A unit whose cells are not all measured is counted apart ("not measured"), never as a failure.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from srbench_eval.metrics.facts import METRIC_FACTS
from srbench_eval.papers.loader import parse_cell
from srbench_eval.papers.records import Cell, Claim, Paper

#: ``(table, row, dataset, metric) -> value``.
Values = Mapping[tuple[str, str, str, str], float]


def _fmt(value: float | None, decimals: int) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{decimals}f}"


def cell_text(published: Cell | str, measured: float | None, std: float | None = None) -> str:
    """``"0.1304 → 0.1287 (±0.0021)"``: the published cell as printed, the measured value (and its
    standard deviation over seeds, left out when ``None``: one seed) at the published precision.

    >>> cell_text("0.1304", 0.12871, 0.00213)
    '0.1304 → 0.1287 (±0.0021)'
    >>> cell_text("26.69", 26.7449)
    '26.69 → 26.74'
    """
    cell = published if isinstance(published, Cell) else parse_cell(published)
    text = f"{cell.text} → {_fmt(measured, cell.decimals)}"
    if std is not None and math.isfinite(std) and measured is not None:
        text += f" (±{std:.{cell.decimals}f})"
    return text


def published_values(paper: Paper) -> dict[tuple[str, str, str, str], float]:
    """Every published cell of ``paper`` as :data:`Values`."""
    return {
        (table.id, row.id, dataset, metric): cell.value
        for table in paper.tables
        for row in table.rows
        for dataset, metrics in row.cells.items()
        for metric, cell in metrics.items()
    }


@dataclass(frozen=True)
class ClaimResult:
    """How many units of a claim the measured values reproduce; ``detail``: e.g. the measured mean
    difference."""

    claim: Claim
    reproduced: int
    measured: int
    total: int
    detail: str = ""

    @property
    def line(self) -> str:
        """``"ESRGAN-DP LPIPS below ESRGAN on all four sets (Table 5): reproduced 3/4"``."""
        if self.measured == 0:
            return f"{self.claim.text}: not measured"
        text = f"{self.claim.text}: reproduced {self.reproduced}/{self.measured}"
        notes = [self.detail] if self.detail else []
        if self.measured < self.total:
            notes.append(f"{self.total - self.measured} of {self.total} not measured")
        return text + (f" ({'; '.join(notes)})" if notes else "")


def _better(metric: str, a: float, b: float) -> bool:
    """Whether ``a`` is strictly better than ``b`` in ``metric``'s direction."""
    return a > b if METRIC_FACTS[metric].higher_is_better else a < b


def _unit(claim: Claim, metric: str, x: float, others: list[float]) -> bool:
    """Whether one (dataset, metric) unit holds: ``x`` is the claim's row, ``others`` the rows it is
    compared with (``than``, or ``among`` without the row itself)."""
    if claim.kind == "below":
        return all(x < o for o in others)
    if claim.kind == "above":
        return all(x > o for o in others)
    if claim.kind == "best":
        return 1 + sum(_better(metric, o, x) for o in others) <= claim.at_most
    return not any(_better(metric, x, o) for o in others)  # worst


def _rows_needed(claim: Claim, paper: Paper) -> list[str]:
    """The claim's row first, then the rows it is compared with (``among`` default: the table's)."""
    if claim.kind in ("best", "worst") and not claim.among:
        others = [r.id for r in paper.table(claim.table).rows if r.id != claim.row]
        return [claim.row, *others]
    return list(dict.fromkeys((claim.row, *claim.than, *claim.among)))


def _mean_difference(claim: Claim, values: Values, metric: str) -> tuple[float | None, int]:
    diffs = []
    for dataset in claim.datasets:
        x = values.get((claim.table, claim.row, dataset, metric))
        y = values.get((claim.table, claim.than[0], dataset, metric))
        if x is None or y is None:
            return None, 0
        diffs.append(x - y)
    return sum(diffs) / len(diffs), 1


def evaluate_claim(claim: Claim, paper: Paper, measured: Values) -> ClaimResult:
    """Check one claim on ``measured`` (see the module docstring)."""
    if claim.kind == "mean_difference":
        assert claim.value is not None
        reproduced = measured_units = 0
        details = []
        for metric in claim.metrics:
            mean, n = _mean_difference(claim, measured, metric)
            if mean is None:
                continue
            measured_units += n
            reproduced += int(math.copysign(1, mean) == math.copysign(1, claim.value.value) and mean != 0)
            details.append(f"measured {mean:+.{claim.value.decimals}f}, published {claim.value.text}")
        return ClaimResult(claim, reproduced, measured_units, len(claim.metrics), "; ".join(details))
    rows = _rows_needed(claim, paper)
    reproduced = measured_units = 0
    for dataset in claim.datasets:
        for metric in claim.metrics:
            values = [measured.get((claim.table, r, dataset, metric)) for r in rows]
            known = [v for v in values if v is not None and math.isfinite(v)]
            if len(known) < len(rows):
                continue
            measured_units += 1
            others = [v for r, v in zip(rows, known, strict=True) if r != claim.row]
            reproduced += _unit(claim, metric, known[rows.index(claim.row)], others)
    return ClaimResult(claim, reproduced, measured_units, len(claim.datasets) * len(claim.metrics))


def check_claims(paper: Paper, measured: Values, tables: Collection[str] = ()) -> list[str]:
    """One line per claim of ``paper`` (of ``tables`` only, when given):
    ``"ESRGAN-DP LPIPS below ESRGAN on all four sets (Table 5): reproduced 3/4"``."""
    return [
        evaluate_claim(claim, paper, measured).line
        for claim in paper.claims
        if not tables or claim.table in tables
    ]
