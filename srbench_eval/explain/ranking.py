"""Targets (a published number with its printed precision) and the ranking of conventions against them.

A target is ``"DATASET xS METRIC=VALUE ..."`` (``"set5 x4 psnr=32.46 ssim=0.8968"``), or a bare number
(PSNR of the only dataset and scale given). A convention *reproduces* a target when its mean rounds to
the printed value: ``|mean - value| <= 0.5 * 10^-d`` with ``d`` the printed decimals (plus 1e-9 for the
float representation of the printed number). The ranking puts the reproducing conventions first, then
the rest by ``|mean - value|``; conventions giving the same number (within :data:`SAME`; for given
SR images every LR generator does) are one row, named by the first of them (profiles first,
``matlab`` first of all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from srbench_eval.errors import SrbenchError
from srbench_eval.explain.scoring import METRICS, Outcome
from srbench_eval.models.published import registry as published


@dataclass(frozen=True)
class Target:
    """One printed number: ``metric`` of ``dataset`` at ``scale`` is ``value`` to ``decimals`` places."""

    dataset: str
    scale: int
    metric: str
    value: float
    decimals: int

    @property
    def tolerance(self) -> float:
        """Half a unit of the last printed digit."""
        return 0.5 * 10.0**-self.decimals

    def describe(self) -> str:
        return f"{self.dataset} x{self.scale} {self.metric.upper()} {self.value:.{self.decimals}f}"


def _decimals(raw: str) -> int:
    text = raw.lower().split("e")[0]
    return len(text.split(".")[1]) if "." in text else 0


def _value(raw: str, text: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise SrbenchError(f"--target '{text}': '{raw}' is not a number") from None


def parse_target(text: str, dataset: str | None = None, scale: int | None = None) -> list[Target]:
    """The targets of one ``--target`` text (see the module docstring); ``dataset`` and ``scale``
    stand in for those the text leaves out."""
    pairs: list[tuple[str, str]] = []
    for token in text.replace(",", " ").split():
        if "=" in token:
            metric, _, raw = token.partition("=")
            if metric.lower() not in METRICS:
                raise SrbenchError(f"--target '{text}': unknown metric '{metric}' (use {', '.join(METRICS)})")
            pairs.append((metric.lower(), raw))
        elif token[:1] in "xX" and token[1:].isdigit():
            scale = int(token[1:])
        elif token.replace(".", "", 1).isdigit():
            pairs.append(("psnr", token))
        else:
            dataset = token
    if not pairs:
        raise SrbenchError(f"--target '{text}': no value; write e.g. \"set5 x4 psnr=32.46\"")
    if dataset is None or scale is None or scale < 1:
        raise SrbenchError(f"--target '{text}': name the dataset and the scale, e.g. \"set5 x4 psnr=32.46\"")
    return [Target(dataset, scale, m, _value(raw, text), _decimals(raw)) for m, raw in pairs]


SAME = 1e-7
"""Means closer than this are one value (float32 against float64 Y moves the 9th digit)."""


def _printed_decimals(value: float) -> int:
    """The decimals of a number as stored (a trailing zero of the table, ``.9090``, is lost: the
    tolerance is then that of one decimal fewer, never tighter than printed)."""
    text = repr(float(value))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def published_targets(name: str, dataset: str | None = None, scale: int | None = None) -> list[Target]:
    """The printed cells of published model ``name`` (``NAME@pub``) as targets, restricted to
    ``dataset`` and ``scale`` when given; a one-line error when none is left."""
    entry = published.get(name)
    out = []
    for cell in entry.scores:
        if (dataset and cell.dataset != dataset.lower()) or (scale and cell.scale != scale):
            continue
        out.append(Target(cell.dataset, cell.scale, "psnr", cell.psnr, _printed_decimals(cell.psnr)))
        if cell.ssim is not None:
            out.append(Target(cell.dataset, cell.scale, "ssim", cell.ssim, _printed_decimals(cell.ssim)))
    if not out:
        where = " ".join(x for x in (dataset or "", f"x{scale}" if scale else "") if x)
        raise SrbenchError(f"--cells {name}: no printed cell{' for ' + where if where else ''}")
    return out


@dataclass(frozen=True)
class Row:
    """One line of a ranking: a convention (and those giving the same number), its value, the
    difference from the target and whether it reproduces it."""

    convention: str
    command: str
    value: float | None
    difference: float | None
    reproduces: bool
    same_as: tuple[str, ...] = ()
    source: str = ""
    error: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "convention": self.convention,
            "value": self.value,
            "difference": self.difference,
            "reproduces": self.reproduces,
            "command": self.command,
            "same_value": list(self.same_as),
            "source": self.source,
            **({"error": self.error} if self.error else {}),
        }


def rank(target: Target, outcomes: Sequence[Outcome]) -> list[Row]:
    """The ranking of ``outcomes`` against ``target`` (see the module docstring)."""
    rows: list[Row] = []
    failed: list[Row] = []
    for o in outcomes:
        c = o.convention
        if o.error or target.metric not in o.means:
            failed.append(Row(c.name, c.command(), None, None, False, source=c.source, error=o.error))
            continue
        value = o.means[target.metric]
        same = [i for i, r in enumerate(rows) if r.value is not None and abs(r.value - value) <= SAME]
        if same:
            i = same[0]
            rows[i] = Row(**{**rows[i].__dict__, "same_as": (*rows[i].same_as, c.name)})
            continue
        diff = value - target.value
        rows.append(
            Row(c.name, c.command(), value, diff, abs(diff) <= target.tolerance + 1e-9, source=c.source)
        )
    # reproducing rows in the order tried (profiles, the default first), the others by distance
    order = sorted(
        range(len(rows)),
        key=lambda i: (
            not rows[i].reproduces,
            0.0 if rows[i].reproduces else abs(rows[i].difference or 0.0),
            i,
        ),
    )
    return [rows[i] for i in order] + failed


__all__ = ["Row", "Target", "parse_target", "published_targets", "rank"]
