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
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from tqdm import tqdm

from srbench_eval.data.datasets import open_dataset
from srbench_eval.data.patches import (
    PatchDataset,
    StreamSampler,
    extract_subimages,
    preload_pairs,
    prepare_pairs,
    worker_init,
)
from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.models.recipes import Recipe, TrainSpec, build_discriminator, build_generator, build_losses
from srbench_eval.results import environment_provenance, utc_now
from srbench_eval.training import distributed as dist_utils
from srbench_eval.training.config import Plan, TrainConfig, resolve
from srbench_eval.training.logs import TrainLog
from srbench_eval.training.state import (
    EMA,
    make_optimizer,
    make_scheduler,
    rng_state,
    seed_everything,
    set_rng_state,
)
from srbench_eval.training.validation import Validator

logger = logging.getLogger(__name__)


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


def _comparable(recipe: dict[str, Any]) -> dict[str, Any]:
    """A recipe dict without the run length (a resumed run may be extended)."""
    d = {**recipe, "train": dict(recipe["train"])}
    d["train"].pop("iterations", None)
    d["train"].pop("notes", None)
    return d


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

        self.step = 0
        self.init_info: dict[str, Any] | None = None
        self.rng_to_restore: dict[str, Any] | None = None
        self.last_good: Path | None = None
        self.last_val: dict[str, float] | None = None
        resume_from = self._existing_checkpoint()
        if resume_from is not None:
            self._restore(resume_from)
        else:
            self.init_info = self._initialise()

    # ------------------------------------------------------------------ setup

    def _existing_checkpoint(self) -> Path | None:
        latest = ckpts.newest_file(ckpts.checkpoint_files(self.run_dir))
        if latest is None:
            return None
        if not self.config.resume:
            raise SrbenchError(
                f"{self.run_dir} already holds a run (up to {latest.name}): pass --resume to continue it, "
                f"--seed N for another run, or --checkpoints DIR for another place"
            )
        return latest

    def _restore(self, path: Path) -> None:
        ckpt = ckpts.load_checkpoint(path, map_location=self.device)
        if ckpt.get("kind") != "training":
            raise SrbenchError(f"{path}: a weights-only checkpoint cannot be resumed (no optimiser state)")
        ckpts.check_training_fields(ckpt, path, discriminator=self.d is not None)
        if _comparable(ckpt["recipe"]) != _comparable(self.recipe.to_dict()):
            raise SrbenchError(
                f"{path}: was trained with other recipe settings than this command's "
                f"(--set, --preset, --batch-size, --patch); resume with the same ones"
            )
        if self.ema is None and ckpt.get("generator_ema") is not None:
            raise SrbenchError(f"{path}: was trained with --ema; resume with the same --ema")
        if self.ema is not None and ckpt.get("generator_ema") is None:
            raise SrbenchError(f"{path}: was trained without --ema; resume without it")
        targets: list[tuple[str, Any, Any]] = [
            ("generator", self.g, ckpt["generator"]),
            ("optimizers.g", self.opt_g, ckpt["optimizers"]["g"]),
            ("schedulers.g", self.sched_g, ckpt["schedulers"]["g"]),
        ]
        if self.d is not None:
            targets += [
                ("discriminator", self.d, ckpt["discriminator"]),
                ("optimizers.d", self.opt_d, ckpt["optimizers"]["d"]),
                ("schedulers.d", self.sched_d, ckpt["schedulers"]["d"]),
            ]
        if self.ema is not None:
            targets.append(("generator_ema", self.ema.net, ckpt["generator_ema"]))
        for name, target, state in targets:
            try:
                target.load_state_dict(state)
            except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as e:
                lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
                detail = lines[1] if len(lines) > 1 else (lines[0] if lines else type(e).__name__)
                raise SrbenchError(f"{path}: field '{name}' does not fit this run ({detail})") from None
        self.step = ckpt["step"]
        self.init_info = ckpt.get("init")
        self.last_val = ckpt.get("val")
        self.last_good = path
        states = ckpt.get("rng") or []
        if len(states) == self.env.world:
            self.rng_to_restore = states[self.env.rank]
            _check_rng(self.rng_to_restore, path, self.device)

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

    def _data(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        cfg, plan = self.config, self.plan
        dataset = open_dataset(cfg.data, mirror=cfg.mirror)
        if cfg.subimages:
            if self.env.distributed:  # rank 0 cuts the sub-images; the others then read them
                if self.env.is_main:
                    extract_subimages(dataset.images, plan.scale, size=cfg.subimages, step=cfg.subimages // 2)
                dist_utils.barrier(self.env)
            pairs = extract_subimages(dataset.images, plan.scale, size=cfg.subimages, step=cfg.subimages // 2)
            if cfg.preload:
                pairs = preload_pairs(pairs, plan.scale)
        else:
            if self.env.distributed:  # rank 0 fills the LR cache; the others then read it
                if self.env.is_main:
                    prepare_pairs(dataset.images, plan.scale, preload=False, min_size=plan.hr_patch)
                dist_utils.barrier(self.env)
            pairs = prepare_pairs(dataset.images, plan.scale, preload=cfg.preload, min_size=plan.hr_patch)
            if self.env.is_main and pairs and not isinstance(pairs[0].hr, np.ndarray):
                logger.warning(
                    "%s does not fit in memory: every patch decodes a whole image; --subimages 480 cuts "
                    "the images once into sub-images that load much faster",
                    dataset.name,
                )
        patches = PatchDataset(pairs, plan.scale, plan.hr_patch, augment=cfg.augment, seed=cfg.seed)
        workers = cfg.workers if cfg.workers is not None else (0 if self.device.type == "cpu" else 4)
        loader = DataLoader(
            patches,
            batch_size=self.batch_per_rank,
            sampler=StreamSampler(self.batch_per_rank, self.step, self.env.rank, self.env.world),
            num_workers=workers,
            pin_memory=self.device.type == "cuda",
            worker_init_fn=worker_init if workers else None,
            persistent_workers=workers > 0,
            prefetch_factor=4 if workers else None,
            # Workers start from a clean process: a plain fork copies OpenMP / OpenCV thread pools
            # that the parent already used, and the child can deadlock on them (seen in the tests).
            multiprocessing_context="forkserver" if workers else None,
        )
        self.data_info = {
            "dataset": dataset.name,
            "location": dataset.location,
            "images": len(dataset.images),
            "pairs": len(pairs),
            "manifest_digest": dataset.manifest_digest,
            "workers": workers,
        }
        return iter(loader)

    # ------------------------------------------------------------------ checkpoints

    def _state(self, finished: bool) -> dict[str, Any]:
        rngs = dist_utils.gather_objects(self.env, rng_state(self.device))
        arch = self.recipe.to_dict()["arch"]
        name = arch.pop("name")
        return {
            "format": ckpts.FORMAT,
            "kind": "training",
            "recipe": self.recipe.to_dict(),
            "label": self.recipe.label,
            "preset": self.config.preset,
            "scale": self.plan.scale,
            "arch": {"name": name, "params": arch},
            "step": self.step,
            "iterations": self.plan.iterations,
            "finished": finished,
            "generator": self.g.state_dict(),
            "generator_ema": None if self.ema is None else self.ema.net.state_dict(),
            "discriminator": None if self.d is None else self.d.state_dict(),
            "optimizers": {"g": self.opt_g.state_dict(), "d": self.opt_d and self.opt_d.state_dict()},
            "schedulers": {"g": self.sched_g.state_dict(), "d": self.sched_d and self.sched_d.state_dict()},
            "rng": rngs,
            "config": self.config.to_json(),
            "world_size": self.env.world,
            "data": self.data_info,
            "init": self.init_info,
            "val": self.last_val,
            "created": utc_now(),
            # plain JSON types only: the file must load with torch.load(weights_only=True)
            "environment": json.loads(json.dumps(environment_provenance(str(self.device)), default=str)),
        }

    def _save(self, finished: bool) -> Path:
        """Write this step's checkpoint (rank 0) and prune the older ones. A failed write (a full
        disk) stops every rank with one line; the previous checkpoints stay as they were."""
        state = self._state(finished)
        path = self.run_dir / ckpts.step_file(self.step)
        error: SrbenchError | None = None
        if self.env.is_main:
            try:
                ckpts.save_checkpoint(state, path)
            except SrbenchError as e:
                kept = f"{self.last_good} is intact" if self.last_good else "none was written before"
                error = SrbenchError(
                    f"{e}; stopped at step {self.step}, the last good checkpoint {kept}: "
                    f"resume with --resume once it can be written"
                )
            else:
                self._prune(path)
        if dist_utils.any_over_ranks(self.env, error is not None):  # also the barrier after the save
            raise error or SrbenchError(f"rank 0 could not write {path} (see its message)")
        self.last_good = path
        return path

    def _prune(self, newest: Path) -> None:
        """Keep the newest ``keep`` periodic checkpoints (and the final one of the schedule)."""
        files = sorted(
            (p for p in ckpts.checkpoint_files(self.run_dir) if p.parent == self.run_dir), key=ckpts.step_of
        )
        periodic = [p for p in files if ckpts.step_of(p) != self.plan.iterations and p != newest]
        for p in periodic[: max(0, len(periodic) - (self.config.keep - 1))]:
            p.unlink(missing_ok=True)

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
        batches = self._data()
        validator = None
        val_enabled = cfg.val.lower() != "none"
        error: SrbenchError | None = None
        if main and val_enabled:
            try:
                validator = Validator(cfg.val, plan.scale, self.device, mirror=cfg.mirror)
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


def _check_rng(state: dict[str, Any], path: Path, device: torch.device) -> None:
    """Try a checkpoint's RNG state (and put the current one back): a damaged one fails here, before
    any work, as a one-line error naming the file."""
    current = rng_state(device)
    try:
        set_rng_state(state, device)
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as e:
        raise SrbenchError(f"{path}: field 'rng' is not a saved random-generator state ({e})") from None
    finally:
        set_rng_state(current, device)


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
