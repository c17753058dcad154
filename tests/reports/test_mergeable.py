"""`table` merges only comparable runs: same protocol, crop, metric options and dataset pixels."""

from __future__ import annotations

import pytest

from srbench_eval.errors import SrbenchError
from srbench_eval.protocol import resolve
from srbench_eval.reports.tables import build_table, to_markdown
from srbench_eval.runs.results import Summary, SummaryEntry

METRICS = {
    "psnr": {"label": "PSNR", "higher_is_better": True, "per_image": True, "decimals": 2, "options": {}}
}


def _run(
    model: str,
    value: float,
    protocol: str = "matlab",
    sets: tuple[str, ...] = (),
    digest: str = "a" * 64,
    metrics: dict | None = None,
) -> Summary:
    p = resolve(protocol, sets)
    prov = {
        "protocol": {**p.to_json(), "scale": 4, "crop_border": p.crop(4), "description": p.describe(4)},
        "datasets": {"set5": {"title": "Set5", "manifest_digest": digest}},
    }
    return Summary([SummaryEntry(model, "set5", 4, "psnr", value, 5)], metrics or METRICS, prov, {})


def test_same_protocol_merges_with_one_protocol_note() -> None:
    md = to_markdown(build_table([_run("a", 30.0), _run("b", 29.0)]))
    assert "| Set5      | PSNR ↑   | **30.00** | <ins>29.00</ins> |" in md
    assert md.count("_protocol matlab:") == 1


@pytest.mark.parametrize(
    ("other", "field"),
    [
        (_run("b", 29.0, "selfexsr"), "protocol border (symmetric vs clamp)"),
        (_run("b", 29.0, sets=("crop_border=0",)), "crop_border (scale vs 0)"),
        (_run("b", 29.0, digest="b" * 64), "set5 manifest"),
        (_run("b", 29.0, metrics={"psnr": {**METRICS["psnr"], "options": {"x": 1}}}), "psnr options"),
    ],
)
def test_different_conventions_are_refused_naming_the_field(other: Summary, field: str) -> None:
    with pytest.raises(
        SrbenchError,
        match="run 2 \\(b\\) differs from run 1 in " + field.replace("(", r"\(").replace(")", r"\)"),
    ):
        build_table([_run("a", 30.0), other])


def test_allow_mixed_marks_each_group_of_columns_with_its_protocol() -> None:
    runs = [_run("bicubic", 28.0), _run("bicubic", 28.1, "selfexsr"), _run("x", 30.0)]
    md = to_markdown(build_table(runs, allow_mixed=True))
    header = md.splitlines()[0]
    assert "bicubic " in header and "bicubic¹" in header and " x " in header  # the same model twice
    assert "_protocol matlab:" in md and "_¹ protocol selfexsr:" in md


def test_runs_without_a_named_protocol_are_the_default() -> None:
    old = Summary(
        [SummaryEntry("old", "set5", 4, "psnr", 28.0, 5)],
        METRICS,
        {"protocol": {"scale": 4, "crop_border": 4}},
        {},
    )
    assert "old" in to_markdown(build_table([old, _run("a", 30.0)]))
    with pytest.raises(SrbenchError, match="protocol border"):
        build_table([old, _run("b", 29.0, "matlab-legacy")])


def test_a_sweep_footnote_gives_crop_ranges_and_the_size_rule() -> None:
    """A ``--scale 1.5:4:0.5`` footnote: neighbouring scales with one crop read as a range, and a
    modcrop profile says that its non-integer scales took Meta-SR's sizes (one scale named, or the
    count); LIIF/Meta-SR profiles already say their rule in their description."""
    from srbench_eval.reports.mergeable import crops_per_scale, group_note

    assert crops_per_scale([2, 3, 4], [2, 3, 4]) == "2 at ×2, 3 at ×3, 4 at ×4"
    assert crops_per_scale([1.5, 2, 2.5, 3, 3.5], [2, 2, 3, 3, 4]) == "2 at ×1.5–×2, 3 at ×2.5–×3, 4 at ×3.5"
    assert crops_per_scale([2, 4, 2], [2, 4, 2]) == "2 at ×2, 4 at ×4, 2 at ×2"  # neighbours only

    def note(protocol: str, scales: list[float]) -> str:
        p = resolve(protocol)
        recorded = {**p.to_json(), "scale": scales, "crop_border": [p.crop(s) for s in scales]}
        recorded["description"] = p.describe(scales[-1])
        run = Summary([], METRICS, {"protocol": recorded}, {})
        return group_note(run)

    assert note("matlab", [2.0, 2.5, 3.0]).endswith("crop 2 at ×2.0, 3 at ×2.5–×3.0, Meta-SR sizes at ×2.5")
    assert note("matlab", [1.5, 2.5]).endswith(", Meta-SR sizes at the 2 non-integer scales")
    assert "non-integer" not in note("metasr", [1.5, 2.5]) and "Meta-SR sizes at" not in note("metasr", [1.5])
    assert note("matlab", [2, 4]).endswith("crop 2 at ×2, 4 at ×4")
