"""`srbench-eval models list` and `models show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from srbench_eval.commands.models import models
from srbench_eval.errors import SrbenchError
from srbench_eval.models.recipes.named import recipe_names


def test_list_prints_every_recipe_with_parameters_losses_and_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRBENCH_CHECKPOINTS", str(tmp_path))
    (tmp_path / "rrdb").mkdir()
    (tmp_path / "rrdb" / "step_1000000.pt").write_bytes(b"")
    result = CliRunner().invoke(models, ["list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    for name in recipe_names():
        assert name in lines
    assert "16,697,987 (x4)" in lines["esrgan"]
    assert "0.01*pixel[l1] + 1*vgg(layer=conv5_4, criterion=l1) + 0.005*gan[ragan]" in lines["esrgan"]
    assert "vgg128_d" in lines["esrgan"] and "x2,x3,x4" in lines["srcnn"]
    assert "step_1000000.pt" in lines["rrdb"] and "step_1000000.pt" not in lines["esrgan"]


def test_show_applies_overrides() -> None:
    result = CliRunner().invoke(
        models, ["show", "esrgan-dp", "--set", "loss.dp.mu=1", "--set", "loss.dp.beta=1.3"]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["label"] == "esrgan-dp[dp.mu=1,dp.beta=1.3]"
    assert shown["loss"]["dp"]["mu"] == 1.0 and shown["generator_parameters"] == 16_697_987


def test_show_unknown_recipe_is_a_user_error() -> None:
    result = CliRunner().invoke(models, ["show", "esrgann"])
    assert isinstance(result.exception, SrbenchError)
    assert "did you mean 'esrgan'" in str(result.exception)
