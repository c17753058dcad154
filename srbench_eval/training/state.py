"""The pieces of training state: optimisers and schedules as the recipe says, the generator's EMA,
and the random number generator states that a resumed run restores.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import numpy as np
import torch
from torch import nn

from srbench_eval.errors import SrbenchError
from srbench_eval.models.recipes.named import TrainSpec


def param_groups(net: nn.Module, spec: TrainSpec, lr: float) -> list[dict[str, Any]]:
    """Parameter groups with the recipe's per-prefix learning-rate multipliers (``lr_scale``).

    ``{"conv3": 0.1}`` puts the parameters whose names start with ``conv3`` in a group at
    ``0.1 * lr`` (SRCNN's last layer); every other parameter is in the first group at ``lr``.
    """
    named = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    groups: dict[float, list[nn.Parameter]] = {1.0: []}
    for name, p in named:
        factor = next((f for prefix, f in spec.lr_scale.items() if name.startswith(prefix)), 1.0)
        groups.setdefault(float(factor), []).append(p)
    for prefix in spec.lr_scale:
        if not any(n.startswith(prefix) for n, _ in named):
            raise SrbenchError(f"train.lr_scale: no parameter of {type(net).__name__} starts with '{prefix}'")
    return [{"params": ps, "lr": lr * f} for f, ps in groups.items() if ps]


def make_optimizer(net: nn.Module, spec: TrainSpec, lr: float) -> torch.optim.Optimizer:
    """Adam (``betas``) or SGD (``momentum``) with the recipe's weight decay, as ``train.optimizer`` says."""
    groups = param_groups(net, spec, lr)
    if spec.optimizer == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=tuple(spec.betas), weight_decay=spec.weight_decay)
    if spec.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=spec.momentum, weight_decay=spec.weight_decay)
    raise SrbenchError(f"train.optimizer '{spec.optimizer}': use adam or sgd")


def make_scheduler(opt: torch.optim.Optimizer, spec: TrainSpec) -> torch.optim.lr_scheduler.MultiStepLR:
    """``lr_t = lr * gamma ** (number of milestones <= t)``, stepped once per iteration."""
    return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(spec.milestones), gamma=spec.gamma)


class EMA:
    """Exponential moving average of a network's weights: ``w_ema <- d * w_ema + (1 - d) * w`` after
    every step (buffers such as batch-norm statistics are copied). Evaluated and shipped instead of
    the raw weights when enabled (``--ema 0.999``)."""

    def __init__(self, net: nn.Module, decay: float) -> None:
        self.decay = decay
        self.net = copy.deepcopy(net).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        ema_params = list(self.net.parameters())
        torch._foreach_lerp_(ema_params, [p.detach() for p in net.parameters()], 1.0 - self.decay)
        for b_ema, b in zip(self.net.buffers(), net.buffers(), strict=True):
            b_ema.copy_(b)


def rng_state(device: torch.device) -> dict[str, Any]:
    """Python, NumPy, torch CPU and CUDA generator states as plain lists and numbers: loadable with
    ``weights_only=True`` and sendable between ranks by ``all_gather_object``."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": keys.tolist(), "pos": pos, "gauss": [has_gauss, gauss]},
        "torch": torch.get_rng_state().tolist(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device).tolist()
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    """Inverse of :func:`rng_state`."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], np.asarray(n["keys"], dtype=np.uint32), n["pos"], n["gauss"][0], n["gauss"][1])
    )
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(torch.tensor(state["cuda"], dtype=torch.uint8), device)


def seed_everything(seed: int) -> None:
    """The same seed for Python, NumPy and torch (all ranks: identical initial weights)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
