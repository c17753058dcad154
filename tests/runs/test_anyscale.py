"""Non-integer scales end to end: ``--scale`` parsing (numbers, ranges, lists), Meta-SR's size rule in
the test pairs (odd sizes), the border ``ceil(s)``, models that declare the scales they take, and a
sweep that is resumable per scale."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from srbench_eval.cli import main
from srbench_eval.data.degrade.bicubic import imresize_uint8
from srbench_eval.data.degrade.scale_rule import metasr_sizes
from srbench_eval.data.pairs import image_batch, make_pair
from srbench_eval.errors import SrbenchError
from srbench_eval.protocol import resolve
from srbench_eval.runs.multiscale import parse_scales


def test_scale_lists_ranges_and_numbers() -> None:
    sweep = parse_scales("1.1:4.0:0.1")
    assert len(sweep) == 30 and sweep[0] == 1.1 and sweep[-1] == 4 and isinstance(sweep[-1], int)
    assert 1.3 in sweep and 2 in sweep and isinstance(sweep[9], int)  # 2.0 recorded as the integer 2
    assert parse_scales("2,3,4") == (2, 3, 4) and all(isinstance(s, int) for s in parse_scales("2,3,4"))
    assert parse_scales("1.5,2.5:3.5:1") == (1.5, 2.5, 3.5)
    for text, msg in (
        ("1.1:4.0:0.3", "does not divide"),
        ("2:1:0.5", "STOP >= START"),
        ("1.5:2", "START:STOP:STEP"),
        ("x", "expected a number"),
        ("1.5,1.5", "listed twice"),
        ("nan", "expected a number"),
    ):
        with pytest.raises(SrbenchError, match=msg) as e:
            parse_scales(text)
        assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("height", "width", "scale"), [(37, 29, 1.5), (41, 40, 2.5), (33, 35, 3.5), (31, 30, 2)]
)
def test_pairs_follow_metasr_sizes_on_odd_sizes(
    tmp_path: Path, height: int, width: int, scale: float
) -> None:
    """LR = imresize(HR(1:h', 1:w'), 1/s) of the trimmed region, HR scored = the image cut to int(lr s);
    ``metasr`` applies the rule at integer scales too, the default profile only at non-integer ones."""
    rng = np.random.default_rng(height * width)
    img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    path = tmp_path / "odd.png"
    cv2.imwrite(str(path), img[..., ::-1])
    sizes = metasr_sizes(height, width, scale)
    for profile in ("metasr", "matlab"):
        pair = make_pair(path, scale, resolve(profile), "cpu", host_arrays=True)
        if profile == "matlab" and float(scale).is_integer():  # unchanged: HR mod-cropped, LR = HR / s
            assert pair.hr.shape[-2:] == (height - height % scale, width - width % scale)
            continue
        (rh, rw), (sh, sw) = sizes.resized_hr, sizes.scored_hr
        assert pair.hr.shape[-2:] == (sh, sw) and pair.lr.shape[-2:] == sizes.lr
        np.testing.assert_array_equal(pair.hr, image_batch(img[:sh, :sw]))
        np.testing.assert_array_equal(pair.lr, imresize_uint8(image_batch(img[:rh, :rw]), 1 / scale))
        assert sizes.lr == (math.ceil(rh / scale - 1e-12), math.ceil(rw / scale - 1e-12))


def test_border_is_ceil_of_the_scale() -> None:
    p = resolve("metasr")
    assert (p.crop(1.5), p.crop(2), p.crop(3.1), resolve("matlab").crop(4)) == (2, 2, 4, 4)
    m = resolve("matlab")
    assert p.scale_rule(2) == "metasr" and m.scale_rule(2) == "modcrop" and m.scale_rule(2.5) == "metasr"


class _AnyScale:
    """A ``LABEL=pkg.mod:factory`` network taking any scale in [1, 4] (bicubic inside)."""

    scale_range = (1.0, 4.0)

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def __call__(self, lr: object) -> object:
        return imresize_uint8((lr * 255).round(), self.scale) / 255  # type: ignore[operator]


def fixed_scale(scale: float) -> _AnyScale:  # no scale_range: integer scales only
    return _AnyScale(scale)


def _images(folder: Path) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i, (h, w) in enumerate(((40, 37), (36, 45))):
        cv2.imwrite(str(folder / f"im{i}.png"), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return folder


def _run(out: Path, models: str, scale: str, hr: Path) -> int:
    return main(
        ["run", "--quiet", "--models", models, "--scale", scale, "--datasets", str(hr), "--out", str(out)]
    )


def test_models_declare_the_scales_they_take(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hr = _images(tmp_path / "hr")
    spec = "net=tests.runs.test_anyscale:_AnyScale"
    assert _run(tmp_path / "ok", f"bicubic,{spec}", "2.5", hr) == 0
    rows = list(csv.DictReader((tmp_path / "ok" / "results.csv").read_text().splitlines()))
    psnr = {(r["model"], r["image"]): float(r["value"]) for r in rows if r["metric"] == "psnr"}
    assert {r["scale"] for r in rows} == {"2.5"}
    assert psnr[("net", "im0")] == psnr[("bicubic", "im0")]  # the same imresize, cut to the HR alike
    capsys.readouterr()
    for models, scale, msg in (
        (spec, "8", "takes scales x1 to x4, not x8"),
        ("net=tests.runs.test_anyscale:fixed_scale", "1.5", "declares no scale_range"),
        ("fsrcnn@pub", "1.5", "has no x1.5 model"),
    ):
        assert _run(tmp_path / "bad", models, scale, hr) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and msg in err and not (tmp_path / "bad").exists()


def test_sweep_writes_one_folder_per_scale_and_resumes(tmp_path: Path) -> None:
    hr = _images(tmp_path / "hr")
    out = tmp_path / "sweep"
    assert _run(out, "bicubic", "1.5:3.5:1.0", hr) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["x1.5", "x2.5", "x3.5"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["scale"] == [1.5, 2.5, 3.5]
    kept = (out / "x1.5" / "results.csv").stat().st_mtime_ns
    merged = (out / "results.csv").read_text()
    # an interrupted sweep: the merged files and one scale missing; the rerun computes only that one
    for name in ("summary.json", "results.csv", "table.md", "table.tex"):
        (out / name).unlink()
    for f in (out / "x3.5").iterdir():
        f.unlink()
    (out / "x3.5").rmdir()
    assert _run(out, "bicubic", "1.5:3.5:1.0", hr) == 0
    assert (out / "x1.5" / "results.csv").stat().st_mtime_ns == kept
    assert (out / "results.csv").read_text() == merged
    assert _run(out, "bicubic", "1.5:3.5:1.0", hr) == 2  # a finished sweep is not overwritten


def test_sweep_tables_and_psnr_against_scale_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hr = _images(tmp_path / "hr")
    out = tmp_path / "sweep"
    assert _run(out, "bicubic", "1.5:3.5:1.0,4", hr) == 0
    capsys.readouterr()
    assert main(["table", str(out), "--layout", "paper"]) == 0
    table = capsys.readouterr().out
    assert all(f"| ×{s} " in table for s in ("1.5", "2.5", "3.5", "4"))
    assert main(["figures", str(out), "--out", str(tmp_path / "figs")]) == 0
    assert (tmp_path / "figs" / "scale-psnr.png").stat().st_size > 0
    assert main(["figures", str(out / "x1.5"), "--out", str(tmp_path / "one")]) == 0
    assert "skipped scale-psnr: the runs hold fewer than two scales" in capsys.readouterr().out


def test_a_non_integer_sweep_is_a_baseline_that_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hr = _images(tmp_path / "hr")
    out = tmp_path / "sweep"
    assert _run(out, "bicubic", "1.5,2", hr) == 0
    baseline = tmp_path / "b.json"
    assert main(["check", "--baseline", str(baseline), "--update", str(out)]) == 0
    assert main(["check", "--baseline", str(baseline), str(out)]) == 0
    assert "values match" in capsys.readouterr().out
