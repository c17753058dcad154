"""Table layouts on tiny summaries: paper, sweep, ablation, renaming/ordering/filtering, ns marks."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from srbench_eval.cli import main
from srbench_eval.digests import sha256_text
from srbench_eval.files import write_text_atomic
from srbench_eval.reports.layouts import TableOptions, table_text
from srbench_eval.runs.finished import load_run
from srbench_eval.runs.results import ImageValue, Summary, SummaryEntry, csv_text

METRICS = {
    "psnr": {"label": "PSNR", "higher_is_better": True, "per_image": True, "decimals": 2},
    "ssim": {"label": "SSIM", "higher_is_better": True, "per_image": True, "decimals": 4},
    "lpips": {"label": "LPIPS", "higher_is_better": False, "per_image": True, "decimals": 4},
}


def _recipe(name: str, loss: dict, overrides: list[str]) -> dict:
    return {"kind": "checkpoint", "recipe": {"name": name, "loss": loss, "overrides": overrides}}


DP = {"pixel": {"kind": "l1", "weight": 0.01}, "dp": {"kind": "dp", "weight": 1.0, "mu": 0.5}}


def _run(folder: Path, values: dict[tuple[str, str, int, str], list[float]], models: dict) -> Path:
    rows = [
        ImageValue(m, d, s, f"im{i}", metric, v)
        for (m, d, s, metric), vs in values.items()
        for i, v in enumerate(vs)
    ]
    entries = [
        SummaryEntry(m, d, s, metric, statistics.fmean(vs), len(vs))
        for (m, d, s, metric), vs in values.items()
    ]
    prov = {"datasets": {"set5": {"title": "Set5"}, "set14": {"title": "Set14"}}, "models": models}
    folder.mkdir(parents=True)
    write_text_atomic(folder / "results.csv", csv_text(rows))
    prov["results_csv_sha256"] = sha256_text(csv_text(rows))
    write_text_atomic(folder / "summary.json", Summary(entries, METRICS, prov).to_json())
    return folder


@pytest.fixture
def sweep_run(tmp_path: Path) -> Path:
    models = {
        "bicubic": {"kind": "bicubic"},
        "esrgan-dp[dp.mu=2]": _recipe("esrgan-dp", DP, ["loss.dp.mu=2"]),
        "esrgan-dp[dp.mu=0.2]": _recipe("esrgan-dp", DP, ["loss.dp.mu=0.2"]),
        "esrgan-dp[dp.weight=0]": _recipe("esrgan-dp", {"pixel": DP["pixel"]}, ["loss.dp.weight=0"]),
    }
    values = {}
    for j, m in enumerate(models):
        for d in ("set5", "set14"):
            values[(m, d, 4, "psnr")] = [28.0 + j + 0.1 * i for i in range(5)]
            values[(m, d, 4, "lpips")] = [0.3 - 0.05 * j + 0.001 * i for i in range(5)]
    return _run(tmp_path / "sweep", values, models)


def test_paper_layout_models_as_rows_datasets_as_columns(sweep_run: Path) -> None:
    md = table_text([load_run(sweep_run)], TableOptions(layout="paper"))
    lines = md.splitlines()
    assert [c.strip() for c in lines[0].split("|")[1:4]] == ["Method", "Set5", "Set14"]
    assert md.splitlines()[2].replace(" ", "") == "|bicubic|28.20/0.3020|28.20/0.3020|"
    assert "<ins>30.20</ins>/<ins>0.2020</ins>" in md and "**31.20**/**0.1520**" in md
    assert "_Each cell: PSNR ↑ / LPIPS ↓_" in md
    tex = table_text([load_run(sweep_run)], TableOptions(layout="paper", fmt="latex"))
    assert r"Method & Set5 & Set14 \\" in tex and r"\textbf{31.20}/\textbf{0.1520}" in tex


def test_sweep_layout_rows_are_override_values_sorted(sweep_run: Path) -> None:
    md = table_text([load_run(sweep_run)], TableOptions(layout="sweep"))
    rows = [tuple(c.strip() for c in line.split("|")[1:4]) for line in md.splitlines()[:6]]
    # the weight read from the recipe where it was not overridden; rows sorted by the override values,
    # models without overrides first; a dropped term has no mu
    assert rows[0] == ("Method", "dp.mu", "dp.weight")
    assert rows[2:] == [
        ("bicubic", "–", "–"),
        ("esrgan-dp", "0.2", "1"),
        ("esrgan-dp", "2", "1"),
        ("esrgan-dp", "–", "0"),
    ]


def test_ablation_layout_check_marks_per_loss_term(sweep_run: Path) -> None:
    md = table_text([load_run(sweep_run)], TableOptions(layout="ablation", metrics=("psnr",)))
    assert "| Method                 | pixel   | dp   |" in md
    assert "| esrgan-dp[dp.weight=0] | ✓       |      |" in md
    assert "| esrgan-dp[dp.mu=2]     | ✓       | ✓    |" in md
    assert "LPIPS" not in md
    tex = table_text([load_run(sweep_run)], TableOptions(layout="ablation", fmt="latex"))
    assert r"\checkmark" in tex and "amssymb" in tex


def test_rename_order_and_metric_filter(sweep_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    opts = TableOptions(
        rename=("bicubic=Bicubic",), order=("Bicubic", "esrgan-dp[dp.mu=0.2]"), metrics=("lpips",)
    )
    md = table_text([load_run(sweep_run)], opts)
    assert md.splitlines()[0].split("|")[3:5] == ["   Bicubic ", "   esrgan-dp[dp.mu=0.2] "]
    assert "PSNR" not in md
    assert main(["table", str(sweep_run), "--order", "bicubc"]) == 2
    assert "did you mean 'bicubic'" in capsys.readouterr().err
    assert main(["table", str(sweep_run), "--rename", "bicubic"]) == 2
    assert "expected OLD=NEW" in capsys.readouterr().err
    assert main(["table", str(sweep_run), "--layout", "papr"]) == 2
    assert "did you mean 'paper'" in capsys.readouterr().err


def test_layouts_without_recipes_say_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(
        tmp_path / "r", {("bicubic", "set5", 4, "psnr"): [28.0, 29.0]}, {"bicubic": {"kind": "bicubic"}}
    )
    for layout, missing in (("sweep", "recipe overrides"), ("ablation", "recipe with loss terms")):
        assert main(["table", str(run), "--layout", layout]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and missing in err


def test_scale_groups_in_paper_layout(tmp_path: Path) -> None:
    values = {
        (m, "set5", s, "psnr"): [25.0 + s + j, 26.0 + s + j] for s in (2, 4) for j, m in enumerate("ab")
    }
    md = table_text([load_run(_run(tmp_path / "r", values, {}))], TableOptions(layout="paper"))
    assert md.splitlines()[:6] == [
        "| Scale   | Method   |       Set5       |",
        "|:--------|:---------|:----------------:|",
        "| ×2      | a        | <ins>27.50</ins> |",
        "|         | b        |    **28.50**     |",
        "| ×4      | a        | <ins>29.50</ins> |",
        "|         | b        |    **30.50**     |",
    ]


def test_reference_marks_differences_that_are_not_significant(tmp_path: Path) -> None:
    n = 20
    values = {
        ("ref", "set14", 4, "psnr"): [28.0 + 0.3 * i for i in range(n)],
        ("big", "set14", 4, "psnr"): [28.5 + 0.3 * i + 0.01 * (i % 3) for i in range(n)],
        ("noise", "set14", 4, "psnr"): [28.0 + 0.3 * i + (0.02 if i % 2 else -0.02) for i in range(n)],
    }
    run = load_run(_run(tmp_path / "r", values, {}))
    md = table_text([run], TableOptions(reference="ref", alpha=0.05))
    assert "**31.36**" in md  # big: significant, no mark
    assert "30.85<sup>ns</sup>" in md  # noise: +0.00 dB, not significant
    assert "not significantly different from ref at α = 0.05" in md
    assert "$^{\\mathrm{ns}}$" in table_text([run], TableOptions(reference="ref", fmt="latex"))


def test_rename_to_an_existing_name_is_refused(sweep_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["table", str(sweep_run), "--rename", "bicubic=esrgan-dp[dp.mu=2]"]) == 2
    assert "two models would both be called 'esrgan-dp[dp.mu=2]'" in capsys.readouterr().err


def test_ablation_of_the_shipped_models_reads_their_recipes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "zoo"
    args = [
        "run",
        "--quiet",
        "--models",
        "bicubic,rrdb,rrdb-sog",
        "--checkpoints",
        "zoo",
        "--datasets",
        "demo",
    ]
    assert main([*args, "--metrics", "psnr", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["table", str(out), "--layout", "ablation"]) == 0
    lines = [[c.strip() for c in line.split("|")[1:-1]] for line in capsys.readouterr().out.splitlines()[:5]]
    assert lines[0] == ["Method", "pixel", "sog", "Demo"]
    assert [r[:3] for r in lines[2:]] == [
        ["bicubic", "–", "–"],
        ["rrdb (smoke)", "✓", ""],
        ["rrdb-sog (smoke)", "✓", "✓"],
    ]
