"""One training iteration: a generator step and, for GAN recipes, a discriminator step.

Generator step: ``out = G.forward_train(lr)``; for GAN recipes the discriminator is frozen and
scores ``d_fake = D(out.sr)`` and ``d_real = D(hr).detach()``; the recipe's criterion gives
``L_G = sum_k w_k * l_k`` (:class:`~srbench_eval.losses.criterion.Criterion`); one step of the
generator's optimiser and schedule.

Discriminator step (GAN recipes): ``L_D = criterion.discriminator_loss(D(hr), D(out.sr.detach()))``
and one step of the discriminator's optimiser and schedule: the alternation of SRGAN (Ledig et al.,
CVPR 2017) and ESRGAN (Wang et al., ECCVW 2018), one D step per G step. Then the generator's EMA (if
any) is updated.

The order of the calls is the order of the random numbers they draw (dropout, augmentation inside
a loss): a resumed run repeats it exactly, so it must not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from srbench_eval import distributed as dist_utils
from srbench_eval.losses.criterion import Criterion
from srbench_eval.training.state import EMA


class TrainForward(nn.Module):
    """DDP hooks ``forward``: route the generator's ``forward_train`` through it."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, lr: torch.Tensor) -> Any:
        return self.net.forward_train(lr)


class PairForward(nn.Module):
    """The discriminator on the real and the fake batch in one (DDP) call, one backward after it."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net(real), self.net(fake)


@dataclass
class Nets:
    """What one iteration updates: the generator (``g_train`` is its ``forward_train``, wrapped in
    DDP over several processes), the discriminator (``d_pair`` likewise, ``None`` without GAN), their
    optimisers and schedules, the loss and the generator's EMA; ``amp``: bf16 autocast on or off."""

    g: nn.Module
    g_train: nn.Module
    opt_g: torch.optim.Optimizer
    sched_g: torch.optim.lr_scheduler.LRScheduler
    criterion: Criterion
    d: nn.Module | None = None
    d_pair: nn.Module | None = None
    opt_d: torch.optim.Optimizer | None = None
    sched_d: torch.optim.lr_scheduler.LRScheduler | None = None
    ema: EMA | None = None
    amp: bool = False


def wrap_for_ranks(
    g: nn.Module, d: nn.Module | None, env: dist_utils.DistEnv
) -> tuple[nn.Module, nn.Module | None]:
    """``(g_train, d_pair)``: the forward modules of one iteration, in DDP when ``env`` is distributed."""
    g_train: nn.Module = TrainForward(g)
    d_pair: nn.Module | None = PairForward(d) if d is not None else None
    if env.distributed:
        ids = [env.device.index] if env.device.type == "cuda" else None
        g_train = DDP(g_train, device_ids=ids)
        if d_pair is not None:
            d_pair = DDP(d_pair, device_ids=ids)
    return g_train, d_pair


def train_step(
    nets: Nets, lr: torch.Tensor, hr: torch.Tensor
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One generator (and discriminator) update, then the EMA; the detached values to log
    (``loss``, each term, each part; ``d_loss``, ``d_real``, ``d_fake`` for GAN) and a non-finite flag."""
    autocast = torch.autocast(lr.device.type, dtype=torch.bfloat16, enabled=nets.amp)
    out, values = _generator_step(nets, autocast, lr, hr)
    bad = ~torch.isfinite(values["loss"])
    if nets.d is not None:
        values.update(_discriminator_step(nets, autocast, out.sr.detach(), hr))
        bad = bad | ~torch.isfinite(values["d_loss"])
    if nets.ema is not None:
        nets.ema.update(nets.g)
    return values, bad


def _generator_step(
    nets: Nets, autocast: torch.autocast, lr: torch.Tensor, hr: torch.Tensor
) -> tuple[Any, dict[str, torch.Tensor]]:
    """``L_G`` with the discriminator frozen, its backward and one optimiser and schedule step;
    the generator's training output and the detached loss values."""
    d = nets.d
    with autocast:
        out = nets.g_train(lr)
        d_real = d_fake = None
        if d is not None:
            for p in d.parameters():
                p.requires_grad_(False)
            d_fake = d(out.sr)
            d_real = d(hr).detach()
        report = nets.criterion(out, hr, d_real=d_real, d_fake=d_fake)
    nets.opt_g.zero_grad(set_to_none=True)
    report.total.backward()
    nets.opt_g.step()
    nets.sched_g.step()
    values = {"loss": report.total.detach(), **{k: v.detach() for k, v in report.values.items()}}
    values.update({k: v.detach() for k, v in report.parts.items()})
    return out, values


def _discriminator_step(
    nets: Nets, autocast: torch.autocast, fake: torch.Tensor, hr: torch.Tensor
) -> dict[str, torch.Tensor]:
    """``L_D`` on the real batch and the detached fake one, its backward and one optimiser and
    schedule step; ``d_loss`` and the mean logits ``d_real``, ``d_fake``."""
    assert nets.d is not None and nets.d_pair is not None
    assert nets.opt_d is not None and nets.sched_d is not None
    for p in nets.d.parameters():
        p.requires_grad_(True)
    with autocast:
        real, fake_logits = nets.d_pair(hr, fake)
        loss_d = nets.criterion.discriminator_loss(real, fake_logits)
    nets.opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    nets.opt_d.step()
    nets.sched_d.step()
    return {
        "d_loss": loss_d.detach(),
        "d_real": real.detach().float().mean(),
        "d_fake": fake_logits.detach().float().mean(),
    }
