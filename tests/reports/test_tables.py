"""Tables: the papers' layout, best bold / second underlined at display precision, golden output."""

from __future__ import annotations

import math

from srbench_eval.reports.tables import build_table, latex_escape, to_latex, to_markdown
from srbench_eval.runs.results import Summary, SummaryEntry

METRICS = {
    "psnr": {"label": "PSNR", "higher_is_better": True, "per_image": True, "decimals": 2},
    "ssim": {"label": "SSIM", "higher_is_better": True, "per_image": True, "decimals": 4},
    "lpips": {"label": "LPIPS", "higher_is_better": False, "per_image": True, "decimals": 4},
    "fid": {"label": "FID", "higher_is_better": False, "per_image": False, "decimals": 2},
}


def _summary(values: dict[tuple[str, str, str], float], **kw) -> Summary:
    entries = [SummaryEntry(m, d, 4, metric, v, 5) for (m, d, metric), v in values.items()]
    prov = {"datasets": {"set5": {"title": "Set5"}, "set14": {"title": "Set14"}}, **kw}
    return Summary(entries, METRICS, prov, {})


def test_markdown_golden_layout() -> None:
    s = _summary(
        {
            ("bicubic", "set5", "psnr"): 28.4219,
            ("esrgan", "set5", "psnr"): 30.1,
            ("esrgan-dp", "set5", "psnr"): 29.5,
            ("bicubic", "set5", "lpips"): 0.3412,
            ("esrgan", "set5", "lpips"): 0.0748,
            ("esrgan-dp", "set5", "lpips"): 0.0701,
            ("bicubic", "set14", "psnr"): 26.0,
            ("esrgan", "set14", "psnr"): 26.0,
            ("esrgan-dp", "set14", "psnr"): 25.0,
        }
    )
    md = to_markdown(build_table([s]))
    assert md.splitlines()[:7] == [
        "| Dataset   | Metric   |   bicubic |            esrgan |        esrgan-dp |",
        "|:----------|:---------|----------:|------------------:|-----------------:|",
        "| Set5      | PSNR ↑   |     28.42 |         **30.10** | <ins>29.50</ins> |",
        "|           | LPIPS ↓  |    0.3412 | <ins>0.0748</ins> |       **0.0701** |",
        "| Set14     | PSNR ↑   | **26.00** |         **26.00** | <ins>25.00</ins> |",
        "",
        "_scale ×4_",
    ]


def test_latex_booktabs_bold_underline_and_escaping() -> None:
    s = _summary({("a_b", "set5", "psnr"): 30.0, ("c", "set5", "psnr"): 29.0, ("d", "set5", "psnr"): 28.0})
    tex = to_latex(build_table([s]))
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"\midrule" in tex
    assert r"Dataset & Metric & a\_b & c & d \\" in tex
    assert r"Set5 & PSNR $\uparrow$ & \textbf{30.00} & \underline{29.00} & 28.00 \\" in tex
    assert latex_escape("50%_&#") == r"50\%\_\&\#"


def test_unreliable_value_gets_dagger_and_footnote() -> None:
    note = "FID on 5 samples < 2048 feature dimensions"
    entries = [
        SummaryEntry("a", "set5", 4, "fid", 40.0, 5, reliable=False, note=note),
        SummaryEntry("b", "set5", 4, "fid", 50.0, 5, reliable=False, note=note),
    ]
    t = build_table([Summary(entries, METRICS, {}, {})])
    md = to_markdown(t)
    assert "**40.00†**" in md and f"† {note}" in md
    assert r"40.00$^\dagger$" in to_latex(t)


def test_merge_runs_missing_values_and_infinity() -> None:
    a = _summary({("bicubic", "set5", "psnr"): 28.0, ("bicubic", "set5", "ssim"): 0.81})
    b = _summary({("x", "set5", "psnr"): math.inf})
    md = to_markdown(build_table([a, b]))
    assert "| Set5      | PSNR ↑   | <ins>28.00</ins> | **∞** |" in md
    assert "|           | SSIM ↑   |           0.8100 |     – |" in md


def test_stand_in_weights_are_flagged() -> None:
    s = _summary({("a", "set5", "lpips"): 0.1}, stand_in_weights=["alexnet"])
    assert "STAND-IN WEIGHTS (alexnet)" in to_markdown(build_table([s]))
    assert "STAND-IN WEIGHTS (alexnet)" in to_latex(build_table([s]))
