"""The run plan (evaluation/plan.py): the user's strings parsed once, every error raised before any
dataset is read; the record written to summary.json; the help texts made from the registries; the
Python API's network handed over as an object; one Sample per image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation import RunConfig, build_plan
from srbench_eval.evaluation.plan import parse_metric_options
from srbench_eval.metrics.sample import LastSample, Sample
from srbench_eval.ranks import from_environ

# Datasets that cannot be opened: a plan error must come before any dataset is looked at.
NOWHERE = ("no-such-dataset-anywhere",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metrics": ("psnr", "nope")}, "unknown metric 'nope'"),
        ({"metric_options": ("psnr.crop_border=4",)}, "option of metric psnr"),
        ({"metrics": ("fid-patch",), "metric_options": ("fid-patch.patch_size=big",)}, "a whole number"),
        ({"scale": 17}, "scale 17 does not fit: use a number from 1 to 16"),
        ({"scale": 0}, "scale 0 does not fit"),
        ({"weights": ("srcnn=x.pt",)}, "srcnn is not one of --models"),
        ({"protocol": "nope"}, "protocol"),
        ({"metrics": ("PSNR", "psnr")}, "metric 'psnr' is listed twice"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
    ],
)
def test_every_bad_string_is_refused_by_the_plan(changes: dict, message: str) -> None:
    config = RunConfig(models=("bicubic",), datasets=NOWHERE, **changes)
    with pytest.raises(SrbenchError, match=message):
        build_plan(config)


def test_the_plan_holds_objects_and_records_the_strings() -> None:
    config = RunConfig(
        models=("bicubic",),
        datasets=NOWHERE,
        metrics=("PSNR", "fid-patch"),
        metric_options=("fid-patch.patch_size=32",),
        protocol="basicsr",
        crop_border=2,
        tile=16,
        tile_overlap=4,
    )
    plan = build_plan(config)
    assert plan.protocol.crop(4) == 2 and plan.protocol.y == "float32"
    assert [(m.name, dict(m.options)) for m in plan.metrics] == [
        ("psnr", {}),
        ("fid-patch", {"patch_size": 32}),
    ]
    assert plan.tiling == (16, 4) and plan.device == "cpu" and not plan.ranks.distributed
    assert plan.models[0].build("cpu").name == "bicubic"
    record = plan.record()
    assert record["metrics"] == ("psnr", "fid-patch") and record["crop_border"] == 2
    assert record["protocol_set"] == () and record["models"] == ("bicubic",)


def test_help_examples_are_real_options_and_names_come_from_the_registries() -> None:
    from srbench_eval.cli import main  # noqa: F401 - the commands register through the cli
    from srbench_eval.commands.evaluation import METRIC_OPTION_EXAMPLES, run, table
    from srbench_eval.protocol import PROFILES
    from srbench_eval.reports.layouts import LAYOUTS

    metrics = tuple(e.partition(".")[0] for e in METRIC_OPTION_EXAMPLES)
    assert len(parse_metric_options(METRIC_OPTION_EXAMPLES, metrics)) == len(set(metrics))
    shown = " ".join(CliRunner().invoke(run, ["--help"], terminal_width=400).output.split())
    for name in PROFILES:
        assert name in shown
    assert "from 1 to 16" in shown and "lpips.crop_border" not in shown
    shown = " ".join(CliRunner().invoke(table, ["--help"], terminal_width=400).output.split())
    assert "One of " + ", ".join(LAYOUTS) in shown


def test_ranks_are_read_from_torchrun_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert (from_environ().rank, from_environ().world, from_environ().is_main) == (0, 1, True)
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "0")
    env = from_environ()
    assert (env.rank, env.world, env.distributed, env.is_main) == (2, 4, True, False)
    monkeypatch.setenv("WORLD_SIZE", "four")
    with pytest.raises(SrbenchError, match=r"\$WORLD_SIZE='four'"):
        from_environ()


def test_sharded_runs_refuse_what_they_cannot_gather(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under torchrun, RealSR's patch means are refused by the plan, before any image is scored."""
    for name, value in (("RANK", "0"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "0")):
        monkeypatch.setenv(name, value)
    with pytest.raises(SrbenchError, match=r"protocol realsr averages PSNR/SSIM over patches .* one process"):
        build_plan(RunConfig(models=("bicubic",), datasets=NOWHERE, protocol="realsr"))


def test_the_api_hands_the_network_over_as_an_object(tmp_path: Path) -> None:
    """No module state, no spec string found again: the summary records the column and the class."""
    import torch

    import srbench_eval
    from srbench_eval import api
    from srbench_eval.data.io.images import write_image

    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "a.png", np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    net = torch.nn.Upsample(scale_factor=2, mode="nearest")
    summary = srbench_eval.evaluate(net, scale=2, datasets=[str(hr)], name="near", out=tmp_path / "run")
    assert list(summary.config["models"]) == ["near=python:torch.nn.modules.upsampling.Upsample"]
    assert summary.provenance["models"]["near"]["class"] == "torch.nn.modules.upsampling.Upsample"
    assert not hasattr(api, "_registered") and "__getattr__" not in vars(api)
    with pytest.raises(SrbenchError, match="unknown metric"):
        srbench_eval.evaluate(net, scale=2, datasets=[str(hr)], metrics=["nope"], out=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


class _Metric:
    def __init__(self, takes_arrays: bool, reads_luma: bool) -> None:
        self.takes_arrays, self.reads_luma = takes_arrays, reads_luma


def test_a_sample_gives_each_metric_its_form_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from srbench_eval.metrics import sample as module

    made: list[str] = []
    original = module.luma
    monkeypatch.setattr(module, "luma", lambda image, rule: made.append(rule) or original(image, rule))
    image = np.random.default_rng(0).integers(0, 256, (1, 3, 8, 8)).astype(np.float32)
    hr = Sample(image, "float32", channels_last=True)
    psnr, lpips = _Metric(True, True), _Metric(False, False)
    assert hr.for_metric(psnr) is hr.for_metric(psnr) and made == ["float32"]
    assert hr.for_metric(psnr).shape == (1, 1, 8, 8)
    tensor = hr.for_metric(lpips)
    assert tensor is hr.tensor() and tensor.is_contiguous(memory_format=__import__("torch").channels_last)
    assert np.array_equal(tensor.numpy(), image)
    plain = Sample(image)  # the plain float Y: each metric computes its own
    assert plain.for_metric(psnr) is image and made == ["float32"]
    samples = LastSample("float32")
    assert samples(image) is samples(image) and samples(image).rule == "float32"
    assert samples(image.copy()) is not samples(image)
