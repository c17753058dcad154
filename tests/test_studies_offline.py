"""The study specs offline: the smoke preset's default training data is the embedded demo set (the
paper preset's stays DIV2K), recorded in the checkpoint and the training log; the acceptance
command line of issue 26 (`study SPEC --preset smoke --iterations 20 --datasets set5`, no --data)
runs end to end with stand-in backbones and `esrgan@pub` from a mirror; ``--plan --estimate
--device cuda`` without a GPU is one line, before any plan line."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.papers import load_spec
from srbench_eval.studies import Study
from srbench_eval.studies.estimate import estimate_device, needed_files
from srbench_eval.studies.specs import SpecOptions, spec_plan_commands, spec_study
from srbench_eval.training.config import TrainConfig
from tests.conftest import requires_shared
from tests.test_studies_specs import _esrgan_mirror, invoke

#: Issue 26's acceptance command line, for the spec that holds every kind of member.
ACCEPTANCE = "study dp-table5 --preset smoke --iterations 20 --datasets set5"

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="tests the machine without a GPU")


def test_smoke_trains_on_the_embedded_demo_images_unless_told_paper_keeps_div2k(tmp_path: Path) -> None:
    assert TrainConfig(model="srcnn", preset="smoke").data == "demo"
    assert TrainConfig(model="srcnn").data == TrainConfig(model="srcnn", preset="paper").data == "div2k-train"
    assert TrainConfig(model="srcnn", preset="smoke", data="set14").data == "set14"
    assert Study(recipes=("srcnn",)).data == "demo"  # a study's preset is smoke by default
    assert Study(recipes=("srcnn",), preset="paper").data == "div2k-train"
    spec = load_spec("dp-table1")
    assert spec_study(spec, SpecOptions()).data == "demo"
    assert spec_study(spec, SpecOptions(preset="paper")).data == spec.data == "div2k-train"
    assert spec_study(spec, SpecOptions(data="/imgs")).data == "/imgs"
    study = spec_study(spec, SpecOptions(seeds=(0,)))
    assert all("--data demo" in line for line in spec_plan_commands(spec, study, tmp_path))
    needs = {f.name: f for f in needed_files(spec, study)}
    assert needs["demo"].source == "embedded (scikit-image)" and needs["demo"].used_by == "training"


@no_gpu
def test_estimate_on_a_missing_gpu_is_one_line_before_the_plan(tmp_path: Path) -> None:
    with pytest.raises(SrbenchError, match="no CUDA GPU is available; use --device cpu"):
        estimate_device("cuda")
    assert estimate_device("auto") == estimate_device("cpu") == torch.device("cpu")
    out = tmp_path / "plan"
    code, text = invoke("study", "fdl", "--plan", "--estimate", "--device", "cuda", "--out", str(out))
    assert (
        code == 2 and text.strip() == "device 'cuda' requested but no CUDA GPU is available; use --device cpu"
    )
    assert not out.exists()  # refused before the folder and the plan
    code, text = invoke("study", "fdl", "--plan", "--device", "cuda", "--out", str(out))
    assert code == 0 and "srbench-eval train --model srcnn" in text  # the plan alone needs no GPU


@pytest.mark.slow
@requires_shared
def test_acceptance_command_runs_dp_table5_offline_without_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in_weights: Callable[..., Path]
) -> None:
    """Issue 26's command line, as a user types it (the mirror from $SRBENCH_MIRROR): every member
    trains on the demo images, the table holds the published cells beside the measured ones."""
    stand_in_weights("vgg19", "resnet50", "alexnet")
    monkeypatch.setenv("SRBENCH_MIRROR", str(_esrgan_mirror(tmp_path, monkeypatch)))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    out = tmp_path / "t5"
    code, text = invoke(*shlex.split(ACCEPTANCE), "--out", str(out), "--quiet")
    assert code == 0, text
    assert "esrgan-dp seed 2: trained 20 iterations and evaluated" in text
    assert "esrgan@pub: evaluated" in text and "esrgan-plus@pub: evaluated" in text
    table = (out / "table.md").read_text()
    assert "preset smoke, x4, trained on demo for 20 iterations, seeds 0, 1, 2" in table
    assert "Unfinished" not in table and " → " in table
    (run,) = (out / "members" / "esrgan-dp" / "seed1" / "checkpoints" / "esrgan-dp").glob("x4-smoke*")
    assert ckpts.load_checkpoint(run / "step_0000020.pt")["config"]["data"] == "demo"
    start = json.loads((run / "log.jsonl").read_text().splitlines()[0])
    assert start["event"] == "start" and start["data"]["dataset"] == "demo" and start["data"]["images"] == 5
