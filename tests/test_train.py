"""The training loop on tiny models: outputs, logs, two-stage init, GAN + DP, resume, NaN, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from srbench_eval.cli import cli
from srbench_eval.data.io.images import write_image
from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.training import TrainConfig, train
from srbench_eval.training import loop as loop_module
from srbench_eval.training.config import apply_preset, resolve
from srbench_eval.training.logs import read_log

TINY_SRCNN = ("arch.num_feat=4", "arch.num_feat2=4")
TINY_RRDB = ("arch.num_feat=4", "arch.num_block=1", "arch.num_grow_ch=4")


def make_images(folder: Path, n: int = 4, size: tuple[int, int] = (40, 48)) -> Path:
    """Small smooth RGB images with texture (sines plus noise), deterministic."""
    rng = np.random.default_rng(0)
    h, w = size
    y, x = np.mgrid[0:h, 0:w]
    for i in range(n):
        channels = [127 + 90 * np.sin(x / (2 + i + c) + y / (3 + c)) for c in range(3)]
        img = np.stack(channels, axis=2) + rng.normal(0, 8, (h, w, 3))
        write_image(folder / f"t{i}.png", np.clip(img, 0, 255).astype(np.uint8))
    return folder


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("train_hr"))


@pytest.fixture
def tiny(images: Path, tmp_path: Path) -> Callable[..., TrainConfig]:
    """``tiny(model, **fields)``: a config training on the tiny images, validating on two of them."""

    def make(model: str = "srcnn", **fields: object) -> TrainConfig:
        base: dict[str, object] = dict(
            model=model,
            preset="smoke",
            data=str(images),
            val=str(images),
            iterations=4,
            batch_size=2,
            hr_patch=16,
            checkpoints=str(tmp_path / "ckpt"),
            log_every=1,
            progress=False,
            overrides=TINY_RRDB if "rrdb" in model or "esrgan" in model else TINY_SRCNN,
        )
        base.update(fields)
        return TrainConfig(**base)  # type: ignore[arg-type]

    return make


def _states_equal(a: dict, b: dict, path: str = "") -> None:
    assert a.keys() == b.keys(), path
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, torch.Tensor):
            assert torch.equal(va, vb), f"{path}.{k}"
        elif isinstance(va, dict):
            _states_equal(va, vb, f"{path}.{k}")
        elif isinstance(va, list | tuple):
            assert len(va) == len(vb), f"{path}.{k}"
            for i, (x, y) in enumerate(zip(va, vb, strict=True)):
                if isinstance(x, dict):
                    _states_equal(x, y, f"{path}.{k}[{i}]")
                elif isinstance(x, torch.Tensor):
                    assert torch.equal(x, y), f"{path}.{k}[{i}]"
                else:
                    assert x == y, f"{path}.{k}[{i}]"
        else:
            assert va == vb, f"{path}.{k}"


def test_a_run_writes_checkpoints_logs_and_validation(tiny: Callable[..., TrainConfig]) -> None:
    result = train(tiny(iterations=6, save_every=2, val_every=3, keep=2))
    assert result.finished and result.step == 6 and result.label == "srcnn[arch.num_feat=4,arch.num_feat2=4]"
    assert result.run_dir.name == "x4-smoke-arch.num_feat=4_arch.num_feat2=4"
    names = sorted(p.name for p in result.run_dir.glob("*.pt"))
    assert names == ["step_0000004.pt", "step_0000006.pt"]  # keep=2 pruned step 2
    ckpt = ckpts.load_checkpoint(result.run_dir / "step_0000006.pt")
    assert ckpt["kind"] == "training" and ckpt["preset"] == "smoke" and ckpt["finished"]
    assert ckpt["arch"] == {"name": "srcnn", "params": {"num_feat": 4, "num_feat2": 4}}
    assert ckpt["recipe"]["overrides"] == list(TINY_SRCNN)
    assert ckpt["recipe"]["train"]["optimizer"] == "adam"  # the smoke preset's optimiser for SGD recipes
    train_rows = read_log(result.run_dir, "train")
    assert [r["step"] for r in train_rows] == [1, 2, 3, 4, 5, 6]
    assert {"loss", "pixel", "lr", "it_per_s", "img_per_s"} <= set(train_rows[0])
    val = read_log(result.run_dir, "val")
    assert [r["step"] for r in val] == [3, 6]
    assert val[-1]["bicubic_psnr"] > 20 and np.isfinite(val[-1]["psnr"])
    assert (result.run_dir / "train.csv").read_text().startswith("step,")
    assert result.timing["steps"] == 6 and result.timing["it_per_s"] > 0


def test_training_on_pre_extracted_subimages(tiny: Callable[..., TrainConfig]) -> None:
    result = train(tiny(iterations=2, subimages=24, val="none"))
    ckpt = ckpts.load_checkpoint(result.checkpoint)
    assert ckpt["data"]["images"] == 4 and ckpt["data"]["pairs"] > 4  # 24x24 crops of the 4 images


def test_smoke_preset_is_small_and_recorded_apart_from_the_overrides() -> None:
    plan = resolve(TrainConfig(model="esrgan-dp", preset="smoke", overrides=("loss.dp.mu=1",)))
    r = plan.recipe
    assert r.label == "esrgan-dp[dp.mu=1]" and r.overrides == ("loss.dp.mu=1",)
    assert r.arch.params["num_feat"] == 16 and r.disc is not None and r.disc.params["num_feat"] == 8
    assert plan.hr_patch % 32 == 0 and plan.iterations == 2000
    assert list(r.train.milestones) == [250, 500, 1000, 1500]  # 5e4..3e5 of 4e5, compressed
    longer = resolve(TrainConfig(model="esrgan-dp", preset="smoke", iterations=4000)).recipe.train
    assert list(longer.milestones) == [500, 1000, 2000, 3000] and longer.iterations == 4000
    paper = resolve(TrainConfig(model="esrgan-dp", iterations=1000)).recipe.train
    assert list(paper.milestones) == [50_000, 100_000, 200_000, 300_000]  # paper keeps its schedule
    paper = apply_preset(r, "paper", 4)
    assert paper is r
    with pytest.raises(SrbenchError, match="unknown preset"):
        apply_preset(r, "huge", 4)


def test_esrgan_dp_smoke_from_rrdb_logs_each_dp_term(
    tiny: Callable[..., TrainConfig], stand_in_weights: Callable[..., Path], tmp_path: Path
) -> None:
    """The smoke preset as is (no size overrides): rrdb, then esrgan-dp from it (two-stage), with
    stand-in VGG19/ResNet-50 weights; l_vgg, l_res and the DP weighting are logged separately."""
    stand_in_weights("vgg19", "resnet50")
    data = str(make_images(tmp_path / "hr64", n=2, size=(64, 72)))
    smoke = dict(data=data, overrides=(), batch_size=2, hr_patch=None, val="none", log_every=1)
    with pytest.raises(SrbenchError, match="starts from a trained rrdb.*srbench-eval train --model rrdb"):
        train(tiny("esrgan-dp", **smoke))
    first = train(tiny("rrdb", iterations=2, **smoke))
    assert first.run_dir.name == "x4-smoke"
    result = train(tiny("esrgan-dp", iterations=2, **smoke))
    assert result.finished and result.label == "esrgan-dp"
    ckpt = ckpts.load_checkpoint(result.checkpoint)
    assert ckpt["init"]["recipe"] == "rrdb" and ckpt["init"]["step"] == 2
    assert ckpt["arch"]["params"] == {"num_feat": 16, "num_block": 2, "num_grow_ch": 8}
    assert ckpt["recipe"]["train"]["hr_patch"] == 64  # the smoke patch that vgg128_d accepts at x4
    assert ckpt["discriminator"] is not None and ckpt["optimizers"]["d"] is not None
    rows = read_log(result.run_dir, "train")
    for key in ("pixel", "dp", "gan", "dp.l_vgg", "dp.l_res", "dp.zeta", "dp.res_weight", "d_loss"):
        assert all(np.isfinite(r[key]) for r in rows), key
    r = rows[-1]
    # the DP weighting in the log: zeta = (l_vgg + c) / (l_res + c), res_weight = zeta / mu (mu = 0.5)
    assert r["dp.res_weight"] == pytest.approx(r["dp.zeta"] / 0.5, rel=1e-5)
    assert r["dp.zeta"] == pytest.approx(r["dp.l_vgg"] / r["dp.l_res"], rel=0.05)


def test_an_init_checkpoint_of_another_architecture_or_scale_is_refused(
    tiny: Callable[..., TrainConfig],
) -> None:
    srcnn = train(tiny("srcnn", iterations=1, val="none"))
    no_vgg = (*TINY_RRDB, "loss.vgg.weight=0")  # no feature network needed
    with pytest.raises(SrbenchError, match=r"architecture srcnn\(.*\) does not match the expected rrdbnet"):
        train(tiny("esrgan", iterations=1, hr_patch=32, init=str(srcnn.checkpoint), overrides=no_vgg))
    x2 = train(
        tiny("rrdb", scale=2, iterations=1, hr_patch=32, val="none", overrides=(*TINY_RRDB, "scales=2,4"))
    )
    with pytest.raises(SrbenchError, match="trained for x2, not x4"):
        train(tiny("esrgan", iterations=1, hr_patch=32, init=str(x2.checkpoint), overrides=no_vgg))


GAN_NO_VGG = (*TINY_RRDB, "loss.vgg.weight=0", "train.milestones=2,4", "disc.num_feat=2")


def test_resume_after_a_stop_gives_the_weights_of_an_uninterrupted_run(
    tiny: Callable[..., TrainConfig], tmp_path: Path
) -> None:
    """ESRGAN's G/D alternation with EMA and LR milestones; the interrupted run uses 2 data workers."""
    common = dict(iterations=6, hr_patch=32, overrides=GAN_NO_VGG, init="none", ema=0.9, val="none")
    straight = train(tiny("esrgan", checkpoints=str(tmp_path / "a"), **common))
    stopped = train(tiny("esrgan", checkpoints=str(tmp_path / "b"), stop_after=3, workers=2, **common))
    assert not stopped.finished and stopped.step == 3
    with pytest.raises(SrbenchError, match="already holds a run.*--resume"):
        train(tiny("esrgan", checkpoints=str(tmp_path / "b"), **common))
    resumed = train(tiny("esrgan", checkpoints=str(tmp_path / "b"), resume=True, workers=2, **common))
    assert resumed.finished and resumed.step == 6
    a = ckpts.load_checkpoint(straight.checkpoint)
    b = ckpts.load_checkpoint(resumed.checkpoint)
    for key in ("generator", "generator_ema", "discriminator", "optimizers", "schedulers", "rng"):
        _states_equal({key: a[key]}, {key: b[key]})
    # the resumed log reads like the uninterrupted one
    steps = [r["step"] for r in read_log(resumed.run_dir, "train")]
    assert steps == [1, 2, 3, 4, 5, 6]
    losses = lambda run: [r["loss"] for r in read_log(run.run_dir, "train")]  # noqa: E731
    assert losses(straight) == losses(resumed)
    with pytest.raises(SrbenchError, match="other recipe settings"):
        train(tiny("esrgan", checkpoints=str(tmp_path / "b"), resume=True, **{**common, "hr_patch": 64}))


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_weights(images: Path, tmp_path: Path) -> None:
    """SIGKILL a CLI training process after its first checkpoints, resume, compare with a straight run."""
    args = [
        "train", "--model", "srcnn", "--preset", "smoke", "--data", str(images), "--val", "none",
        "--batch-size", "2", "--patch", "16", "--save-every", "3", "--keep", "1", "--quiet",
        *[a for o in TINY_SRCNN for a in ("--set", o)],
    ]  # fmt: skip
    killed_root = tmp_path / "killed"
    # the same number of threads as this process: float sums in the kernels depend on it
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "srbench_eval.cli",
            *args,
            "--iterations",
            "100000",
            "--checkpoints",
            str(killed_root),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    run_dir = killed_root / "srcnn" / "x4-smoke-arch.num_feat=4_arch.num_feat2=4"
    deadline = time.monotonic() + 120
    try:
        while not any(ckpts.step_of(p) >= 6 for p in ckpts.checkpoint_files(run_dir)):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    last = max(ckpts.step_of(p) for p in ckpts.checkpoint_files(run_dir))
    n = last + 4
    runner = CliRunner()
    res = runner.invoke(cli, [*args, "--iterations", str(n), "--checkpoints", str(killed_root), "--resume"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, [*args, "--iterations", str(n), "--checkpoints", str(tmp_path / "straight")])
    assert res.exit_code == 0, res.output
    a = ckpts.load_checkpoint(run_dir / ckpts.step_file(n))
    b = ckpts.load_checkpoint(tmp_path / "straight" / run_dir.relative_to(killed_root) / ckpts.step_file(n))
    _states_equal({"g": a["generator"], "o": a["optimizers"]}, {"g": b["generator"], "o": b["optimizers"]})


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(
    tiny: Callable[..., TrainConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_build = loop_module.build_losses

    def poisoned(recipe):  # the total turns NaN from the 6th call on
        criterion = real_build(recipe)
        forward = criterion.forward
        calls = {"n": 0}

        def nan_after_five(*a, **k):
            report = forward(*a, **k)
            calls["n"] += 1
            if calls["n"] > 5:
                report.total = report.total * float("nan")
            return report

        criterion.forward = nan_after_five
        return criterion

    monkeypatch.setattr(loop_module, "build_losses", poisoned)
    config = tiny(iterations=12, save_every=2, log_every=4, val="none")
    with pytest.raises(
        SrbenchError,
        match=r"NaN or infinite between steps 5 and 6.*last good checkpoint is .*step_0000004\.pt",
    ):
        train(config)
    run_dir = loop_module.run_dir_of(config, resolve(config))
    assert sorted(p.name for p in run_dir.glob("*.pt")) == ["step_0000002.pt", "step_0000004.pt"]
    good = ckpts.load_checkpoint(run_dir / "step_0000004.pt")
    assert all(torch.isfinite(v).all() for v in good["generator"].values())
    assert read_log(run_dir, "event")[-1]["event"] == "nan"


def test_bad_input_is_a_one_line_error(tiny: Callable[..., TrainConfig], tmp_path: Path) -> None:
    with pytest.raises(SrbenchError, match="unknown recipe 'srcn'.*did you mean 'srcnn'"):
        train(tiny("srcn"))
    with pytest.raises(SrbenchError, match=r"smaller than the 64x64 HR patch.*--patch"):
        train(tiny(hr_patch=64))
    with pytest.raises(SrbenchError, match="not a multiple of the scale"):
        train(tiny(hr_patch=18))
    with pytest.raises(SrbenchError, match="defined for x4, not x3"):
        train(tiny("rrdb", scale=3))
    with pytest.raises(SrbenchError, match="does not split evenly"):
        os.environ["WORLD_SIZE"] = "1"
        loop_module.Trainer(
            tiny(batch_size=3), resolve(tiny(batch_size=3)), loop_module.dist_utils.DistEnv(world=2)
        )
    result = CliRunner().invoke(cli, ["train", "--model", "nope"], standalone_mode=False)
    assert isinstance(result.exception, SrbenchError)


def test_cli_trains_and_reports(images: Path, tmp_path: Path) -> None:
    args = ["train", "--model", "srcnn", "--preset", "smoke", "--data", str(images), "--val", str(images)]
    args += [
        "--iterations",
        "3",
        "--batch-size",
        "2",
        "--patch",
        "16",
        "--checkpoints",
        str(tmp_path),
        "--quiet",
    ]
    args += [a for o in TINY_SRCNN for a in ("--set", o)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "srcnn[arch.num_feat=4,arch.num_feat2=4] (smoke): finished at step 3/3" in res.output
    assert "validation on " + str(images) + " x4: PSNR" in res.output and "(bicubic" in res.output
    assert f"srbench-eval run --models bicubic,srcnn --checkpoints {tmp_path} --scale 4" in res.output


@pytest.mark.parametrize("model", ["srcnn", "esrgan"])
def test_bf16_autocast_trains_and_is_recorded(
    model: str, tiny: Callable[..., TrainConfig], stand_in_weights: Callable[..., Path]
) -> None:
    """`--amp bf16` (the default on CUDA, `auto`) through torch.autocast; checked here on the CPU,
    whose autocast runs the same code path (convolutions and matrix products in bfloat16)."""
    extra: dict[str, object] = {}
    if model == "esrgan":  # GAN + VGG features: the discriminator and the loss network under autocast too
        stand_in_weights("vgg19")
        extra = {"hr_patch": 32, "init": "none"}
    result = train(tiny(model, amp="bf16", iterations=3, val="none", **extra))
    start = [r for r in read_log(result.run_dir, "event") if r.get("event") == "start"]
    assert start and start[0]["amp"] == "bf16"
    rows = read_log(result.run_dir, "train")
    assert len(rows) == 3 and all(np.isfinite(r["loss"]) for r in rows)
    ckpt = ckpts.load_checkpoint(result.checkpoint)
    weights = [v for v in ckpt["generator"].values() if v.is_floating_point()]
    assert all(w.dtype == torch.float32 for w in weights)  # master weights stay fp32
    elsewhere = str(result.run_dir / "off")
    off = train(tiny(model, amp="off", iterations=3, val="none", checkpoints=elsewhere, **extra))
    assert read_log(off.run_dir, "train")[0]["loss"] != rows[0]["loss"]  # bf16 arithmetic did run
