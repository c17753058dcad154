"""Paper-ready tables: LaTeX pdflatex compiles without overfull boxes, crop per scale, scale order,
``--order`` across runs, protocol groups of mixed runs, plain Markdown."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest

from srbench_eval.digests import sha256_text
from srbench_eval.files import write_text_atomic
from srbench_eval.protocol import resolve
from srbench_eval.reports.latex import tex_text
from srbench_eval.reports.layouts import TableOptions, table_text
from srbench_eval.reports.mergeable import group_note
from srbench_eval.runs.finished import load_run
from srbench_eval.runs.results import ImageValue, Summary, SummaryEntry, csv_text

METRICS = {
    "psnr": {"label": "PSNR", "higher_is_better": True, "per_image": True, "decimals": 2, "options": {}},
    "ssim": {"label": "SSIM", "higher_is_better": True, "per_image": True, "decimals": 4, "options": {}},
}
SETS = {"set5": {"title": "Set5"}, "set14": {"title": "Set14"}}


def _protocol(name: str, scales: list[int]) -> dict:
    p = resolve(name, ())
    if len(scales) == 1:
        return {
            **p.to_json(),
            "scale": scales[0],
            "crop_border": p.crop(scales[0]),
            "description": p.describe(4),
        }
    crops = [p.crop(s) for s in scales]
    return {**p.to_json(), "scale": scales, "crop_border": crops, "description": p.describe(scales[-1])}


def _run(folder: Path, models: list[str], scales: list[int], protocol: str = "matlab", offset=0.0) -> Path:
    """A finished run with 6 per-image values per model, dataset, scale and metric."""
    rows, entries = [], []
    for s in scales:
        for j, m in enumerate(models):
            for d in SETS:
                for metric, base in (("psnr", 24.0 + 8 / s), ("ssim", 0.6 + 0.2 / s)):
                    step = 1.0 if metric == "psnr" else 0.01
                    vs = [base + offset + step * (j + 0.1 * i + (0.05 if i % 2 else 0)) for i in range(6)]
                    rows += [ImageValue(m, d, s, f"im{i}", metric, v) for i, v in enumerate(vs)]
                    entries.append(SummaryEntry(m, d, s, metric, statistics.fmean(vs), len(vs)))
    prov = {
        "datasets": SETS,
        "protocol": _protocol(protocol, scales),
        "results_csv_sha256": sha256_text(csv_text(rows)),
    }
    folder.mkdir(parents=True)
    write_text_atomic(folder / "results.csv", csv_text(rows))
    write_text_atomic(folder / "summary.json", Summary(entries, METRICS, prov, {"scale": scales}).to_json())
    return folder


def test_multiscale_footnote_says_the_crop_of_every_scale(tmp_path: Path) -> None:
    run = load_run(_run(tmp_path / "ms", ["bicubic"], [2, 3, 4]))
    assert group_note(run.summary).endswith("crop 2 at ×2, 3 at ×3, 4 at ×4")
    assert "crop 2 at ×2, 3 at ×3, 4 at ×4" in table_text([run], TableOptions())


def test_scale_groups_are_in_increasing_order_across_runs(tmp_path: Path) -> None:
    runs = [load_run(_run(tmp_path / f"x{s}", ["bicubic"], [s])) for s in (4, 2, 3)]
    md = table_text(runs, TableOptions(layout="paper"))
    scales = re.findall(r"^\| (×\d)", md, re.M)
    assert scales == ["×2", "×3", "×4"]
    blocks = re.findall(r"^\| (Set\w+ ×\d)", table_text(runs, TableOptions()), re.M)
    assert blocks == ["Set5 ×2", "Set14 ×2", "Set5 ×3", "Set14 ×3", "Set5 ×4", "Set14 ×4"]


def test_order_applies_to_models_of_every_run(tmp_path: Path) -> None:
    a = load_run(_run(tmp_path / "a", ["bicubic", "rrdb"], [4]))
    b = load_run(_run(tmp_path / "b", ["rcan"], [4], offset=0.5))
    header = table_text([a, b], TableOptions(order=("rcan", "rrdb", "bicubic"))).splitlines()[0]
    assert [c.strip() for c in header.strip("|").split("|")][2:] == ["rcan", "rrdb", "bicubic"]
    paper = table_text([a, b], TableOptions(layout="paper", order=("rcan", "rrdb", "bicubic")))
    assert re.findall(r"^\| (\w+) ", paper, re.M)[1:] == ["rcan", "rrdb", "bicubic"]


def test_mixed_runs_in_the_paper_layout_have_one_header_per_protocol_group(tmp_path: Path) -> None:
    a = load_run(_run(tmp_path / "a", ["bicubic", "rrdb"], [4]))
    b = _run(tmp_path / "b", ["bicubic"], [4], protocol="selfexsr")
    summary = load_run(b).summary  # the second run holds only Set5: its Set14 cell is one dash
    summary.entries[:] = [e for e in summary.entries if e.dataset == "set5"]
    write_text_atomic(b / "summary.json", summary.to_json())
    md = table_text([a, load_run(b)], TableOptions(layout="paper", allow_mixed=True))
    lines = md.splitlines()
    assert lines[0].count("Set5") == 1 and lines[0].count("Set14") == 1
    assert [ln for ln in lines if "_protocol matlab_" in ln] and [
        ln for ln in lines if "_¹ protocol selfexsr_" in ln
    ]
    assert "–/–" not in md
    row = next(ln for ln in lines if ln.startswith("| bicubic¹"))
    assert row.rstrip("| ").endswith("–")


def test_plain_markdown_has_no_html(tmp_path: Path) -> None:
    run = load_run(_run(tmp_path / "a", ["bicubic", "rrdb", "x"], [4]))
    for layout in ("blocks", "paper"):
        md = table_text([run], TableOptions(layout=layout, markdown="plain", reference="bicubic"))
        assert "<" not in md and ">" not in md, md
        assert "**" in md and "_" in md


def test_latex_text_is_ascii() -> None:
    text = "α = 0.05 → 32.749 ± 0.1 ↑↓ †‡ ×4 ∞ – ¹² ✓ café <a|b> 50%_&#~^{}\\"
    out = tex_text(text)
    assert out.isascii()
    assert r"$\alpha$" in out and r"$\rightarrow$" in out and r"$\pm$" in out and "cafe" in out


def _pdflatex(tmp_path: Path, body: str) -> str:
    doc = tmp_path / "doc.tex"
    doc.write_text(
        "\\documentclass{article}\n\\usepackage{booktabs,graphicx,amssymb}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert done.returncode == 0, log[-3000:]
    return log


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is absent (texlive-latex-recommended)")
def test_table_tex_compiles_with_pdflatex_without_overfull_boxes(tmp_path: Path) -> None:
    """A multi-scale run with a published model, a second run of another protocol, --reference,
    --allow-mixed and --published: both layouts compile, inside their table environments."""
    ms = load_run(_run(tmp_path / "ms", ["bicubic", "srcnn-955@pub", "rrdb-sog (smoke)"], [2, 3, 4]))
    other = load_run(_run(tmp_path / "sx", ["bicubic"], [4], protocol="selfexsr"))
    texts = []
    for layout in ("paper", "blocks"):
        options = TableOptions(
            layout=layout, fmt="latex", reference="bicubic", allow_mixed=True, published=True
        )
        texts.append(table_text([ms, other], options))
    for tex in texts:
        assert tex.isascii() and r"\begin{table}" in tex and r"\caption{" in tex and r"\label{" in tex
        assert r"\multicolumn" not in tex.split(r"\bottomrule")[1]  # the notes are outside the tabular
    assert "crop 2 at $\\times$2" in texts[0] and r"$\rightarrow$" in texts[0]
    log = _pdflatex(tmp_path, "\n".join(texts))
    boxes = [float(x) for x in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide", log)]
    assert all(b <= 1.0 for b in boxes), boxes
    assert "! " not in log
