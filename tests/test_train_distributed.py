"""DistributedDataParallel training: torchrun with 2 CPU processes on gloo.

Two ranks with half the batch each must compute the update of one process with the whole batch
(the sample stream is split, the gradients averaged), up to float rounding; only rank 0 logs and
writes checkpoints, which hold both ranks' RNG states. A GAN recipe runs end to end as well (the
discriminator's real/fake pair goes through one DDP call).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from srbench_eval.models import checkpoints as ckpts
from srbench_eval.training import TrainConfig, train
from srbench_eval.training.logs import read_log
from tests.test_train import GAN_NO_VGG, TINY_SRCNN, make_images

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("ddp_hr"))


def _torchrun(args: list[str], timeout: float = 240) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "srbench_eval.cli", "train", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _args(images: Path, root: Path, model: str, overrides: tuple[str, ...], *extra: str) -> list[str]:
    args = ["--model", model, "--preset", "smoke", "--data", str(images), "--val", "none", "--device", "cpu"]
    args += ["--batch-size", "4", "--checkpoints", str(root), "--log-every", "1", "--quiet", *extra]
    return args + [a for o in overrides for a in ("--set", o)]


def _single(config: TrainConfig) -> Path:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train(config)
    finally:
        torch.set_num_threads(threads)
    assert result.checkpoint is not None
    return result.checkpoint


def test_two_ranks_compute_the_single_process_update(images: Path, tmp_path: Path) -> None:
    _torchrun(_args(images, tmp_path / "ddp", "srcnn", TINY_SRCNN, "--iterations", "4", "--patch", "16"))
    run_dir = tmp_path / "ddp" / "srcnn" / "x4-smoke-arch.num_feat=4_arch.num_feat2=4"
    ddp = ckpts.load_checkpoint(run_dir / "step_0000004.pt")
    assert ddp["world_size"] == 2 and len(ddp["rng"]) == 2
    start = read_log(run_dir, "event")[0]
    assert start["world_size"] == 2 and start["event"] == "start"
    assert [r["step"] for r in read_log(run_dir, "train")] == [1, 2, 3, 4]  # one writer: rank 0

    single = ckpts.load_checkpoint(
        _single(
            TrainConfig(
                model="srcnn",
                preset="smoke",
                data=str(images),
                val="none",
                device="cpu",
                iterations=4,
                batch_size=4,
                hr_patch=16,
                overrides=TINY_SRCNN,
                checkpoints=str(tmp_path / "single"),
                progress=False,
            )
        )
    )
    assert single["world_size"] == 1
    for name, value in single["generator"].items():
        torch.testing.assert_close(ddp["generator"][name], value, rtol=1e-5, atol=1e-6, msg=name)


def test_a_gan_recipe_trains_on_two_ranks(images: Path, tmp_path: Path) -> None:
    _torchrun(
        _args(images, tmp_path, "esrgan", GAN_NO_VGG, "--iterations", "3", "--patch", "32", "--init", "none")
    )
    ckpt_path = ckpts.find_latest("esrgan", 4, tmp_path)
    assert ckpt_path is not None
    ckpt = ckpts.load_checkpoint(ckpt_path)
    assert ckpt["step"] == 3 and ckpt["world_size"] == 2
    assert all(torch.isfinite(v).all() for v in ckpt["discriminator"].values() if v.is_floating_point())
    rows = read_log(ckpt_path.parent, "train")
    assert all("d_loss" in r and "gan" in r for r in rows)


@pytest.mark.parametrize(
    ("device", "backend", "device_id"), [("auto", "nccl", "cuda:1"), ("cpu", "gloo", None)]
)
def test_torchrun_rank_joins_nccl_on_gpus_and_gloo_on_cpus(monkeypatch, device, backend, device_id) -> None:
    """What a torchrun rank asks of torch.distributed (no GPU here: CUDA and the group are faked)."""
    from srbench_eval import distributed

    calls: list[dict] = []
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(distributed.torch.cuda, "set_device", lambda d: None)
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", lambda **kw: calls.append(kw))
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    env = distributed.setup(device)
    assert (env.rank, env.world, env.local_rank, env.is_main) == (1, 2, 1, False)
    assert [c["backend"] for c in calls] == [backend]
    got = calls[0].get("device_id")
    assert (str(got) if got is not None else None) == device_id
    assert str(env.device) == (device_id or "cpu")
