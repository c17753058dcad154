"""`explain` against numbers nobody here computed: RCAN's released images and MATLAB log, SelfExSR's
MATLAB scores, and BasicSR / pyiqa / super-image / RGB numbers made by transcriptions of their code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from srbench_eval.cli import main
from srbench_eval.data.io.images import read_image
from srbench_eval.errors import SrbenchError
from srbench_eval.explain import Target, candidates, explain, parse_target
from srbench_eval.explain.text import render
from tests import basicsr_reference
from tests.conftest import SHARED
from tests.explain.test_variants import rgb_psnr, super_image_psnr

ORACLES = SHARED / "oracles"
BENCH = SHARED / "benchmarks"
RCAN = ORACLES / "published_sr/RCAN/x4"
needs_shared = pytest.mark.skipif(
    not (ORACLES.is_dir() and BENCH.is_dir()), reason=f"{SHARED} is absent (oracles and benchmark HR)"
)
SET5 = ("baby", "bird", "butterfly", "head", "woman")


def _target(metric: str, value: float, decimals: int, dataset: str = "Set5", scale: int = 4) -> Target:
    return Target(dataset, scale, metric, round(value, decimals), decimals)


def _first(source: str, target: Target, **kw: object) -> str:
    ranking = explain(source, [target], mirror=str(BENCH), **kw).rankings[0]  # type: ignore[arg-type]
    assert ranking[0].reproduces, render(explain(source, [target], mirror=str(BENCH)))
    return ranking[0].convention


def _batch(path: Path) -> np.ndarray:
    return read_image(path).transpose(2, 0, 1)[None].astype(np.float32)


def test_targets_parse_with_their_printed_precision() -> None:
    psnr, ssim = parse_target("set5 x4 psnr=32.46 ssim=0.8968")
    assert (psnr.dataset, psnr.scale, psnr.metric, psnr.value, psnr.tolerance) == (
        "set5",
        4,
        "psnr",
        32.46,
        0.005,
    )
    assert ssim.metric == "ssim" and ssim.tolerance == pytest.approx(5e-5)
    (bare,) = parse_target("28.4", "set14", 3)
    assert (bare.dataset, bare.scale, bare.metric, bare.decimals) == ("set14", 3, "psnr", 1)
    for bad in ("set5 x4", "set5 psnr=30", "set5 x4 lpips=0.2", "set5 x4 psnr=abc"):
        with pytest.raises(SrbenchError, match="--target"):
            parse_target(bad)


def test_candidates_hold_every_profile_and_variant_once() -> None:
    names = [c.name for c in candidates(4, runs_model=False)]
    for name in (
        "matlab",
        "selfexsr",
        "basicsr",
        "matlab[y=yiq]",
        "matlab[y=bt601-64.738]",
        "matlab[y=rgb]",
        "matlab[crop_border=0]",
        "matlab[crop_border=10]",
        "matlab[modcrop=false]",
        "matlab[grey=rgb]",
        "matlab[ssim=matlab]",
        "pyiqa",
        "pyiqa-ycbcr",
        "NTIRE 2017",
    ):
        assert name in names, name
    assert "matlab[crop_border=4]" not in names  # the default at x4
    assert "matlab[crop_border=4]" in [c.name for c in candidates(2, runs_model=False)]
    with_lr = [c.name for c in candidates(4, runs_model=True)]
    assert "matlab[rounding=half-even]" in with_lr and "matlab[rounding=half-even]" not in names
    assert "matlab[border=clamp]" not in with_lr  # that is matlab-legacy, tried under its name
    assert len(names) == len(set(names))


@needs_shared
def test_rcan_released_images_against_its_log_name_matlab() -> None:
    log = json.loads((ORACLES / "published_sr/matlab_logs.json").read_text())["RCAN/Set5/x4"]
    for metric in ("psnr", "ssim"):
        mean = float(np.mean([log[i][metric] for i in SET5]))
        assert _first(f"RCAN={RCAN}", _target(metric, mean, 4)) == "matlab"


@needs_shared
@pytest.mark.parametrize(
    ("sets", "formula"),
    [
        ("matlab[y=rgb]", lambda sr, hr: rgb_psnr(sr, hr, 4)),
        ("matlab[y=bt601-64.738]", lambda sr, hr: super_image_psnr(sr, hr, 4)),
        ("NTIRE 2017", lambda sr, hr: rgb_psnr(sr, hr, 10)),
    ],
)
def test_numbers_made_by_other_tools_name_their_convention(sets: str, formula: object) -> None:
    values = [
        formula(_batch(next(RCAN.glob(f"{i}_*.png"))), _batch(BENCH / f"Set5/HR/{i}.png")) for i in SET5
    ]  # type: ignore[operator]
    assert _first(str(RCAN), _target("psnr", float(np.mean(values)), 4)) == sets


@needs_shared
def test_selfexsr_bicubic_scores_name_selfexsr(tmp_path: Path) -> None:
    """SelfExSR's MATLAB bicubic scores (``compute_difference.m``) at x2, from its own HR files."""
    scores = json.loads((ORACLES / "selfexsr/bicubic_matlab_scores.json").read_text())["Set5/x2"]
    hr = tmp_path / "selfexsr-x2"
    hr.mkdir()
    for name in scores:
        (hr / f"{name}.png").symlink_to(ORACLES / f"selfexsr/Set5/x2/{name}_SRF_2_HR.png")
    mean = float(np.mean([s["psnr"] for s in scores.values()]))
    result = explain("bicubic", [_target("psnr", mean, 4, str(hr), 2)])
    rows = result.rankings[0]
    assert rows[0].convention == "selfexsr" and rows[0].reproduces
    assert not any(r.reproduces for r in rows if r.convention == "matlab")


@needs_shared
def test_basicsr_bicubic_numbers_name_basicsr() -> None:
    """BasicSR's pipeline (a NumPy transcription) on Set5 x2. Set5 has no grey image, so only its
    half-to-even rounding of the x2 LR's ties and its float32 Y separate it from ``matlab-double``:
    1.5e-6 dB (measured), so the target carries 6 decimals."""
    values = [basicsr_reference.bicubic_scores(BENCH / f"Set5/HR/{i}.png", 2)[0] for i in SET5]
    assert _first("bicubic", _target("psnr", float(np.mean(values)), 6, "set5", 2)) == "basicsr"


@needs_shared
def test_an_unreachable_target_says_so_and_lists_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["explain", str(RCAN), "--target", "set5 x4 psnr=40.00", "--mirror", str(BENCH)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "no convention reproduces set5 x4 PSNR 40.00" in out and "nearest: " in out
    assert main([*argv[:3], "set5 x4 psnr=32.63", *argv[4:], "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (target,) = data["targets"]
    assert target["reproduced_by"][0] == "matlab"
    first = target["ranking"][0]
    assert set(first) >= {"convention", "value", "difference", "reproduces", "command"}
    assert first["command"] == "--protocol matlab" and data["seconds"] > 0


@needs_shared
def test_a_bad_source_or_target_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["explain", str(tmp_path), "--target", "set5 x4 psnr=30", "--mirror", str(BENCH)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert main(["explain", str(RCAN), "--target", "set5 psnr=30"]) == 2
    assert "name the dataset and the scale" in capsys.readouterr().err


@needs_shared
def test_the_printed_command_gives_the_same_number_through_run(tmp_path: Path) -> None:
    """The row's ``--protocol``/``--protocol-set`` line, given to ``run``, gives the row's value."""
    target = Target("set5", 4, "psnr", 30.0, 2)
    rows = {r.convention: r for r in explain(str(RCAN), [target], mirror=str(BENCH)).rankings[0]}
    for name in ("NTIRE 2017", "matlab[y=bt601-64.738]"):
        row = rows[name]
        out = tmp_path / name.replace(" ", "_").replace("[", "_").replace("]", "")
        argv = ["run", "--quiet", "--models", f"RCAN={RCAN}", "--datasets", "set5", "--scale", "4"]
        argv += ["--mirror", str(BENCH), "--metrics", "psnr,ssim", "--out", str(out), *row.command.split()]
        assert main(argv) == 0
        results = json.loads((out / "summary.json").read_text())["results"]
        (psnr,) = [r["value"] for r in results if r["metric"] == "psnr"]
        assert psnr == pytest.approx(row.value, abs=1e-12), name


@needs_shared
def test_a_published_models_cells_are_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """RCAN's released Set5 x4 images against RCAN's own printed cell (32.63 / 0.9002): ``matlab``."""
    argv = ["explain", f"RCAN={RCAN}", "--cells", "rcan@pub", "--dataset", "set5", "--scale", "4"]
    assert main([*argv, "--mirror", str(BENCH), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(t["metric"], t["value"]) for t in data["targets"]] == [("psnr", 32.63), ("ssim", 0.9002)]
    assert "matlab" in data["reproduce_all"]
    assert main([*argv[:4], "nosuch@pub"]) == 2


@pytest.mark.slow
def test_a_network_is_run_on_each_lr_generator_and_matches_run(tmp_path: Path) -> None:
    """A zoo network (tensors, not arrays): `run`'s own number is reproduced by ``matlab``, and the
    LR generators give other numbers (each row computed from its own LR input)."""
    out = tmp_path / "run"
    argv = ["run", "--quiet", "--models", "srcnn", "--checkpoints", "zoo", "--datasets", "demo"]
    assert main([*argv, "--metrics", "psnr", "--device", "cpu", "--out", str(out)]) == 0
    (value,) = [r["value"] for r in json.loads((out / "summary.json").read_text())["results"]]
    result = explain("srcnn", [_target("psnr", value, 6, "demo", 4)], checkpoints="zoo")
    rows = {r.convention: r for r in result.rankings[0]}
    assert result.rankings[0][0].convention == "matlab" and rows["matlab"].reproduces
    assert not rows["matlab-double"].reproduces and not rows["matlab-legacy"].reproduces
    assert rows["srcnn"].error  # a Y-input profile refuses this RGB network: a row saying why


@pytest.mark.slow
def test_explain_reads_the_sr_cache_run_fills(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` fills the SR cache; `explain` then serves the default convention from it, and a second
    `explain` runs no network at all, with the same ranking."""
    monkeypatch.setenv("SRBENCH_SR_CACHE", "1")
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "data"))
    argv = ["run", "--quiet", "--models", "srcnn", "--checkpoints", "zoo", "--datasets", "demo"]
    assert main([*argv, "--metrics", "psnr", "--device", "cpu", "--out", str(tmp_path / "run")]) == 0
    target = _target("psnr", 25.0, 2, "demo", 4)
    first = explain("srcnn", [target], checkpoints="zoo")
    from srbench_eval.models.base import SRModel

    def no_network(*args: object) -> object:
        raise AssertionError("a network ran although its SR images were cached")

    monkeypatch.setattr(SRModel, "sr_image", no_network)
    second = explain("srcnn", [target], checkpoints="zoo")
    assert [(r.convention, r.value) for r in second.rankings[0]] == [
        (r.convention, r.value) for r in first.rankings[0]
    ]


@needs_shared
def test_a_run_saved_with_save_sr_is_a_source(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["run", "--quiet", "--models", f"RCAN={RCAN}", "--datasets", "set5", "--metrics", "psnr"]
    assert main([*argv, "--mirror", str(BENCH), "--save-sr", "--out", str(out)]) == 0
    (value,) = [r["value"] for r in json.loads((out / "summary.json").read_text())["results"]]
    result = explain(str(out), [_target("psnr", value, 6)], mirror=str(BENCH))
    assert result.rankings[0][0].convention == "matlab" and result.rankings[0][0].reproduces
    with pytest.raises(SrbenchError, match="rerun it with --save-sr"):
        no_sr = tmp_path / "no-sr"
        assert main([*argv, "--mirror", str(BENCH), "--out", str(no_sr)]) == 0
        explain(str(no_sr), [_target("psnr", value, 2)], mirror=str(BENCH))
