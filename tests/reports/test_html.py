"""The HTML report: what the page holds, what it says when runs lack inputs, and a real headless
chromium (DevTools protocol): no console errors, every image loads, the viewer's zoom and pan move
every pane, and a screenshot of the expected size."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from srbench_eval.cli import main
from tests.chromium import Chromium, skip_reason
from tests.reports.test_figures import _run


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    run = _run(tmp / "run", ("psnr", "ssim", "lpips"), sr=True)
    assert main(["report", str(run), "--out", str(tmp / "html"), "--reference", "a"]) == 0
    return tmp / "html" / "index.html"


def test_page_holds_tables_statistics_figures_viewer_and_provenance(report: Path) -> None:
    html = report.read_text()
    for anchor in ("tables", "statistics", "figures", "viewer", "per-image", "provenance"):
        assert f'id="{anchor}"' in html
    assert "Paired differences from a" in html and "p (Wilcoxon)" in html
    assert html.count('class="frame"') == 3  # a, b, c (no local HR for the tiny dataset)
    assert "HR of tiny/" in html  # ...and the page says so
    assert 'id="fig-perception-distortion"' in html and 'id="fig-crops"' in html
    # self-contained: every image is a data: URI, no external script, style or link
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', html))
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert report.stat().st_mode & 0o777 == 0o644


def test_report_of_runs_without_inputs_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(tmp_path / "run", ("psnr",))
    (run / "results.csv").unlink()  # a summary alone, as one written without its results.csv
    summary = json.loads((run / "summary.json").read_text())
    del summary["provenance"]["results_csv_sha256"]
    (run / "summary.json").write_text(json.dumps(summary))
    assert main(["report", str(run), "--out", str(tmp_path / "html")]) == 0
    html = (tmp_path / "html" / "index.html").read_text()
    assert "the runs have no results.csv (per-image values): no statistics or tests" in html
    assert "the runs kept no SR images (run with --save-sr)" in html
    assert "neither LPIPS nor SSIM" in html
    assert main(["report", str(run), "--out", str(tmp_path / "h2"), "--crop", "1,2"]) == 2
    assert "expected x,y,w,h" in capsys.readouterr().err


@pytest.fixture(scope="module")
def browser(report: Path, tmp_path_factory: pytest.TempPathFactory):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    chrome = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        chrome.send("Runtime.enable")
        chrome.send("Log.enable")
        chrome.send("Page.enable")
        chrome.send("Page.navigate", url=report.as_uri())
        chrome.wait_event("Page.loadEventFired")
        yield chrome
    finally:
        chrome.close()


def test_page_loads_without_console_errors_and_every_image_loads(browser: Chromium) -> None:
    assert browser.errors() == []
    images = browser.evaluate("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
    assert len(images) >= 3 + 4  # the viewer panes and the figures
    assert [i for i in images if not (i[1] and i[2] > 0)] == []


def _transforms(browser: Chromium) -> list[str]:
    return browser.evaluate(
        "Array.from(document.querySelectorAll('.viewer img')).map(i => i.style.transform)"
    )


def test_viewer_zoom_and_pan_move_every_pane(browser: Chromium) -> None:
    before = _transforms(browser)
    assert len(set(before)) == 1
    box = browser.evaluate(
        "(() => { const f = document.querySelector('.viewer .frame'); f.scrollIntoView();"
        " const r = f.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
    )
    x, y = box
    browser.send("Input.dispatchMouseEvent", type="mouseWheel", x=x, y=y, deltaX=0, deltaY=-120)
    zoomed = _transforms(browser)
    assert len(set(zoomed)) == 1 and zoomed[0] != before[0]
    state = browser.evaluate("window.srViewers[0].state()")
    assert state["scale"] == pytest.approx(1.25 * state["fit"])
    # drag in the last pane: every pane pans by the same amount
    last = browser.evaluate(
        "(() => { const fs = document.querySelectorAll('.viewer .frame'); const r = fs[fs.length - 1]"
        ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
    )
    browser.send(
        "Input.dispatchMouseEvent", type="mousePressed", x=last[0], y=last[1], button="left", clickCount=1
    )
    browser.send(
        "Input.dispatchMouseEvent",
        type="mouseMoved",
        x=last[0] + 30,
        y=last[1] + 10,
        button="left",
        buttons=1,
    )
    browser.send(
        "Input.dispatchMouseEvent",
        type="mouseReleased",
        x=last[0] + 30,
        y=last[1] + 10,
        button="left",
        clickCount=1,
    )
    moved = browser.evaluate("window.srViewers[0].state()")
    assert (moved["x"] - state["x"], moved["y"] - state["y"]) == pytest.approx((30, 10))
    panned = _transforms(browser)
    assert len(set(panned)) == 1 and panned[0] != zoomed[0]
    # the same region in every pane: each image sits at the same offset inside its frame
    offsets = browser.evaluate(
        "Array.from(document.querySelectorAll('.viewer .frame')).map(f => {"
        " const a = f.getBoundingClientRect(), b = f.querySelector('img').getBoundingClientRect();"
        " return [b.left - a.left, b.top - a.top, b.width]; })"
    )
    assert all(o == pytest.approx(offsets[0]) for o in offsets)
    assert browser.errors() == []


def test_screenshot(browser: Chromium, tmp_path: Path) -> None:
    shot = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
    (tmp_path / "shot.png").write_bytes(shot)
    img = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (900, 1200, 3)
    assert float(img.std()) > 10  # not a blank page
