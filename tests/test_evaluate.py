"""The `run`, `table` and `check` commands end to end on the embedded demo set and small folders."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from srbench_eval.cli import main
from srbench_eval.data.io.images import read_image, write_image
from srbench_eval.reports.regression import load_baseline

REPO = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    assert main(["run", "--quiet", "--out", str(out), *args]) == 0
    return out


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("demo")
    return _run(tmp, "run", "--models", "bicubic", "--datasets", "demo", "--scale", "4", "--save-sr")


def test_run_writes_results_summary_and_tables(demo_run: Path) -> None:
    files = sorted(p.name for p in demo_run.iterdir())
    assert files == ["results.csv", "sr", "summary.json", "table.md", "table.tex"]
    rows = list(csv.DictReader((demo_run / "results.csv").read_text().splitlines()))
    assert len(rows) == 5 * 2 and {r["metric"] for r in rows} == {"psnr", "ssim"}
    summary = json.loads((demo_run / "summary.json").read_text())
    prov = summary["provenance"]
    for key in ("tool_version", "git_commit", "torch", "device", "protocol", "started", "finished"):
        assert key in prov
    assert prov["datasets"]["demo"]["verified"] == "manifest ok"
    assert len(prov["datasets"]["demo"]["manifest_digest"]) == 64
    psnr = [e for e in summary["results"] if e["metric"] == "psnr"][0]
    mean = np.mean([float(r["value"]) for r in rows if r["metric"] == "psnr"])
    assert psnr["value"] == pytest.approx(mean, abs=1e-12)
    table_md = (demo_run / "table.md").read_text()  # the paper layout: methods in rows
    assert "| Method   |" in table_md and "Demo" in table_md and "_Each cell: PSNR ↑ / SSIM ↑_" in table_md
    assert r"\toprule" in (demo_run / "table.tex").read_text()


def test_grey_image_is_scored_as_grey(demo_run: Path) -> None:
    sr = read_image(demo_run / "sr" / "bicubic" / "demo" / "camera.png")
    assert sr.ndim == 2  # camera is grey: the SR stays single-channel and is its own Y


def test_folder_model_matches_the_model_it_came_from(demo_run: Path, tmp_path: Path) -> None:
    sr_dir = demo_run / "sr" / "bicubic" / "demo"
    renamed = tmp_path / "published" / "demo"
    renamed.mkdir(parents=True)
    for p in sr_dir.iterdir():  # result sets often carry suffixes: baby_x4_SR.png
        (renamed / f"{p.stem}_x4_SR.png").write_bytes(p.read_bytes())
    out = _run(tmp_path, "run2", "--models", f"bicubic,copy={tmp_path / 'published'}", "--datasets", "demo")
    values = {
        (e["model"], e["metric"]): e["value"]
        for e in json.loads((out / "summary.json").read_text())["results"]
    }
    assert values[("copy", "psnr")] == values[("bicubic", "psnr")]
    assert values[("copy", "ssim")] == values[("bicubic", "ssim")]
    table_md = (out / "table.md").read_text()
    assert "| bicubic  |" in table_md and "| copy     |" in table_md
    assert "| bicubic  | 29.95/0.8191 |" in table_md  # all tie: no mark


def test_bad_inputs_are_one_line_errors_and_leave_nothing(
    demo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    base = ["run", "--quiet", "--out", str(out), "--datasets", "demo"]
    assert "did you mean 'bicubic'" in _error(capsys, [*base, "--models", "bicubc"])
    assert "did you mean 'demo'" in _error(capsys, [*base[:-1], "demoo", "--models", "bicubic"])
    assert "scale 0" in _error(capsys, [*base, "--models", "bicubic", "--scale", "0"])
    # SR images of the wrong size (x4 images given for a x2 run).
    sr_dir = demo_run / "sr" / "bicubic" / "demo"
    assert "but the HR image" in _error(capsys, [*base, "--models", f"x={sr_dir}", "--scale", "2"])
    # A missing SR image.
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "astronaut.png").write_bytes((sr_dir / "astronaut.png").read_bytes())
    assert "no SR image for 'camera'" in _error(capsys, [*base, "--models", f"x={partial}"])
    # A corrupt HR image in a folder dataset.
    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "a.png", np.zeros((32, 32, 3), np.uint8))
    (hr / "b.png").write_bytes(b"garbage")
    err = _error(capsys, ["run", "--quiet", "--out", str(out), "--datasets", str(hr), "--models", "bicubic"])
    assert "b.png" in err
    assert not out.exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".never")] == []


def test_table_merges_runs_and_check_detects_changes(
    demo_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = _run(tmp_path, "x2", "--models", "bicubic", "--datasets", "demo", "--scale", "2")
    capsys.readouterr()
    assert main(["table", str(demo_run), str(other), "--format", "latex"]) == 0
    tex = capsys.readouterr().out
    assert r"Demo $\times$4" in tex and r"Demo $\times$2" in tex
    baseline = tmp_path / "b.json"
    assert main(["check", "--baseline", str(baseline), "--update", str(demo_run)]) == 0
    assert main(["check", "--baseline", str(baseline), str(demo_run)]) == 0
    doctored = load_baseline(baseline)
    text = baseline.read_text().replace(
        repr(doctored.entries[0].value), repr(doctored.entries[0].value + 0.01)
    )
    baseline.write_text(text)
    capsys.readouterr()
    assert main(["check", "--baseline", str(baseline), str(demo_run)]) == 1
    assert "CHANGED" in capsys.readouterr().out


def test_committed_demo_baseline_matches_a_fresh_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--baseline", str(REPO / "results/baselines/bicubic-demo-x4.json")]) == 0
    assert "all 2 values match" in capsys.readouterr().out


def test_perceptual_metrics_with_stand_ins_are_flagged(
    stand_in_weights, demo_run: Path, tmp_path: Path
) -> None:
    stand_in_weights("alexnet")
    copy = demo_run / "sr" / "bicubic" / "demo"  # the same SR images, read back from files
    models = f"bicubic,copy={copy}"
    out = _run(tmp_path, "p", "--models", models, "--datasets", "demo", "--metrics", "psnr,ssim,lpips")
    table = (out / "table.md").read_text()
    assert "LPIPS ↓" in table and "STAND-IN WEIGHTS (alexnet)" in table
    summary = json.loads((out / "summary.json").read_text())
    assert summary["provenance"]["stand_in_weights"] == ["alexnet"]
    # The HR side of SSIM and LPIPS is computed once per image (read-ahead threads) for both models.
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_model: dict[str, dict[tuple[str, str], str]] = {}
    for row in rows:
        by_model.setdefault(row["model"], {})[(row["image"], row["metric"])] = row["value"]
    assert len(by_model["bicubic"]) == 15 and by_model["bicubic"] == by_model["copy"]


def test_missing_weights_is_a_clear_error(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_home"))
    err = _error(
        capsys,
        [
            "run",
            "--quiet",
            "--out",
            str(tmp_path / "o"),
            "--models",
            "bicubic",
            "--datasets",
            "demo",
            "--metrics",
            "psnr,lpips",
        ],
    )
    assert "alexnet-owt-7be5be79.pth" in err and "https://" in err
    assert not (tmp_path / "o").exists()


def test_metric_options_reach_the_metric_and_the_summary(tmp_path: Path, capsys) -> None:
    args = ["--models", "bicubic", "--datasets", "demo", "--metrics", "ms-ssim"]
    plain = _run(tmp_path, "plain", *args)
    product = _run(tmp_path, "product", *args, "--metric-option", "ms-ssim.method=product")
    info = json.loads((product / "summary.json").read_text())["metrics"]["ms-ssim"]
    assert info["options"] == {"method": "product"}
    values = [json.loads((d / "summary.json").read_text())["results"][0]["value"] for d in (plain, product)]
    assert values[0] != values[1]
    base = ["run", "--quiet", "--out", str(tmp_path / "x"), *args, "--metric-option"]
    assert "did you mean 'method'" in _error(capsys, [*base, "ms-ssim.methd=product"])
    assert "not in --metrics" in _error(capsys, [*base, "fid.batch_size=8"])
    assert "METRIC.OPTION=VALUE" in _error(capsys, [*base, "ms-ssim=8"])


def test_perceptual_crop_is_a_protocol_field(stand_in_weights, tmp_path: Path) -> None:
    """LPIPS compares whole images unless the protocol's perceptual_crop drops its border (one crop
    route: the protocol); the field is recorded and changes the value."""
    stand_in_weights("alexnet")
    args = ["--models", "bicubic", "--datasets", "demo", "--metrics", "lpips"]
    whole = _run(tmp_path, "whole", *args)
    cropped = _run(tmp_path, "cropped", *args, "--protocol-set", "perceptual_crop=true")
    docs = [json.loads((d / "summary.json").read_text()) for d in (whole, cropped)]
    assert [d["provenance"]["protocol"]["perceptual_crop"] for d in docs] == [False, True]
    assert docs[0]["results"][0]["value"] != docs[1]["results"][0]["value"]


def tiny_conv_x2() -> object:
    """A seeded float64 network: two 3x3 convolutions (receptive radius 2 LR pixels), pixel shuffle."""
    from tests.tiny_networks import conv_x2

    net = conv_x2()
    return lambda x: net(x.double()).float()


def test_run_tile_with_overlap_of_the_receptive_radius_scores_as_untiled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--models", f"net={__name__}:tiny_conv_x2", "--datasets", "demo", "--scale", "2", "--save-sr"]
    whole = _run(tmp_path, "whole", *args)
    tiled = _run(tmp_path, "tiled", *args, "--tile", "24", "--tile-overlap", "2")
    assert (tiled / "results.csv").read_text() == (whole / "results.csv").read_text()
    for sr in (whole / "sr").rglob("*.png"):
        assert np.array_equal(read_image(sr), read_image(tiled / sr.relative_to(whole)))
    seams = _run(tmp_path, "seams", *args, "--tile", "24")
    assert (seams / "results.csv").read_text() != (whole / "results.csv").read_text()
    config = json.loads((tiled / "summary.json").read_text())["config"]
    assert (config["tile"], config["tile_overlap"]) == (24, 2)
    err = _error(capsys, ["run", "--models", "bicubic", "--datasets", "demo", "--tile", "-1"])
    assert "--tile -1" in err


def test_an_rgb_network_under_a_y_protocol_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["run", "--models", "bicubic,srcnn", "--checkpoints", "zoo", "--protocol", "srcnn"]
    err = _error(capsys, [*argv, "--datasets", "demo", "--scale", "4", "--out", str(out), "--quiet"])
    assert "model 'srcnn (smoke)': the network takes RGB input but protocol srcnn feeds networks Y" in err
    assert not out.exists()


def test_auto_device_asks_torch_only_where_a_gpu_driver_is(tmp_path: Path) -> None:
    """``--device auto`` is the CPU without importing torch when no NVIDIA/ROCm driver file exists;
    where one does, torch is asked (here it finds no GPU)."""
    import subprocess
    import sys

    import torch

    driver = tmp_path / "nvidiactl"
    driver.touch()
    code = (
        "import sys; from srbench_eval.evaluation import device as e; e.GPU_DRIVER_FILES = (sys.argv[1],); "
        "print(e.resolve_device('auto'), 'torch' in sys.modules)"
    )
    for files, torch_asked in ((str(tmp_path / "absent"), False), (str(driver), True)):
        out = subprocess.run([sys.executable, "-c", code, files], capture_output=True, text=True, timeout=120)
        device, imported = out.stdout.split()
        assert imported == str(torch_asked), out.stderr
        assert device == ("cuda" if torch_asked and torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("protocol", ["basicsr", "selfexsr"])
def test_shared_y_planes_give_the_values_of_each_metric_on_its_own(
    demo_run: Path, tmp_path: Path, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a protocol whose Y is not the plain float one, PSNR and SSIM are handed the Y planes each
    image's Sample makes once (metrics.sample.Sample.luma): byte-identical to each computing its own."""
    from srbench_eval.metrics import sample

    folder = f"sr={demo_run / 'sr' / 'bicubic'}"
    args = ["--models", f"bicubic,{folder}", "--datasets", "demo", "--protocol", protocol, "--scale", "4"]
    made: list[str] = []
    original = sample.luma

    def counted(image: object, rule: str) -> object:
        made.append(rule)
        return original(image, rule)

    monkeypatch.setattr(sample, "luma", counted)
    shared = _run(tmp_path, "shared", *args)
    assert made == [protocol_y(protocol)] * (5 + 2 * 5)  # one plane per HR image and per SR image
    monkeypatch.setattr(sample.Sample, "shares_luma", lambda self, metric: False)
    made.clear()
    own = _run(tmp_path, "own", *args)
    assert made == []
    assert (shared / "results.csv").read_bytes() == (own / "results.csv").read_bytes()


def protocol_y(name: str) -> str:
    from srbench_eval.protocol import PROFILES

    return PROFILES[name].y


def test_the_scoring_thread_keeps_the_order_and_raises_in_the_main_thread() -> None:
    """``run`` scores one image's SR in a second thread while it makes the next: rows come out in
    submission order, and a metric's error is raised in the main thread, naming the image."""
    from types import SimpleNamespace

    from srbench_eval.errors import SrbenchError
    from srbench_eval.evaluation.scoring import Scorer

    class Task:
        def __init__(self, k: int) -> None:
            self.k = k

        def run(self, metrics: list) -> tuple[list, list]:
            if self.k == 3:
                raise SrbenchError(f"set/im{self.k}: too small")
            return [(self.k, SimpleNamespace(value=self.k))], []

    rows: list = []
    with Scorer(rows, pending=2) as scorer:
        for k in range(3):
            scorer.submit(Task(k), [])  # type: ignore[arg-type]
    assert [k for k, _ in rows] == [0, 1, 2]
    rows.clear()
    refused = pytest.raises(SrbenchError, match="im3: too small")
    with refused, Scorer(rows, pending=1) as scorer:
        for k in range(3, 8):
            scorer.submit(Task(k), [])  # type: ignore[arg-type]
    assert rows == []
