"""The training loop: one recipe, one run folder, resumable exactly.

Every iteration ``t`` (0-based; ``step = t + 1`` when it is done):

1. Generator step. ``out = G.forward_train(lr)``; for GAN recipes the discriminator is frozen and
   scores ``d_fake = D(out.sr)`` and ``d_real = D(hr).detach()``; the recipe's criterion gives
   ``L_G = sum_k w_k * l_k`` (:class:`~srbench_eval.losses.criterion.Criterion`); Adam/SGD step.
2. Discriminator step (GAN recipes). ``L_D = criterion.discriminator_loss(D(hr), D(out.sr.detach()))``,
   a step of the discriminator's optimiser (the alternation of SRGAN and ESRGAN: one D step per G step).
3. Both MultiStepLR schedules step; the generator's EMA (if any) is updated.

Every ``log_every`` steps the loss terms (unweighted, averaged over the interval and the ranks),
their parts (``dp.l_vgg``, ``dp.l_res``, ``dp.zeta``, ...), the discriminator's loss and logits,
the learning rate and the throughput are logged; every ``val_every`` steps and at the end the
generator (its EMA when kept) is validated; every ``save_every`` steps and at the end a checkpoint
is written atomically. A NaN or infinite loss stops the run at the next log or save point with the
last good checkpoint untouched: weights are never saved after a non-finite loss.

Two-stage recipes (ESRGAN from RRDB, SRGAN from SRResNet) start from the newest checkpoint of
``recipe.init`` with the same preset and scale, whose architecture and size must match.

Exact resume: the checkpoint holds the generator, its EMA, the discriminator, both optimisers and
schedules, the step and every rank's RNG states, and the data stream is a pure function of the
sample index (:mod:`srbench_eval.data.patches`), so a run resumed from step ``t`` computes the same
iterations ``t+1, t+2, ...`` as an uninterrupted one: bitwise on CPU with the same number of
threads (float sums in the kernels depend on it), whatever the number of data loader workers.
:mod:`.stream` makes the data stream, :mod:`.resume` writes and restores the checkpoints; this
module runs the iterations.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from srbench_eval import distributed as dist_utils
from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.models.recipes.named import (
    Recipe,
    TrainSpec,
    build_discriminator,
    build_generator,
    build_losses,
)
from srbench_eval.protocol import resolve as resolve_protocol
from srbench_eval.training import resume
from srbench_eval.training.config import Plan, TrainConfig, resolve
from srbench_eval.training.logs import TrainLog
from srbench_eval.training.state import EMA, make_optimizer, make_scheduler, seed_everything, set_rng_state
from srbench_eval.training.stream import open_stream
from srbench_eval.training.validation import Validator


@dataclass
class TrainResult:
    """What a run produced. ``timing``: steps run in this process, their wall time (loop only:
    data, forward, backward, update; without validation and checkpoints), iterations/s, images/s."""

    run_dir: Path
    checkpoint: Path | None
    scale: int
    step: int
    iterations: int
    finished: bool
    label: str
    val: dict[str, float] | None = None
    timing: dict[str, float] = field(default_factory=dict)


class _TrainForward(nn.Module):
    """DDP hooks ``forward``: route the generator's ``forward_train`` through it."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, lr: torch.Tensor) -> Any:
        return self.net.forward_train(lr)


class _PairForward(nn.Module):
    """The discriminator on the real and the fake batch in one (DDP) call, one backward after it."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net(real), self.net(fake)


def train(config: TrainConfig) -> TrainResult:
    """Train ``config.model`` (see :class:`TrainConfig`); returns where the checkpoints are."""
    plan = resolve(config)
    env = dist_utils.setup(config.device)
    try:
        return Trainer(config, plan, env).run()
    finally:
        dist_utils.teardown(env)


def run_dir_of(config: TrainConfig, plan: Plan) -> Path:
    root = Path(config.checkpoints) if config.checkpoints else ckpts.checkpoint_dir()
    name = ckpts.run_name(plan.scale, config.preset, plan.recipe.overrides, config.seed)
    return ckpts.recipe_dir(plan.recipe.name, root) / name


class Trainer:
    """One training run (see the module docstring); :meth:`run` does it."""

    def __init__(self, config: TrainConfig, plan: Plan, env: dist_utils.DistEnv) -> None:
        self.config = config
        self.plan = plan
        self.env = env
        self.recipe: Recipe = plan.recipe
        self.device = env.device
        self.run_dir = run_dir_of(config, plan)
        # Before any work: the label goes into every checkpoint, the run folder must take files.
        ckpts.check_label(self.recipe.label, f"recipe {self.recipe.name}")
        ckpts.check_writable(self.run_dir, "checkpoint folder", folder=True)
        if plan.batch_size % env.world:
            raise SrbenchError(
                f"batch size {plan.batch_size} does not split evenly over {env.world} processes; "
                f"pass --batch-size as a multiple of {env.world}"
            )
        self.batch_per_rank = plan.batch_size // env.world
        self.amp = config.amp == "bf16" or (config.amp == "auto" and self.device.type == "cuda")
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

        seed_everything(config.seed)
        self.g = build_generator(self.recipe, plan.scale).to(self.device)
        self.d = build_discriminator(self.recipe)
        if self.d is not None:
            self.d = self.d.to(self.device)
        self.criterion = build_losses(self.recipe).to(self.device)
        t = self.recipe.train
        self.opt_g = make_optimizer(self.g, t, t.lr)
        self.sched_g = make_scheduler(self.opt_g, t)
        self.opt_d = self.sched_d = None
        if self.d is not None:
            self.opt_d = make_optimizer(self.d, replace_lr_scale(t), t.d_lr or t.lr)
            self.sched_d = make_scheduler(self.opt_d, t)
        self.ema = EMA(self.g, config.ema) if config.ema else None
        self.parts = resume.Parts(
            self.g, self.opt_g, self.sched_g, self.d, self.opt_d, self.sched_d, self.ema
        )

        self.step = 0
        self.init_info: dict[str, Any] | None = None
        self.rng_to_restore: dict[str, Any] | None = None
        self.last_good: Path | None = None
        self.last_val: dict[str, float] | None = None
        self.data_info: dict[str, Any] = {}
        resume_from = resume.existing_checkpoint(self.run_dir, config.resume)
        if env.is_main:
            resume.remove_leftovers(self.run_dir)
        if resume_from is not None:
            restored = resume.restore(resume_from, self.parts, self.recipe, env)
            self.step, self.init_info, self.last_val = restored.step, restored.init, restored.val
            self.last_good, self.rng_to_restore = restored.path, restored.rng
        else:
            self.init_info = self._initialise()

    # ------------------------------------------------------------------ setup

    def _initialise(self) -> dict[str, Any] | None:
        """Load the first stage of a two-stage recipe into the generator; its provenance, or None."""
        init = self.config.init
        if init == "none" or (self.recipe.init is None and init is None):
            return None
        expected = self.recipe.to_dict()["arch"]
        arch = {"name": expected.pop("name"), "params": expected}
        if init is not None:
            path = Path(init)
        else:
            assert self.recipe.init is not None
            root = self.run_dir.parent.parent
            folder = ckpts.recipe_dir(self.recipe.init, root) / ckpts.run_name(
                self.plan.scale, self.config.preset
            )
            found = ckpts.newest_file(ckpts.checkpoint_files(folder))
            if found is None:
                raise SrbenchError(
                    f"recipe {self.recipe.label} starts from a trained {self.recipe.init} (two-stage "
                    f"training), "
                    f"but {folder} holds no checkpoint: run 'srbench-eval train --model {self.recipe.init} "
                    f"--preset {self.config.preset} --scale {self.plan.scale}' first, pass --init PATH, or "
                    f"start from scratch with --init none"
                )
            path = found
        net, meta = ckpts.load_generator(path, self.plan.scale, arch=arch, device=self.device)
        self.g.load_state_dict(net.state_dict())
        if self.ema is not None:
            self.ema.net.load_state_dict(net.state_dict())
        return {
            "path": str(path.resolve()),
            "sha256": ckpts.sha256_file(path),
            "recipe": meta.recipe.get("name"),
            "label": meta.label,
            "step": meta.step,
        }

    # ------------------------------------------------------------------ checkpoints

    def _save(self, finished: bool) -> Path:
        state = resume.training_state(
            self.parts,
            recipe=self.recipe,
            config=self.config,
            plan=self.plan,
            env=self.env,
            step=self.step,
            finished=finished,
            data=self.data_info,
            init=self.init_info,
            val=self.last_val,
        )
        path = resume.save(
            state,
            self.run_dir,
            self.env,
            last_good=self.last_good,
            iterations=self.plan.iterations,
            keep=self.config.keep,
        )
        self.last_good = path
        return path

    # ------------------------------------------------------------------ the loop

    def _nan_error(self, values: dict[str, float], since: int) -> SrbenchError:
        finite = ", ".join(f"{k} {v:.4g}" for k, v in values.items() if k in ("loss", "d_loss"))
        where = (
            f"between steps {since + 1} and {self.step}" if since + 1 < self.step else f"at step {self.step}"
        )
        kept = (
            f"the last good checkpoint is {self.last_good}" if self.last_good else "no checkpoint was written"
        )
        return SrbenchError(
            f"the loss became NaN or infinite {where} ({finite}); stopped, {kept}: lower the learning "
            f"rate (--set train.lr=...) or check the training images, then resume"
        )

    def run(self) -> TrainResult:
        cfg, plan, env = self.config, self.plan, self.env
        main = env.is_main
        resumed = self.step > 0
        batches, self.data_info = open_stream(cfg, plan, env, self.batch_per_rank, self.step)
        validator = None
        val_enabled = cfg.val.lower() != "none"
        error: SrbenchError | None = None
        if main and val_enabled:
            try:
                protocol = resolve_protocol(cfg.protocol, cfg.protocol_set)
                validator = Validator(cfg.val, plan.scale, self.device, mirror=cfg.mirror, protocol=protocol)
            except SrbenchError as e:
                error = SrbenchError(
                    f"validation set: {e} (train with --val DATASET, --val demo or --val none)"
                )
        if dist_utils.any_over_ranks(env, error is not None):  # every rank stops, not only rank 0
            raise error or SrbenchError("rank 0 could not open the validation set (see its message)")
        log = TrainLog(self.run_dir, resume_step=self.step if resumed else None) if main else None
        if log is not None:
            event: dict[str, Any] = {
                "event": "resume" if resumed else "start",
                "label": self.recipe.label,
                "preset": cfg.preset,
                "scale": plan.scale,
                "iterations": plan.iterations,
                "batch_size": plan.batch_size,
                "hr_patch": plan.hr_patch,
                "world_size": env.world,
                "device": str(self.device),
                "amp": "bf16" if self.amp else "off",
                "data": self.data_info,
                "init": self.init_info,
            }
            if resumed:
                event["checkpoint"] = str(self.last_good)
            log.write("event", self.step, event)

        g_train = _TrainForward(self.g)
        d_pair = _PairForward(self.d) if self.d is not None else None
        if env.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            g_train = DDP(g_train, device_ids=ids)
            if d_pair is not None:
                d_pair = DDP(d_pair, device_ids=ids)
        self.g.train()
        if self.d is not None:
            self.d.train()
        if self.rng_to_restore is not None:
            set_rng_state(self.rng_to_restore, self.device)

        bar = tqdm(
            total=plan.iterations,
            initial=self.step,
            desc=self.recipe.label,
            unit="it",
            disable=not (cfg.progress and main),
            dynamic_ncols=True,
        )
        sums: dict[str, torch.Tensor] = {}
        bad = torch.zeros((), dtype=torch.bool, device=self.device)
        since = self.step
        steps_run, loop_seconds = 0, 0.0
        interval_seconds, interval_steps = 0.0, 0
        finished = self.step >= plan.iterations
        checkpoint: Path | None = self.last_good
        # The objects built so far (networks, optimiser state, images) live as long as the run: keep
        # the cyclic garbage collector from traversing them again and again during the loop.
        gc.collect()
        gc.freeze()
        while self.step < plan.iterations:
            t0 = time.perf_counter()
            lr_img, hr_img = next(batches)
            lr_img = lr_img.to(self.device, non_blocking=True)
            hr_img = hr_img.to(self.device, non_blocking=True)
            values, bad_step = self._iteration(g_train, d_pair, lr_img, hr_img)
            bad |= bad_step
            for k, v in values.items():
                sums[k] = sums[k] + v if k in sums else v.clone()
            self.step += 1
            steps_run += 1
            interval_steps += 1
            bar.update(1)

            last = self.step >= plan.iterations
            stop = cfg.stop_after is not None and self.step >= cfg.stop_after
            do_log = self.step % cfg.log_every == 0 or last or stop
            do_val = val_enabled and (self.step % plan.val_every == 0 or last)
            do_save = self.step % plan.save_every == 0 or last or stop
            scalars: dict[str, float] = {}
            if do_log or do_save:  # the one host-device sync of the interval
                names = sorted(sums)
                means = dist_utils.mean_over_ranks(
                    env, torch.stack([sums[k].float() for k in names]) / interval_steps
                ).tolist()
                scalars = dict(zip(names, means, strict=True))
                if dist_utils.any_over_ranks(env, bool(bad)):
                    if log is not None:
                        log.write("event", self.step, {"event": "nan", **scalars})
                        log.close()
                    bar.close()
                    raise self._nan_error(scalars, since)
            elapsed = time.perf_counter() - t0  # validation and checkpoints are not loop time
            loop_seconds += elapsed
            interval_seconds += elapsed
            if do_log:
                record = {
                    "lr": self.sched_g.get_last_lr()[0],
                    **scalars,
                    "it_per_s": interval_steps / interval_seconds,
                    "img_per_s": interval_steps * plan.batch_size / interval_seconds,
                }
                if log is not None:
                    log.write("train", self.step, record)
                bar.set_postfix(_postfix(scalars, self.last_val), refresh=False)
                sums, interval_steps, interval_seconds, since = {}, 0, 0.0, self.step
            if do_val and validator is not None:
                self.last_val = validator(self.ema.net if self.ema is not None else self.g)
                if log is not None:
                    log.write("val", self.step, {"dataset": validator.name, **self.last_val})
                bar.set_postfix(_postfix(scalars, self.last_val), refresh=False)
            if do_val and env.distributed and not do_save:
                dist_utils.barrier(env)  # the other ranks wait for rank 0's validation
            if do_save:
                checkpoint = self._save(finished=last)
            if last:
                finished = True
            if stop and not last:
                break
        gc.unfreeze()
        bar.close()
        if log is not None:
            log.write(
                "event", self.step, {"event": "end" if finished else "stop", "checkpoint": str(checkpoint)}
            )
            log.close()
        timing = {
            "steps": steps_run,
            "seconds": loop_seconds,
            "it_per_s": steps_run / loop_seconds if loop_seconds else 0.0,
            "img_per_s": steps_run * plan.batch_size / loop_seconds if loop_seconds else 0.0,
        }
        return TrainResult(
            self.run_dir,
            checkpoint,
            plan.scale,
            self.step,
            plan.iterations,
            finished,
            self.recipe.label,
            self.last_val,
            timing,
        )

    def _iteration(
        self, g_train: nn.Module, d_pair: nn.Module | None, lr: torch.Tensor, hr: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """One generator (and discriminator) update; the detached values to log and a non-finite flag."""
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)
        d = self.d
        with autocast:
            out = g_train(lr)
            d_real = d_fake = None
            if d is not None:
                for p in d.parameters():
                    p.requires_grad_(False)
                d_fake = d(out.sr)
                d_real = d(hr).detach()
            report = self.criterion(out, hr, d_real=d_real, d_fake=d_fake)
        self.opt_g.zero_grad(set_to_none=True)
        report.total.backward()
        self.opt_g.step()
        self.sched_g.step()
        values = {"loss": report.total.detach(), **{k: v.detach() for k, v in report.values.items()}}
        values.update({k: v.detach() for k, v in report.parts.items()})
        bad = ~torch.isfinite(values["loss"])
        if d is not None:
            assert d_pair is not None and self.opt_d is not None and self.sched_d is not None
            for p in d.parameters():
                p.requires_grad_(True)
            with autocast:
                real, fake = d_pair(hr, out.sr.detach())
                loss_d = self.criterion.discriminator_loss(real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            self.sched_d.step()
            values["d_loss"] = loss_d.detach()
            values["d_real"] = real.detach().float().mean()
            values["d_fake"] = fake.detach().float().mean()
            bad = bad | ~torch.isfinite(values["d_loss"])
        if self.ema is not None:
            self.ema.update(self.g)
        return values, bad


def replace_lr_scale(spec: TrainSpec) -> TrainSpec:
    """The discriminator's optimiser: the recipe's settings without the generator's per-layer multipliers."""
    return replace(spec, lr_scale={})


def _postfix(scalars: dict[str, float], val: dict[str, float] | None) -> dict[str, str]:
    shown = {
        k: f"{v:.4g}" for k, v in scalars.items() if "." not in k or k.endswith((".zeta", ".l_vgg", ".l_res"))
    }
    if val:
        shown["psnr"] = f"{val['psnr']:.2f}"
    return shown
