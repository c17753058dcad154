"""Training validation takes the run's Protocol object: its numbers are `run --protocol`'s."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from srbench_eval.cli import main
from srbench_eval.errors import SrbenchError
from srbench_eval.models.loading import resolve_model
from srbench_eval.protocol import resolve
from srbench_eval.training.validation import Validator

CPU = torch.device("cpu")


@pytest.mark.parametrize("profile", ["matlab-legacy", "basicsr"])
def test_validation_equals_run_under_the_same_protocol(tmp_path: Path, profile: str) -> None:
    protocol = resolve(profile, ["crop_border=2"])
    validator = Validator("demo", 4, CPU, protocol=protocol)
    net = resolve_model("srcnn", 4, CPU, checkpoints="zoo")
    scores = validator(net.network)
    out = tmp_path / "run"
    argv = ["run", "--quiet", "--models", "bicubic,srcnn", "--checkpoints", "zoo", "--datasets", "demo"]
    assert main([*argv, "--protocol", profile, "--protocol-set", "crop_border=2", "--out", str(out)]) == 0
    results = json.loads((out / "summary.json").read_text())["results"]
    value = {(e["model"] != "bicubic", e["metric"]): e["value"] for e in results}
    for metric in ("psnr", "ssim"):
        assert scores[metric] == pytest.approx(value[(True, metric)], abs=1e-9)
        assert scores[f"bicubic_{metric}"] == pytest.approx(value[(False, metric)], abs=1e-9)
    default = Validator("demo", 4, CPU)
    assert default.bicubic["psnr"] != pytest.approx(validator.bicubic["psnr"], abs=1e-6)


def test_validation_refuses_a_y_protocol() -> None:
    with pytest.raises(SrbenchError, match="protocol srcnn feeds networks the Y channel"):
        Validator("demo", 4, CPU, protocol=resolve("srcnn"))


def test_train_refuses_an_unknown_protocol_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--model", "srcnn", "--preset", "smoke", "--checkpoints", str(tmp_path / "ck")]
    assert main([*argv, "--protocol", "lapsnr"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown protocol 'lapsnr': did you mean 'lapsrn'?")
    assert not (tmp_path / "ck").exists()


def test_train_validates_under_a_degradation(tmp_path: Path) -> None:
    """``train --degradation bd``: the validation's bicubic row is ``run --degradation bd``'s (RDN's
    blur-downsample LR of the validation images), recorded as the protocol's ``lr_source``."""
    from srbench_eval.training.logs import read_log

    ck = tmp_path / "ck"
    argv = ["train", "--model", "srcnn", "--preset", "smoke", "--iterations", "2", "--batch-size", "2"]
    argv += ["--patch", "16", "--val", "demo", "--device", "cpu", "--checkpoints", str(ck), "--quiet"]
    assert main([*argv, "--protocol", "rdn-bddn", "--degradation", "bd"]) == 0
    (log,) = ck.rglob("log.jsonl")
    val = read_log(log.parent, "val")[-1]
    out = tmp_path / "run"
    run = ["run", "--quiet", "--models", "bicubic", "--datasets", "demo", "--scale", "4", "--out", str(out)]
    assert main([*run, "--protocol", "rdn-bddn", "--degradation", "bd"]) == 0
    results = json.loads((out / "summary.json").read_text())["results"]
    for e in results:
        assert val[f"bicubic_{e['metric']}"] == pytest.approx(e["value"], abs=1e-9)
    bi = Validator("demo", 4, CPU, protocol=resolve("rdn-bddn"))
    assert bi.bicubic["psnr"] != pytest.approx(val["bicubic_psnr"], abs=1e-3)  # BD is another LR
