"""Report pictures for a paper: the crop where the models' errors differ most (labelled), training
curves that name the recipe and hide nothing, labels without overlap, the viewer's image menu."""

from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from srbench_eval.cli import main
from srbench_eval.data.io.images import write_image
from srbench_eval.digests import sha256_text
from srbench_eval.files import write_text_atomic
from srbench_eval.reports import crops, figures
from srbench_eval.runs.finished import load_run
from srbench_eval.runs.results import ImageValue, Summary, SummaryEntry, csv_text
from srbench_eval.training.logs import TrainLog
from tests.chromium import Chromium, skip_reason
from tests.reports.test_figures import METRICS, _run


def test_auto_crop_picks_the_patch_of_highest_disagreement() -> None:
    """Model c is 40 grey levels off over a flat area (the images' spread is largest there), model b
    misses the detail of one 16x16 patch that a restores: the errors differ most on that patch."""
    rng = np.random.default_rng(0)
    hr = np.full((64, 96), 128, np.uint8)
    hr[8:24, 56:72] = rng.integers(68, 188, (16, 16))  # detail
    a = hr.copy()
    b = hr.copy()
    b[8:24, 56:72] = 128  # b blurs the detail away
    c = hr.copy()
    c[30:62, 4:36] = 168  # c shifts a flat region
    assert crops.auto_crop([a, b, c], 16, hr) == crops.Crop(56, 8, 16, 16)
    assert crops.auto_crop([a, b, c], 16) != crops.Crop(56, 8, 16, 16)  # the images' spread: the flat shift
    patch = (slice(8, 24), slice(56, 72))
    assert crops.crop_psnr(a, hr) == float("inf") and crops.crop_psnr(b[patch], hr[patch]) < 20


def _run_with_hr(folder: Path) -> Path:
    """A tiny run with --save-sr images of two models and a local HR folder (its location)."""
    rng = np.random.default_rng(1)
    hr_dir = folder / "hr"
    values, rows = {}, []
    for i, shape in enumerate([(40, 60, 3), (32, 48, 3)]):
        hr = rng.integers(0, 256, shape, dtype=np.uint8)
        write_image(hr_dir / f"im{i}.png", hr)
        for j, m in enumerate(("a", "b")):
            sr = np.clip(hr.astype(int) + rng.integers(-8 * (j + 1), 8 * (j + 1) + 1, shape), 0, 255)
            write_image(folder / "sr" / m / "tiny" / f"im{i}.png", sr.astype(np.uint8))
            for metric, v in (("psnr", 30.0 - 3 * j + i), ("lpips", 0.1 + 0.05 * j)):
                rows.append(ImageValue(m, "tiny", 4, f"im{i}", metric, v))
                values.setdefault((m, metric), []).append(v)
    entries = [
        SummaryEntry(m, "tiny", 4, metric, statistics.fmean(vs), 2) for (m, metric), vs in values.items()
    ]
    prov = {"datasets": {"tiny": {"title": "Tiny", "location": str(hr_dir)}}, "models": {"a": {}, "b": {}}}
    prov["results_csv_sha256"] = sha256_text(csv_text(rows))
    write_text_atomic(folder / "results.csv", csv_text(rows))
    write_text_atomic(folder / "summary.json", Summary(entries, METRICS, prov).to_json())
    return folder


def test_crop_grid_labels_each_crop_with_psnr_and_lpips(tmp_path: Path) -> None:
    fig = figures.crop_grid([load_run(_run_with_hr(tmp_path / "r"))], size=16)
    titles = [ax.get_title() for ax in fig.plot.axes]
    assert titles[1] == "HR" and titles[2].startswith("bicubic\n") and "dB" in titles[2]
    assert titles[3].startswith("a\n") and "dB / LPIPS 0.1000" in titles[3] and "LPIPS 0.1500" in titles[4]
    assert fig.plot.get_size_inches()[1] >= 3.5  # crops big enough to see


def test_training_curves_name_the_recipe_and_hide_no_line(tmp_path: Path) -> None:
    import torch

    from srbench_eval.models import checkpoints

    log = TrainLog(tmp_path / "train", tensorboard=False)
    for step in (10, 20, 30):
        log.write("train", step, {"lr": 1e-4, "loss": 1.0 / step, "pixel": 1.0 / step})
    log.close()
    recipe = {"name": "srcnn", "loss": {"pixel": {"kind": "l2"}}}
    torch.save(
        {"format": checkpoints.FORMAT, "recipe": recipe, "label": "srcnn[arch.num_feat=4]"},
        tmp_path / "train" / "step_0000030.pt",
    )
    fig = figures.training_curves(tmp_path / "train")
    assert fig.title == "Training srcnn[arch.num_feat=4]: train"
    assert len(fig.plot.axes) == 3  # no empty DP panel
    assert [line.get_label() for line in fig.plot.axes[0].lines] == ["loss (= pixel)"]


def test_perception_distortion_labels_do_not_overlap(tmp_path: Path) -> None:
    models = {"rrdb": {}, "rrdb-sog": {}, "rrdb-sog-long-name": {}, "bicubic": {}}
    run = load_run(_run(tmp_path / "r", ("psnr", "lpips"), models=models))
    near = {"psnr": 25.0, "lpips": 0.3}  # three models almost on the same point
    run.summary.entries[:] = [
        e if e.model == "bicubic" else replace(e, value=near[e.metric] + 1e-4 * len(e.model))
        for e in run.summary.entries
    ]
    fig = figures.perception_distortion([run]).plot
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == 4
    assert not any(boxes[i].overlaps(boxes[k]) for i in range(4) for k in range(i + 1, 4))
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("switch")
    run = _run_with_hr(tmp / "run")
    assert main(["report", str(run), "--out", str(tmp / "html")]) == 0
    return tmp / "html" / "index.html"


def test_page_names_datasets_as_the_table_and_the_sweep_note_is_no_error(report: Path) -> None:
    html = report.read_text()
    stats = html.split('class="stats"')[1].split("</table>")[0]
    assert '<td class="l">Tiny</td>' in stats and "tiny ×4" not in stats
    assert '<p class="note">' in html.split("no sweep to plot")[0].rsplit("\n", 1)[-1]
    assert html.count("<option ") == 2  # both images of the dataset


def test_viewer_switches_images(report: Path, tmp_path: Path) -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    chrome = Chromium(tmp_path / "profile")
    try:
        chrome.send("Runtime.enable")
        chrome.send("Page.enable")
        chrome.send("Page.navigate", url=report.as_uri())
        chrome.wait_event("Page.loadEventFired")
        before = chrome.evaluate("Array.from(document.querySelectorAll('.viewer img')).map(i => i.src)")
        chrome.evaluate(
            "(() => { const s = document.querySelector('.viewer select.pick'); s.value = '1';"
            " s.dispatchEvent(new Event('change')); })()"
        )
        after = chrome.evaluate(
            "new Promise(r => setTimeout(() => r(Array.from(document.querySelectorAll('.viewer img'))"
            ".map(i => [i.src, i.complete, i.naturalWidth, i.naturalHeight])), 300))"
        )
        assert len(after) == len(before) == 4  # HR, bicubic, a, b
        assert all(a[0] != b for a, b in zip(after, before, strict=True))
        assert all(a[1] and (a[2], a[3]) == (48, 32) for a in after)  # the second image, 48x32
        state = chrome.evaluate("window.srViewers[0].state()")
        assert state["image"] == 1 and state["scale"] == pytest.approx(state["fit"])
        assert chrome.evaluate("document.querySelector('.viewer .size').textContent") == "48×32"
        assert chrome.errors() == []
    finally:
        chrome.close()
