"""Figures on tiny runs: each draws (PNG and PDF) or says what is missing; crops and their errors."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval.cli import main
from srbench_eval.data.io.images import read_image, write_image
from srbench_eval.digests import sha256_text
from srbench_eval.files import write_text_atomic
from srbench_eval.models import checkpoints
from srbench_eval.reports import crops, figures
from srbench_eval.runs.finished import load_run
from srbench_eval.runs.results import ImageValue, Summary, SummaryEntry, csv_text
from srbench_eval.training.logs import TrainLog

METRICS = {
    "psnr": {"label": "PSNR", "higher_is_better": True, "per_image": True, "decimals": 2},
    "ssim": {"label": "SSIM", "higher_is_better": True, "per_image": True, "decimals": 4},
    "lpips": {"label": "LPIPS", "higher_is_better": False, "per_image": True, "decimals": 4},
}


def _run(folder: Path, metrics=("psnr", "lpips"), models=None, sr: bool = False) -> Path:
    models = models or {"a": {}, "b": {}, "c": {}}
    values = {
        (m, "tiny", metric): [
            20.0 + j + i if metric == "psnr" else 0.5 - 0.1 * j + 0.01 * i for i in range(4)
        ]
        for j, m in enumerate(models)
        for metric in metrics
    }
    rows = [
        ImageValue(m, d, 4, f"im{i}", metric, v)
        for (m, d, metric), vs in values.items()
        for i, v in enumerate(vs)
    ]
    entries = [
        SummaryEntry(m, d, 4, metric, statistics.fmean(vs), 4) for (m, d, metric), vs in values.items()
    ]
    folder.mkdir(parents=True)
    write_text_atomic(folder / "results.csv", csv_text(rows))
    prov = {"datasets": {"tiny": {"title": "Tiny", "location": ""}}, "models": models}
    prov["results_csv_sha256"] = sha256_text(csv_text(rows))
    write_text_atomic(folder / "summary.json", Summary(entries, METRICS, prov).to_json())
    if sr:
        rng = np.random.default_rng(0)
        base = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
        for j, m in enumerate(models):
            for i in range(4):
                img = base.copy()
                img[20:32, 30:42] = (60 * j) % 256  # the models differ only in this 12x12 square
                write_image(folder / "sr" / m / "tiny" / f"im{i}.png", img)
    return folder


def _is_png_and_pdf(paths: list[Path]) -> bool:
    png, pdf = (p.read_bytes() for p in paths)
    return png.startswith(b"\x89PNG") and pdf.startswith(b"%PDF") and len(png) > 1000


def test_perception_distortion_plane_and_ssim_fallback(tmp_path: Path) -> None:
    fig = figures.perception_distortion([load_run(_run(tmp_path / "r"))])
    ax = fig.plot.axes[0]
    assert ax.get_ylabel() == "LPIPS ↓" and ax.get_xlabel() == "PSNR ↑"
    xs = sorted(float(c.get_offsets()[0][0]) for c in ax.collections)
    assert xs == [21.5, 22.5, 23.5]
    assert [p.suffix for p in fig.save(tmp_path / "f")] == [".png", ".pdf"]
    assert _is_png_and_pdf(fig.save(tmp_path / "f"))
    no_lpips = figures.perception_distortion([load_run(_run(tmp_path / "s", ("psnr", "ssim")))])
    assert no_lpips.plot.axes[0].get_ylabel() == "SSIM ↑" and "SSIM instead" in no_lpips.title
    only_psnr = figures.perception_distortion([load_run(_run(tmp_path / "p", ("psnr",)))])
    assert only_psnr.plot is None and "neither LPIPS nor SSIM" in only_psnr.missing


def test_distributions_show_every_image(tmp_path: Path) -> None:
    fig = figures.distributions([load_run(_run(tmp_path / "r"))], "psnr")
    points = [c for c in fig.plot.axes[0].collections if len(c.get_offsets())]
    assert [len(c.get_offsets()) for c in points] == [4, 4, 4]
    missing = figures.distributions([load_run(_run(tmp_path / "s", ("psnr",)))], "lpips")
    assert missing.plot is None and "no per-image lpips" in missing.missing


def test_sweep_curve_against_override_value(tmp_path: Path) -> None:
    models = {
        f"dp[dp.mu={mu}]": {
            "recipe": {"name": "dp", "loss": {"dp": {"mu": 1}}, "overrides": [f"loss.dp.mu={mu}"]}
        }
        for mu in ("0.2", "2", "20")
    }
    fig = figures.sweep_curves([load_run(_run(tmp_path / "r", models=models))], "lpips")
    ax = fig.plot.axes[0]
    assert ax.get_xlabel() == "dp.mu" and ax.get_xscale() == "log"
    assert list(ax.lines[0].get_xdata()) == [0.2, 2.0, 20.0]
    plain = figures.sweep_curves([load_run(_run(tmp_path / "s"))], "lpips")
    assert plain.plot is None and "override" in plain.missing


def test_training_curves_from_the_training_log(tmp_path: Path) -> None:
    log = TrainLog(tmp_path / "train", tensorboard=False)
    for step in (10, 20, 30):
        record = {
            "lr": 1e-4,
            "loss": 1.0 / step,
            "pixel": 0.5 / step,
            "dp": 0.3 / step,
            "dp.zeta": 0.1 * step,
        }
        log.write("train", step, record)
    log.write("val", 30, {"psnr": 25.0, "ssim": 0.7, "bicubic_psnr": 24.0})
    log.close()
    recipe = {"name": "esrgan-dp", "loss": {"pixel": {"kind": "l1"}, "dp": {"kind": "dp", "mu": 0.5}}}
    torch.save({"format": checkpoints.FORMAT, "recipe": recipe}, tmp_path / "train" / "step_0000030.pt")
    fig = figures.training_curves(tmp_path / "train")
    labels = [[line.get_label() for line in ax.lines] for ax in fig.plot.axes]
    assert labels[:4] == [
        ["loss", "pixel", "dp"],
        ["psnr", "bicubic_psnr"],
        ["dp.zeta", "dp.mu = 0.5 (recipe)"],
        ["lr"],
    ]
    assert figures.training_curves(tmp_path / "none").missing.startswith(str(tmp_path / "none"))


def test_auto_crop_finds_where_models_differ(tmp_path: Path) -> None:
    run = load_run(_run(tmp_path / "r", sr=True))
    panels = crops.sr_panels([run])
    assert panels.labels == ("a", "b", "c") and "HR of tiny" in panels.missing
    assert crops.auto_crop(panels.images, size=12) == crops.Crop(30, 20, 12, 12)
    fig = figures.crop_grid([run], size=12)
    assert "x=30, y=20, 12x12" in fig.title
    shown = fig.plot.axes[1].images[0].get_array()
    assert shown.shape[:2] == (12, 12) and int(shown[0, 0, 0]) == 0


def test_figures_command_reports_missing_inputs_and_bad_crops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _run(tmp_path / "plain", ("psnr",))
    assert main(["figures", str(plain), "--out", str(tmp_path / "f")]) == 0
    out = capsys.readouterr().out
    assert "skipped crops: the runs kept no SR images (run with --save-sr)" in out
    assert "skipped perception-distortion: the runs have neither LPIPS nor SSIM" in out
    assert (tmp_path / "f" / "distribution-psnr.pdf").is_file()
    with_sr = _run(tmp_path / "sr", sr=True)
    for crop, msg in (
        ("1,2,3", "expected x,y,w,h as four integers"),
        ("-1,0,4,4", "must be >= 0"),
        ("50,30,20,20", "outside image 'im0' of tiny (60x40 pixels)"),
    ):
        assert (
            main(["figures", str(with_sr), "--out", str(tmp_path / "g"), "--crop", crop, "--image", "im0"])
            == 2
        )
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and msg in err
    assert main(["figures", str(with_sr), "--out", str(tmp_path / "g"), "--crop", "0,0,8,8"]) == 0
    assert (tmp_path / "g" / "crops.png").is_file()


def test_hr_and_bicubic_panes_equal_what_the_run_scored(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = ["run", "--quiet", "--models", "bicubic", "--datasets", "demo", "--save-sr", "--out", str(out)]
    assert main(args) == 0
    run = load_run(out)
    for image in ("astronaut", "camera"):
        hr = crops.hr_image([run], "demo", image, 4)
        saved = read_image(run.sr_image("bicubic", "demo", image, 4))
        assert hr is not None and hr.shape == saved.shape
        np.testing.assert_array_equal(crops.bicubic_from_hr(hr, 4), saved)
    # a run without the bicubic model still shows it, computed from HR
    (out / "sr" / "bicubic").rename(out / "sr" / "copy")
    rows = (out / "results.csv").read_text().replace("\nbicubic,", "\ncopy,")
    (out / "results.csv").write_text(rows)
    summary = json.loads((out / "summary.json").read_text())  # an edited run, recorded as such
    summary["provenance"]["results_csv_sha256"] = sha256_text(rows)
    (out / "summary.json").write_text(json.dumps(summary))
    panels = crops.sr_panels([load_run(out)], "demo", "camera")
    assert panels.labels == ("HR", "bicubic", "copy") and panels.missing == ""
    np.testing.assert_array_equal(panels.images[1], panels.images[2])
