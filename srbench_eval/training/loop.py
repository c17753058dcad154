"""The training loop: one recipe, one run folder, resumable exactly.

Every iteration ``t`` (0-based; ``step = t + 1`` when it is done) is one generator step and, for
GAN recipes, one discriminator step, then both MultiStepLR schedules step and the generator's EMA
(if any) is updated (:mod:`.steps`: ``L_G = sum_k w_k * l_k``, ``L_D`` of SRGAN / ESRGAN).

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
:mod:`.stream` makes the data stream, :mod:`.resume` writes and restores the checkpoints,
:mod:`.steps` runs one iteration, :mod:`.progress` sums the logging interval and shows it (a bar on
a terminal, one line per log interval otherwise); this module runs the iterations.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

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
from srbench_eval.training import resume, stages
from srbench_eval.training.config import Plan, TrainConfig, resolve
from srbench_eval.training.logs import TrainLog
from srbench_eval.training.progress import Interval, Progress
from srbench_eval.training.state import EMA, make_optimizer, make_scheduler, seed_everything, set_rng_state
from srbench_eval.training.steps import Nets, train_step, wrap_for_ranks
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


@dataclass
class _Run:
    """What :meth:`Trainer.run` carries from one iteration to the next."""

    batches: Iterator[tuple[torch.Tensor, torch.Tensor]]
    nets: Nets
    val_enabled: bool
    validator: Validator | None
    log: TrainLog | None
    progress: Progress
    interval: Interval
    finished: bool
    checkpoint: Path | None
    steps_run: int = 0
    loop_seconds: float = 0.0


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

    def _initialise(self) -> dict[str, Any] | None:
        """Load the first stage of a two-stage recipe into the generator; its provenance, or None."""
        path = stages.first_stage(self.recipe, self.config, self.plan, self.run_dir)
        if path is None:
            return None
        return stages.load_first_stage(path, self.recipe, self.plan.scale, self.g, self.ema, self.device)

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
        """The iterations from ``self.step`` to the end (or ``stop_after``), with the logs,
        validations and checkpoints on their intervals (see the module docstring)."""
        cfg, plan, env = self.config, self.plan, self.env
        batches, self.data_info = open_stream(cfg, plan, env, self.batch_per_rank, self.step)
        validator = self._open_validator()
        log = self._open_log()
        g_train, d_pair = wrap_for_ranks(self.g, self.d, env)
        nets = Nets(self.g, g_train, self.opt_g, self.sched_g, self.criterion)
        nets.d, nets.d_pair, nets.opt_d, nets.sched_d = self.d, d_pair, self.opt_d, self.sched_d
        nets.ema, nets.amp = self.ema, self.amp
        self.g.train()
        if self.d is not None:
            self.d.train()
        if self.rng_to_restore is not None:
            set_rng_state(self.rng_to_restore, self.device)
        r = _Run(
            batches,
            nets,
            cfg.val.lower() != "none",
            validator,
            log,
            Progress(self.recipe.label, self.step, plan.iterations, cfg.progress and env.is_main),
            Interval(self.step, torch.zeros((), dtype=torch.bool, device=self.device)),
            finished=self.step >= plan.iterations,
            checkpoint=self.last_good,
        )
        # The objects built so far (networks, optimiser state, images) live as long as the run: keep
        # the cyclic garbage collector from traversing them again and again during the loop.
        gc.collect()
        gc.freeze()
        while self.step < plan.iterations:
            if not self._advance(r):
                break
        gc.unfreeze()
        r.progress.close()
        if log is not None:
            end = {"event": "end" if r.finished else "stop", "checkpoint": str(r.checkpoint)}
            log.write("event", self.step, end)
            log.close()
        return self._result(r)

    def _open_validator(self) -> Validator | None:
        """Rank 0's validator (``None`` with ``--val none`` and on the other ranks); every rank
        stops with a one-line error when rank 0 cannot open the validation set."""
        cfg = self.config
        validator, error = None, None
        if self.env.is_main and cfg.val.lower() != "none":
            try:
                protocol = resolve_protocol(cfg.protocol, cfg.protocol_set)
                validator = Validator(
                    cfg.val, self.plan.scale, self.device, mirror=cfg.mirror, protocol=protocol
                )
            except SrbenchError as e:
                error = SrbenchError(
                    f"validation set: {e} (train with --val DATASET, --val demo or --val none)"
                )
        if dist_utils.any_over_ranks(self.env, error is not None):  # every rank stops, not only rank 0
            raise error or SrbenchError("rank 0 could not open the validation set (see its message)")
        return validator

    def _open_log(self) -> TrainLog | None:
        """Rank 0's log (``None`` on the other ranks), opened with its start or resume event."""
        if not self.env.is_main:
            return None
        cfg, plan = self.config, self.plan
        resumed = self.step > 0
        log = TrainLog(self.run_dir, resume_step=self.step if resumed else None)
        event: dict[str, Any] = {
            "event": "resume" if resumed else "start",
            "label": self.recipe.label,
            "preset": cfg.preset,
            "scale": plan.scale,
            "iterations": plan.iterations,
            "batch_size": plan.batch_size,
            "hr_patch": plan.hr_patch,
            "world_size": self.env.world,
            "device": str(self.device),
            "amp": "bf16" if self.amp else "off",
            "data": self.data_info,
            "init": self.init_info,
        }
        if resumed:
            event["checkpoint"] = str(self.last_good)
        log.write("event", self.step, event)
        return log

    def _advance(self, r: _Run) -> bool:
        """One iteration and what its step is due for (log, validation, checkpoint); False when
        the run stops here (``stop_after``)."""
        cfg, plan, env = self.config, self.plan, self.env
        t0 = time.perf_counter()
        lr_img, hr_img = next(r.batches)
        lr_img = lr_img.to(self.device, non_blocking=True)
        hr_img = hr_img.to(self.device, non_blocking=True)
        r.interval.add(*train_step(r.nets, lr_img, hr_img))
        self.step += 1
        r.steps_run += 1
        r.progress.update()

        last = self.step >= plan.iterations
        stop = cfg.stop_after is not None and self.step >= cfg.stop_after
        do_log = self.step % cfg.log_every == 0 or last or stop
        do_val = r.val_enabled and (self.step % plan.val_every == 0 or last)
        do_save = self.step % plan.save_every == 0 or last or stop
        scalars = self._sync(r) if do_log or do_save else {}
        elapsed = time.perf_counter() - t0  # validation and checkpoints are not loop time
        r.loop_seconds += elapsed
        r.interval.seconds += elapsed
        if do_log:
            self._log_train(r, scalars)
        if do_val:
            self._validate(r, scalars)
        if do_val and env.distributed and not do_save:
            dist_utils.barrier(env)  # the other ranks wait for rank 0's validation
        if do_save:
            r.checkpoint = self._save(finished=last)
        if last:
            r.finished = True
        return not (stop and not last)

    def _sync(self, r: _Run) -> dict[str, float]:
        """The interval's means (the one host-device sync of the interval); stops the run with a
        ``nan`` event when a loss of the interval was not finite on any rank."""
        scalars = r.interval.means(self.env)
        if dist_utils.any_over_ranks(self.env, bool(r.interval.bad)):
            if r.log is not None:
                r.log.write("event", self.step, {"event": "nan", **scalars})
                r.log.close()
            r.progress.close()
            raise self._nan_error(scalars, r.interval.since)
        return scalars

    def _log_train(self, r: _Run, scalars: dict[str, float]) -> None:
        """The ``train`` record of the interval ending at this step; a new interval."""
        interval = r.interval
        it_per_s = interval.steps / interval.seconds
        record = {
            "lr": self.sched_g.get_last_lr()[0],
            **scalars,
            "it_per_s": it_per_s,
            "img_per_s": interval.steps * self.plan.batch_size / interval.seconds,
        }
        if r.log is not None:
            r.log.write("train", self.step, record)
        r.progress.interval(self.step, scalars, self.last_val, it_per_s)
        interval.restart(self.step)

    def _validate(self, r: _Run, scalars: dict[str, float]) -> None:
        """Validate the generator (its EMA when kept) on rank 0 and log it."""
        if r.validator is None:
            return
        self.last_val = r.validator(self.ema.net if self.ema is not None else self.g)
        if r.log is not None:
            r.log.write("val", self.step, {"dataset": r.validator.name, **self.last_val})
        r.progress.show(self.step, scalars, self.last_val)

    def _result(self, r: _Run) -> TrainResult:
        seconds, steps = r.loop_seconds, r.steps_run
        timing = {
            "steps": steps,
            "seconds": seconds,
            "it_per_s": steps / seconds if seconds else 0.0,
            "img_per_s": steps * self.plan.batch_size / seconds if seconds else 0.0,
        }
        return TrainResult(
            self.run_dir,
            r.checkpoint,
            self.plan.scale,
            self.step,
            self.plan.iterations,
            r.finished,
            self.recipe.label,
            self.last_val,
            timing,
        )


def replace_lr_scale(spec: TrainSpec) -> TrainSpec:
    """The discriminator's optimiser: the recipe's settings without the generator's per-layer multipliers."""
    return replace(spec, lr_scale={})
