"""A spec study's table in the paper's layout: the paper's rows in its order, one column per dataset
holding the paper's metrics in its printed order (``SSIM / PSNR / LPIPS`` for Table 1), each cell
``published → measured (±std)`` (:func:`srbench_eval.papers.cell_text`); the paper's claims checked
on the measured means (:func:`srbench_eval.papers.check_claims`); the paired differences of every
member against the spec's reference; and footnotes: the protocol, the members' notes and, where the
paper's row was measured under other conventions, which one it is consistent with
(:mod:`srbench_eval.papers.quirks`).

Statistics are the study's (:mod:`srbench_eval.studies.table`): per member, dataset and metric the
mean over images of each seed ``m_s``, shown as ``mean_s(m_s)`` with the sample standard deviation
over seeds; a ready member (``esrgan@pub``, ``bicubic``) has one value and no spread, and is paired
with every seed of the others.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from srbench_eval.files import write_text_atomic
from srbench_eval.papers import cell_text, check_claims, load
from srbench_eval.papers.quirks import QUIRKS_FILE, footnote, load_quirks
from srbench_eval.papers.specs import StudySpec
from srbench_eval.protocol import resolve
from srbench_eval.reports import statistics as stats
from srbench_eval.runs.results import ImageValue, read_csv
from srbench_eval.studies.members import is_finished
from srbench_eval.studies.spec import Study
from srbench_eval.studies.specs import absent_file, folder_name, ready_folder, trained_members
from srbench_eval.studies.table import SeedSummary, paired_comparisons, seed_summaries

Rows = dict[tuple[str, int], list[ImageValue]]


@dataclass
class SpecResult:
    """The spec study's statistics, claim lines and rendered table."""

    summaries: list[SeedSummary]
    comparisons: list[stats.Comparison]
    missing: list[str] = field(default_factory=list)
    absent: dict[str, str] = field(default_factory=dict)  # ready member -> why its weights are absent
    claims: list[str] = field(default_factory=list)
    table: str = ""


def collect_spec(spec: StudySpec, study: Study, root: Path) -> tuple[Rows, Rows, list[str], dict[str, str]]:
    """Per-image rows keyed by (member label, seed): for the summaries (a ready member once), for
    the pairing (a ready member under every seed); the unfinished members; the ready members whose
    weights were absent (label -> why; their cells stay printed only)."""
    label_of = {folder_name(m): m.label for m in spec.members}
    rows: Rows = {}
    paired: Rows = {}
    missing = []
    absent = {}
    for m in trained_members(spec, study):
        label = label_of[m.variant]
        path = m.folder(root) / "run" / "results.csv"
        if not is_finished(study, m, root) or not path.is_file():
            missing.append(f"{label} seed {m.seed}")
            continue
        rows[(label, m.seed)] = paired[(label, m.seed)] = [replace(r, model=label) for r in read_csv(path)]
    for r in spec.members:
        if r.recipe is not None:
            continue
        path = ready_folder(root, r) / "results.csv"
        if not path.is_file():
            marker = absent_file(root, r)
            if marker.is_file():
                absent[r.label] = marker.read_text(encoding="utf-8").strip()
            else:
                missing.append(r.label)
            continue
        values = [replace(v, model=r.label) for v in read_csv(path)]
        rows[(r.label, study.seeds[0])] = values
        paired.update({(r.label, s): values for s in study.seeds})
    return rows, paired, missing, absent


def _pairs(spec: StudySpec) -> list[tuple[str, str]]:
    if spec.pairs:
        return list(spec.pairs)
    reference = spec.reference or spec.members[0].label
    return [(m.label, reference) for m in spec.members if m.label != reference]


def _measured(summaries: list[SeedSummary]) -> dict[tuple[str, str, str], SeedSummary]:
    return {(s.variant, s.dataset, s.metric): s for s in summaries}


def _digits(metric: str) -> int:
    return 2 if metric == "psnr" else 4


def _plain(s: SeedSummary | None, metric: str) -> str:
    if s is None or not math.isfinite(s.mean):
        return "-"
    d = _digits(metric)
    return f"{s.mean:.{d}f}" + (f" (±{s.std:.{d}f})" if s.std is not None else "")


def _paper_rows(spec: StudySpec, study: Study, result: SpecResult) -> list[str]:
    """The paper's table with measured values beside the published ones, and its claims checked."""
    assert spec.paper is not None and spec.table is not None
    paper = load(spec.paper)
    table = paper.table(spec.table)
    datasets = [d for d in table.datasets if d in study.datasets] or list(table.datasets)
    metrics = [m for m in table.metrics if m in spec.metrics] or list(table.metrics)
    by_row = {m.row: m for m in spec.members if m.row is not None}
    measured = _measured(result.summaries)
    names = " / ".join(m.upper() for m in metrics)
    lines = [f"## {table.caption}", "", f"Each cell: {names}, published → measured (±std over seeds).", ""]
    lines.append("| row | member | " + " | ".join(datasets) + " |")
    lines.append("|---|---|" + "---|" * len(datasets))
    values = {}
    for row in table.rows:
        member = by_row.get(row.id)
        if member is not None and member.label in result.absent:
            member = None  # weights absent: printed cells only
        cells = []
        for d in datasets:
            parts = []
            for metric in metrics:
                s = measured.get((member.label, d, metric)) if member is not None else None
                if s is not None:
                    values[(table.id, row.id, d, metric)] = s.mean
                published = row.cells.get(d, {}).get(metric)
                if published is None:
                    parts.append("- → " + _plain(s, metric))
                elif member is None:
                    parts.append(published.text)
                else:
                    parts.append(
                        cell_text(published, None if s is None else s.mean, None if s is None else s.std)
                    )
            cells.append(" / ".join(parts))
        shown = member.label if member is not None else "printed only"
        if row.id in by_row and by_row[row.id].label in result.absent:
            shown = f"{by_row[row.id].label}: weights absent, printed only"
        printed = row.printed if row.printed and "$" not in row.printed else row.label  # no LaTeX
        lines.append(f"| {printed} | {shown} | " + " | ".join(cells) + " |")
    result.claims = check_claims(paper, values, [table.id])
    if result.claims:
        lines += ["", "Claims of the paper, checked on the measured means:", ""]
        lines += [f"- {c}" for c in result.claims]
    return lines


def _measured_rows(spec: StudySpec, study: Study, result: SpecResult) -> list[str]:
    measured = _measured(result.summaries)
    names = " / ".join(m.upper() for m in spec.metrics)
    lines = [f"Each cell: {names}, mean (±std over seeds); no published cells.", ""]
    lines.append("| member | " + " | ".join(study.datasets) + " |")
    lines.append("|---|" + "---|" * len(study.datasets))
    for m in spec.members:
        cells = [
            " / ".join(_plain(measured.get((m.label, d, k)), k) for k in spec.metrics) for d in study.datasets
        ]
        lines.append(f"| {m.label} | " + " | ".join(cells) + " |")
    return lines


def _comparison_lines(result: SpecResult) -> list[str]:
    if not result.comparisons:
        return []
    lines = [
        "",
        f"## Paired differences, member - reference (seeds x images; 95% percentile bootstrap CI, "
        f"{stats.RESAMPLES} resamples, seed {stats.SEED})",
        "",
        "| member | reference | dataset | metric | pairs | mean diff | 95% CI | p (Wilcoxon) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in result.comparisons:
        d = _digits(c.metric) + 1
        ci = (
            f"[{c.ci_low:.{d}f}, {c.ci_high:.{d}f}]"
            if c.ci_low is not None and c.ci_high is not None
            else "-"
        )
        p = "-" if c.p_wilcoxon is None else f"{c.p_wilcoxon:.3g}"
        lines.append(
            f"| {c.model} | {c.reference} | {c.dataset} | {c.metric} | {c.n} | "
            f"{c.mean_diff:+.{d}f} | {ci} | {p} |"
        )
    return lines


def _footnotes(spec: StudySpec, study: Study, result: SpecResult) -> list[str]:
    lines = ["", "Notes:", ""]
    lines.append(f"- {resolve(study.protocol, study.protocol_set).describe(study.scale or 4)}.")
    if spec.protocol_note:
        lines.append(f"- Protocol: {spec.protocol_note}")
    lines += [f"- {m.label}: {m.note}" for m in spec.members if m.note]
    lines += [f"- {label}: not evaluated, {why}." for label, why in result.absent.items()]
    if spec.notes:
        lines.append(f"- {spec.notes}")
    if spec.paper is not None and QUIRKS_FILE.is_file():
        quirks = load_quirks()
        if (quirks.paper, quirks.table) == (spec.paper, spec.table):
            lines += [f"- {line}" if i == 0 else f"  {line}" for i, line in enumerate(footnote(quirks))]
    return lines


def render_spec_table(spec: StudySpec, study: Study, result: SpecResult) -> str:
    iterations = f" for {study.iterations} iterations" if study.iterations else ""
    lines = [f"# {spec.title}", ""]
    lines.append(
        f"Study spec {spec.name}: preset {study.preset}, x{study.scale or 4}, trained on {study.data}"
        f"{iterations}, seeds {', '.join(map(str, study.seeds))}."
    )
    if result.missing:
        lines.append(f"**Unfinished members (not in the table): {', '.join(result.missing)}.**")
    lines.append("")
    body = _paper_rows(spec, study, result) if spec.paper is not None else _measured_rows(spec, study, result)
    lines += body + _comparison_lines(result) + _footnotes(spec, study, result)
    return "\n".join(lines) + "\n"


def write_spec_table(spec: StudySpec, study: Study, root: Path) -> SpecResult:
    """Compute the spec study's statistics from its finished members; write ``table.md`` and
    ``summary.json``."""
    rows, paired, missing, absent = collect_spec(spec, study, root)
    order = [m.label for m in spec.members]
    done = {label for label, _ in rows}
    pairs = [(a, b) for a, b in _pairs(spec) if a in done and b in done]
    result = SpecResult(
        seed_summaries(rows, order), paired_comparisons(paired, order, pairs), missing, absent
    )
    result.table = render_spec_table(spec, study, result)
    write_text_atomic(root / "table.md", result.table)
    summary = {
        "spec": spec.name,
        "study": study.to_json(),
        "summaries": [asdict(s) for s in result.summaries],
        "comparisons": [asdict(c) for c in result.comparisons],
        "claims": result.claims,
        "missing": result.missing,
        "weights_absent": result.absent,
    }
    text = json.dumps(summary, indent=2, default=lambda v: str(v)) + "\n"
    write_text_atomic(root / "summary.json", text)
    return result
