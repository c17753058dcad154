"""`run` evaluates what `train` made: recipe names find checkpoints; labels and provenance say which."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from srbench_eval.cli import cli
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation import RunConfig, run_evaluation
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.models.loading import parse_weights, resolve_model
from srbench_eval.training import TrainConfig, train
from srbench_eval.training.logs import read_log
from tests.test_train import TINY_SRCNN, make_images

CPU = torch.device("cpu")
LABEL = "srcnn[arch.num_feat=4,arch.num_feat2=4] (smoke)"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny srcnn trained for 3 steps, validated on its own images: (checkpoint root, images)."""
    root = tmp_path_factory.mktemp("trained")
    images = make_images(root / "hr", n=3, size=(36, 44))
    config = TrainConfig(
        model="srcnn",
        preset="smoke",
        data=str(images),
        val=str(images),
        iterations=3,
        batch_size=2,
        hr_patch=16,
        overrides=TINY_SRCNN,
        checkpoints=str(root / "ckpt"),
        progress=False,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRBENCH_DATA", str(root / "data"))
        train(config)
    return root / "ckpt", images


def test_a_recipe_name_finds_its_newest_checkpoint(trained: tuple[Path, Path]) -> None:
    root, _ = trained
    model = resolve_model("srcnn", 4, CPU, checkpoints=root)
    assert model.name == LABEL  # a smoke model is never labelled as the paper model
    p = model.provenance
    path = root / "srcnn" / "x4-smoke-arch.num_feat=4_arch.num_feat2=4" / "step_0000003.pt"
    assert p["path"] == str(path.resolve()) and p["sha256"] == ckpts.sha256_file(path)
    assert (p["step"], p["preset"], p["source"]) == (3, "smoke", "checkpoint dir")
    assert p["size"] == {"name": "srcnn", "params": {"num_feat": 4, "num_feat2": 4}}
    assert p["recipe"]["overrides"] == list(TINY_SRCNN)
    # --weights: a file or a folder; LABEL=file.pt
    assert resolve_model("srcnn", 4, CPU, weights={"srcnn": str(path)}).provenance["source"] == "--weights"
    assert resolve_model("srcnn", 4, CPU, weights={"srcnn": str(path.parent)}).name == LABEL
    assert resolve_model(f"mine={path}", 4, CPU).name == "mine (smoke)"  # LABEL=file.pt keeps the preset
    # a file or run folder alone takes the checkpoint's label (a sweep's variants, side by side)
    assert resolve_model(str(path), 4, CPU).name == LABEL
    assert resolve_model(str(path.parent), 4, CPU).provenance["path"] == str(path.resolve())


def test_labels_tell_a_stopped_run_and_a_smoke_model_from_the_paper_model(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    from srbench_eval.reports.tables import build_table, to_markdown
    from srbench_eval.runs.results import Summary, SummaryEntry

    root, _ = trained
    path = root / "srcnn" / "x4-smoke-arch.num_feat=4_arch.num_feat2=4" / "step_0000003.pt"
    ckpt = torch.load(path, weights_only=True)
    ckpt.update(step=2, iterations=5, finished=False)  # a run killed at step 2 of 5
    killed = tmp_path / "step_0000002.pt"
    torch.save(ckpt, killed)
    stopped = resolve_model(str(killed), 4, CPU)
    assert stopped.name == "srcnn[arch.num_feat=4,arch.num_feat2=4] (smoke, step 2 of 5)"
    assert resolve_model(f"mine={killed}", 4, CPU).name == "mine (smoke, step 2 of 5)"
    assert resolve_model(f"mine (smoke)={path}", 4, CPU).name == "mine (smoke)"
    finished = resolve_model(str(path), 4, CPU)
    assert finished.name == LABEL and finished.name != stopped.name
    # The tables say what each model is: preset, iterations trained of planned, not the paper's.
    models = {m.name: m.provenance for m in (finished, stopped)}
    entries = [SummaryEntry(m, "set5", 4, "psnr", 20.0 + i, 5) for i, m in enumerate(models)]
    metrics = {"psnr": {"label": "PSNR", "higher_is_better": True, "decimals": 2}}
    md = to_markdown(build_table([Summary(entries, metrics, {"models": models}, {})]))
    assert "not the papers' models" in md
    assert (
        f"{LABEL}: smoke preset, 3/3 iterations" in md
        and "(smoke, step 2 of 5): smoke preset, 2/5 iterations" in md
    )


def test_missing_and_mismatched_checkpoints_are_clear_errors(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _ = trained
    with pytest.raises(
        SrbenchError,
        match=r"no trained checkpoint of recipe esrgan at x4.*srbench-eval train "
        r"--model esrgan --scale 4.*--weights esrgan=PATH",
    ):
        resolve_model("esrgan", 4, CPU, checkpoints=tmp_path)
    with pytest.raises(SrbenchError, match="no trained checkpoint of recipe srcnn at x3"):
        resolve_model("srcnn", 3, CPU, checkpoints=root)
    path = ckpts.find_latest("srcnn", 4, root)
    with pytest.raises(SrbenchError, match="a checkpoint of recipe srcnn, not rrdb"):
        resolve_model("rrdb", 4, CPU, weights={"rrdb": str(path)})
    with pytest.raises(SrbenchError, match="trained for x4, not x2"):
        resolve_model("srcnn", 2, CPU, weights={"srcnn": str(path)})
    with pytest.raises(SrbenchError, match="unknown model 'srcn'.*did you mean 'srcnn'"):
        resolve_model("srcn", 4, CPU)
    with pytest.raises(SrbenchError, match="rrdb is not one of --models"):
        parse_weights(["rrdb=x.pt"], ["srcnn"])
    with pytest.raises(SrbenchError, match="expected NAME=PATH"):
        parse_weights(["x.pt"])


def test_run_reports_the_validation_numbers_and_the_provenance(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    root, images = trained
    out = tmp_path / "run"
    res = CliRunner().invoke(
        cli,
        ["run", "--models", "bicubic,srcnn", "--datasets", str(images), "--scale", "4",
         "--checkpoints", str(root),
         "--out", str(out), "--quiet"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"| {LABEL} |" in res.output.replace("  ", " ") or LABEL in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["checkpoints"] == str(root)
    prov = summary["provenance"]["models"][LABEL]
    assert prov["kind"] == "checkpoint" and prov["step"] == 3 and len(prov["sha256"]) == 64
    psnr = next(e["value"] for e in summary["results"] if e["model"] == LABEL and e["metric"] == "psnr")
    run_dir = Path(prov["path"]).parent
    val = read_log(run_dir, "val")[-1]
    assert psnr == pytest.approx(val["psnr"], abs=1e-9)  # training validation = the protocol of `run`


ZOO = sorted(ckpts.zoo_dir().glob("*.pt"))


def test_the_shipped_demo_models_are_small_and_labelled_as_smoke() -> None:
    names = {"srcnn-x4-smoke.pt", "lapsrn-fdl-x4-smoke.pt", "rrdb-x4-smoke.pt", "rrdb-sog-x4-smoke.pt"}
    assert {p.name for p in ZOO} == names
    assert sum(p.stat().st_size for p in ZOO) < 5 * 1024 * 1024
    for path in ZOO:
        recipe = path.name.rsplit("-x4-", 1)[0]
        model = resolve_model(recipe, 4, CPU, checkpoints="zoo")
        assert model.name == f"{recipe} (smoke)" and model.provenance["source"] == "shipped zoo"
        assert model.provenance["step"] >= 2000


@pytest.mark.slow
def test_the_shipped_demo_models_beat_bicubic_on_demo(tmp_path: Path) -> None:
    """Real learning: every shipped model has a higher PSNR than bicubic on the demo set at x4."""
    names = [p.name.rsplit("-x4-", 1)[0] for p in ZOO]
    config = RunConfig(
        models=("bicubic", *names), scale=4, datasets=("demo",), metrics=("psnr",), checkpoints="zoo"
    )
    summary = run_evaluation(config, tmp_path / "run", progress=False)
    psnr = {e.model: e.value for e in summary.entries}
    for name in names:
        assert psnr[f"{name} (smoke)"] > psnr["bicubic"] + 0.1, (name, psnr)
