"""Which finished runs may share a table: the same protocol, crop, metric options and dataset pixels.

A number means something only with its convention (:mod:`srbench_eval.protocol`). Before ``table``
merges runs, :func:`conventions` reads from each ``summary.json`` what fixes its numbers, and
:func:`check_mergeable` refuses runs that differ, naming the first field that does; with
``allow_mixed`` it returns one footnote per group of runs instead, so a column under another
protocol is never ranked against the others silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from srbench_eval.errors import SrbenchError
from srbench_eval.models.inference import InferenceMode
from srbench_eval.protocol import FIELDS, from_json
from srbench_eval.runs.results import Summary


@dataclass(frozen=True)
class Conventions:
    """What fixes a run's numbers besides its models: ``values`` maps a field name (``protocol
    border``, ``crop_border``, ``lpips options``, ``set5 manifest``) to its value in that run."""

    label: str  # the protocol label, for footnotes
    values: dict[str, object]


def conventions(summary: Summary) -> Conventions:
    """The :class:`Conventions` a ``summary.json`` recorded; a run made before protocols had names
    recorded the default's (only its crop could differ)."""
    recorded = summary.provenance.get("protocol") or {}
    named = "name" in recorded
    protocol = from_json(recorded if named else None)
    values: dict[str, object] = {f"protocol {f}": getattr(protocol, f) for f in FIELDS if f != "crop_border"}
    # The crop as a rule ("scale" or a pixel count), so runs at x2 and x4 with crop = scale agree.
    crop: object = "scale" if protocol.crop_border is None else protocol.crop_border
    if not named and "crop_border" in recorded and recorded["crop_border"] != recorded.get("scale"):
        crop = recorded["crop_border"]  # a run from before protocols had names, with --crop-border
    values["crop_border"] = crop
    mode = inference_mode(summary)  # tiling with enough overlap moves no number: footnote only
    values["inference"] = f"self-ensemble {mode.self_ensemble}, {mode.precision}"
    for name, info in sorted(summary.metrics.items()):
        values[f"{name} options"] = info.get("options", {})
    for name, info in sorted(summary.provenance.get("datasets", {}).items()):
        if info.get("manifest_digest"):
            values[f"{name} manifest"] = info["manifest_digest"]
    return Conventions(protocol.label, values)


def _difference(a: Conventions, b: Conventions) -> str | None:
    for key in a.values:
        if key in b.values and a.values[key] != b.values[key]:
            return f"{key} ({a.values[key]} vs {b.values[key]})"
    return None


def check_mergeable(summaries: Sequence[Summary], allow_mixed: bool = False) -> list[int]:
    """The group of every run (0 for runs comparable with the first run, 1, 2, ... for the others);
    raise :class:`SrbenchError` naming the differing field when runs differ and ``allow_mixed`` is
    off."""
    found = [conventions(s) for s in summaries]
    groups: list[int] = []
    representatives: list[Conventions] = []
    for k, conv in enumerate(found):
        for g, rep in enumerate(representatives):
            if _difference(rep, conv) is None:
                groups.append(g)
                break
        else:
            if representatives and not allow_mixed:
                why = _difference(representatives[0], conv) or _difference(representatives[-1], conv)
                models = ", ".join(sorted({e.model for e in summaries[k].entries})) or "no models"
                raise SrbenchError(
                    f"run {k + 1} ({models}) differs from run 1 in {why}: its numbers are not comparable; "
                    "pass --allow-mixed to merge them with a footnote per column"
                )
            groups.append(len(representatives))
            representatives.append(conv)
    return groups


def inference_mode(summary: Summary) -> InferenceMode:
    """The inference mode a run's config recorded (plain for runs made before modes were recorded)."""
    c = summary.config
    return InferenceMode.from_json(
        {
            "self_ensemble": c.get("self_ensemble", False),
            "precision": c.get("precision", "fp32"),
            "tile": c.get("tile", 0),
            "overlap": c.get("tile_overlap", 0),
        }
    )


def group_note(summary: Summary) -> str:
    """The footnote of a group of columns: the protocol that made its numbers, with the crop, and the
    inference mode of its networks when it is not the plain one."""
    mode = inference_mode(summary)
    return _protocol_note(summary) + ("" if mode.is_plain else f"; {mode.describe()}")


def _protocol_note(summary: Summary) -> str:
    recorded = summary.provenance.get("protocol") or {}
    return _scale_protocol_note(summary, recorded) + _size_rule_note(recorded)


def _scale_protocol_note(summary: Summary, recorded: dict) -> str:
    scales, crops = recorded.get("scale"), recorded.get("crop_border")
    if isinstance(scales, list) and isinstance(crops, list) and len(scales) == len(crops) > 1:
        # a multi-scale run: the description is its last scale's; say the crop of every scale
        text = str(
            recorded.get("description") or from_json(recorded if "name" in recorded else None).describe()
        )
        head, _, tail = text.partition(", crop ")
        rest = tail[len(tail.split(" ")[0].split(",")[0]) :]  # what follows the crop value, its comma kept
        return f"{head}, crop {crops_per_scale(scales, crops)}{rest}"
    if recorded.get("description"):
        return str(recorded["description"])
    crop = conventions(summary).values["crop_border"]
    described = from_json(recorded if "name" in recorded else None).describe()
    return described.rsplit(", crop", 1)[0] + f", crop {crop}"


def crops_per_scale(scales: Sequence[object], crops: Sequence[object]) -> str:
    """``2 at ×2, 3 at ×3``; a run of neighbouring scales with one crop reads as a range
    (``2 at ×1.1–×2, 3 at ×2.1–×3``: a sweep's footnote stays one line)."""
    runs: list[list[object]] = []  # [crop, first scale, last scale]
    for s, c in zip(scales, crops, strict=True):
        if runs and runs[-1][0] == c:
            runs[-1][2] = s
        else:
            runs.append([c, s, s])
    return ", ".join(f"{c} at ×{a}" if a == b else f"{c} at ×{a}–×{b}" for c, a, b in runs)


def _size_rule_note(recorded: dict) -> str:
    """``, Meta-SR sizes at ×2.5`` when a modcrop profile ran at non-integer scales (where every
    profile takes Meta-SR's size rule: :meth:`~srbench_eval.protocol.Protocol.scale_rule`)."""
    scales = recorded.get("scale")
    listed = scales if isinstance(scales, list) else [scales]
    odd = [s for s in listed if isinstance(s, (int, float)) and float(s) != int(s)]
    if not odd or recorded.get("size_rule", "modcrop") != "modcrop":
        return ""
    where = f"×{odd[0]}" if len(odd) == 1 else f"the {len(odd)} non-integer scales"
    return f", Meta-SR sizes at {where}"


__all__ = ["Conventions", "check_mergeable", "conventions", "group_note", "inference_mode"]
