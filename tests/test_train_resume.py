"""Checkpoint save and restore of a training run on their own (srbench_eval.training.resume):
a checkpoint restores into freshly built networks, optimisers, schedules and EMA exactly, and one
of other settings is refused naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.models.recipes.named import build_discriminator, build_generator
from srbench_eval.ranks import DistEnv
from srbench_eval.training import TrainConfig, resume
from srbench_eval.training.config import resolve
from srbench_eval.training.state import EMA, make_optimizer, make_scheduler, seed_everything
from tests.test_train import _states_equal

GAN = ("arch.num_feat=4", "arch.num_block=1", "arch.num_grow_ch=4", "loss.vgg.weight=0", "disc.num_feat=2")
ENV = DistEnv()


def config(**fields: object) -> TrainConfig:
    base: dict[str, object] = dict(
        model="esrgan", preset="smoke", iterations=6, batch_size=2, hr_patch=32, overrides=GAN, ema=0.9
    )
    base.update(fields)
    return TrainConfig(**base)  # type: ignore[arg-type]


def parts(cfg: TrainConfig, seed: int) -> resume.Parts:
    """The pieces of a run of ``cfg`` built as the trainer builds them, from ``seed``."""
    plan = resolve(cfg)
    seed_everything(seed)
    t = plan.recipe.train
    g = build_generator(plan.recipe, plan.scale)
    d = build_discriminator(plan.recipe)
    assert d is not None
    opt_g, opt_d = make_optimizer(g, t, t.lr), make_optimizer(d, t, t.lr)
    ema = EMA(g, cfg.ema) if cfg.ema else None
    return resume.Parts(g, opt_g, make_scheduler(opt_g, t), d, opt_d, make_scheduler(opt_d, t), ema)


def step(p: resume.Parts) -> None:
    """One update of both networks with made-up losses: optimiser moments and schedules move."""
    for net, opt, sched in ((p.g, p.opt_g, p.sched_g), (p.d, p.opt_d, p.sched_d)):
        assert net is not None and opt is not None and sched is not None
        loss = sum((q.float() ** 2).sum() for q in net.parameters())
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    if p.ema is not None:
        p.ema.update(p.g)


def save(cfg: TrainConfig, p: resume.Parts, run_dir: Path, at: int) -> Path:
    plan = resolve(cfg)
    state = resume.training_state(
        p,
        recipe=plan.recipe,
        config=cfg,
        plan=plan,
        env=ENV,
        step=at,
        finished=False,
        data={},
        init=None,
        val={"psnr": 20.0},
    )
    return resume.save(state, run_dir, ENV, last_good=None, iterations=plan.iterations, keep=cfg.keep)


def states(p: resume.Parts) -> list[dict]:
    assert p.d is not None and p.opt_d is not None and p.sched_d is not None and p.ema is not None
    return [
        x.state_dict()
        for x in (p.g, p.opt_g, p.sched_g, p.d, p.opt_d, p.sched_d, p.ema.net)  # type: ignore[attr-defined]
    ]


def test_a_checkpoint_restores_every_piece_exactly(tmp_path: Path) -> None:
    cfg = config()
    trained = parts(cfg, seed=0)
    for _ in range(3):
        step(trained)
    path = save(cfg, trained, tmp_path, at=3)
    assert path == tmp_path / "step_0000003.pt" and resume.existing_checkpoint(tmp_path, True) == path
    fresh = parts(cfg, seed=1)
    restored = resume.restore(path, fresh, resolve(cfg).recipe, ENV)
    assert (restored.step, restored.val, restored.path) == (3, {"psnr": 20.0}, path)
    assert restored.rng is not None and set(restored.rng) >= {"python", "numpy", "torch"}
    for a, b in zip(states(fresh), states(trained), strict=True):
        _states_equal(a, b)
    for a, b in zip(fresh.g.parameters(), trained.g.parameters(), strict=True):
        assert torch.equal(a, b)
    # the restored pieces go on exactly as the saved ones do
    step(fresh)
    step(trained)
    for a, b in zip(fresh.g.parameters(), trained.g.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_run_folder_with_a_checkpoint_needs_resume(tmp_path: Path) -> None:
    cfg = config()
    save(cfg, parts(cfg, seed=0), tmp_path, at=1)
    with pytest.raises(SrbenchError, match="already holds a run.*--resume"):
        resume.existing_checkpoint(tmp_path, resume=False)
    assert resume.existing_checkpoint(tmp_path / "empty", resume=True) is None


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (dict(ema=0.0), "was trained with --ema"),
        (dict(overrides=(*GAN, "train.lr=1e-3")), "other recipe settings"),
        (dict(batch_size=4), "other recipe settings"),
    ],
)
def test_a_checkpoint_of_other_settings_is_refused(other: dict, message: str, tmp_path: Path) -> None:
    cfg = config()
    path = save(cfg, parts(cfg, seed=0), tmp_path, at=1)
    before = path.read_bytes()
    changed = config(**other)
    with pytest.raises(SrbenchError, match=message) as e:
        resume.restore(path, parts(changed, seed=0), resolve(changed).recipe, ENV)
    assert str(path) in str(e.value) and path.read_bytes() == before


def test_a_longer_run_resumes_the_same_checkpoint(tmp_path: Path) -> None:
    """With the paper preset the milestones stay the paper's: only the run length changes (the
    smoke preset compresses the milestones in proportion to the run, so its longer run differs)."""
    cfg = config(preset="paper")
    path = save(cfg, parts(cfg, seed=0), tmp_path, at=1)
    longer = config(preset="paper", iterations=60)
    assert resume.restore(path, parts(longer, seed=0), resolve(longer).recipe, ENV).step == 1


def test_a_weights_only_checkpoint_cannot_be_resumed(tmp_path: Path) -> None:
    cfg = config()
    path = save(cfg, parts(cfg, seed=0), tmp_path, at=1)
    exported = ckpts.export_generator(path, tmp_path / "export" / "g.pt")
    with pytest.raises(SrbenchError, match="weights-only checkpoint cannot be resumed"):
        resume.restore(exported, parts(cfg, seed=0), resolve(cfg).recipe, ENV)


def test_pruning_keeps_the_newest_and_the_final_checkpoints(tmp_path: Path) -> None:
    cfg = config(keep=2)
    p = parts(cfg, seed=0)
    for at in (1, 2, 3, 6, 7):  # 6 is the end of the schedule; 7: a run extended past it
        save(cfg, p, tmp_path, at=at)
    assert sorted(x.name for x in tmp_path.glob("*.pt")) == [
        "step_0000003.pt",
        "step_0000006.pt",
        "step_0000007.pt",
    ]
