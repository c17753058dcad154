"""A recipe's generator objective: named, weighted loss terms and their per-term report.

::

    criterion = build_losses(recipe)              # srbench_eval.models.recipes.named; a Criterion
    out = net_g.forward_train(lr)                 # GeneratorOutput (sr, pyramid levels, FDL heads)
    report = criterion(out, hr, d_real=net_d(hr).detach(), d_fake=net_d(out.sr))
    report.total.backward()                       # sum_k w_k * l_k
    log(report.scalars())                         # {"loss": .., "pixel": .., "dp": .., "dp.zeta": .., ...}
    d_loss = criterion.discriminator_loss(net_d(hr), net_d(out.sr.detach()))

Each :class:`WeightedTerm` applies its term to the finest output (``levels="last"``) or to every
pyramid level (``levels="all"``, LapSRN), summing over levels; the target of a coarser level is the
HR batch downscaled to that size with MATLAB's bicubic (:func:`srbench_eval.data.degrade.bicubic.imresize`,
unrounded). Image terms take the level images, ``head`` terms the FDL heads of the levels,
adversarial terms the discriminator logits (``d_real`` may be omitted for the vanilla GAN).

:class:`LossReport` gives the weighted total, each term's unweighted value, its weight, and the
named parts of composite terms (``dp.l_vgg``, ``dp.l_res``, ``dp.zeta``, ``dp.res_weight``,
``fdl.ce``, ``fdl.l1``, ``fdl.radius``, ...) plus, for multi-level terms, each level's value
(``pixel.level1``, ...); parts of multi-level terms are those of the finest level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from srbench_eval.data.degrade.bicubic import imresize
from srbench_eval.losses import LOSS_KINDS
from srbench_eval.losses.base import LossTerm
from srbench_eval.models.archs.common import GeneratorOutput

LEVELS = ("last", "all")


def make_term(kind: str, **params: Any) -> LossTerm:
    """Build the loss term ``kind`` (a key of :data:`LOSS_KINDS`) with its parameters."""
    return LOSS_KINDS.get(kind)(**params)


@dataclass
class WeightedTerm:
    """One named term of a criterion: ``weight * term``, on the last or on all pyramid levels."""

    name: str
    weight: float
    term: LossTerm
    levels: str = "last"

    def __post_init__(self) -> None:
        if self.levels not in LEVELS:
            raise ValueError(f"loss term {self.name}: levels must be one of {LEVELS}, got {self.levels!r}")


@dataclass
class LossReport:
    """The outcome of one criterion call. Backpropagate ``total``; log :meth:`scalars`."""

    total: torch.Tensor
    values: dict[str, torch.Tensor]
    weights: dict[str, float]
    parts: dict[str, torch.Tensor]

    def weighted(self, name: str) -> torch.Tensor:
        """``weight * value`` of term ``name``."""
        return self.weights[name] * self.values[name]

    def scalars(self) -> dict[str, float]:
        """``loss`` (the total), every term's unweighted value by name, and every part."""
        out = {"loss": float(self.total.detach())}
        out.update({k: float(v.detach()) for k, v in self.values.items()})
        out.update({k: float(v) for k, v in self.parts.items()})
        return out


class Criterion(nn.Module):
    """The weighted sum of a recipe's loss terms; see the module docstring for the call protocol."""

    def __init__(self, terms: Sequence[WeightedTerm]) -> None:
        super().__init__()
        names = [t.name for t in terms]
        if len(set(names)) != len(names):
            raise ValueError(f"loss term names must be unique, got {names}")
        self.specs = list(terms)
        self.terms = nn.ModuleDict({t.name: t.term for t in terms})
        adversarial = [t for t in terms if t.term.needs == "adversarial"]
        if len(adversarial) > 1:
            raise ValueError("a criterion takes at most one adversarial term")
        self.adversarial = adversarial[0].term if adversarial else None

    @property
    def needs_discriminator(self) -> bool:
        return self.adversarial is not None

    def forward(
        self,
        out: GeneratorOutput | torch.Tensor,
        hr: torch.Tensor,
        *,
        d_real: torch.Tensor | None = None,
        d_fake: torch.Tensor | None = None,
    ) -> LossReport:
        if isinstance(out, torch.Tensor):
            out = GeneratorOutput(sr=out)
        targets: dict[tuple[int, int], torch.Tensor] = {}

        def target_for(x: torch.Tensor) -> torch.Tensor:
            size = tuple(x.shape[-2:])
            if size == tuple(hr.shape[-2:]):
                return hr
            if size not in targets:
                factor = hr.shape[-1] // size[1]
                if (size[0] * factor, size[1] * factor) != tuple(hr.shape[-2:]):
                    raise ValueError(
                        f"output level {size} does not divide the HR size {tuple(hr.shape[-2:])}"
                    )
                with torch.no_grad():
                    targets[size] = imresize(hr.detach(), 1.0 / factor)
            return targets[size]

        total = torch.zeros((), device=hr.device, dtype=hr.dtype)
        values: dict[str, torch.Tensor] = {}
        parts: dict[str, torch.Tensor] = {}
        for spec in self.specs:
            term = spec.term
            if term.needs == "adversarial":
                if d_fake is None:
                    raise ValueError(
                        f"loss term {spec.name} needs the discriminator logits d_fake (and d_real)"
                    )
                value, term_parts = term.detailed(d_real, d_fake)
            else:
                if term.needs == "head":
                    items: Sequence[Any] = out.heads
                    if not items:
                        raise ValueError(
                            f"loss term {spec.name} needs a network ending in fine-grained heads (arch.fdl)"
                        )
                else:
                    items = out.levels
                if spec.levels == "last":
                    items = items[-1:]
                level_values = []
                for item in items:
                    image = item.value if term.needs == "head" else item
                    v, term_parts = term.detailed(item, target_for(image))
                    level_values.append(v)
                value = torch.stack(level_values).sum() if len(level_values) > 1 else level_values[0]
                if len(level_values) > 1:
                    parts.update(
                        {f"{spec.name}.level{i + 1}": v.detach() for i, v in enumerate(level_values)}
                    )
            parts.update({f"{spec.name}.{k}": v for k, v in term_parts.items()})
            values[spec.name] = value
            total = total + spec.weight * value
        return LossReport(
            total=total, values=values, weights={s.name: s.weight for s in self.specs}, parts=parts
        )

    def discriminator_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        """The discriminator's loss of the recipe's adversarial term (unweighted)."""
        if self.adversarial is None:
            raise ValueError("this criterion has no adversarial term")
        return self.adversarial.discriminator_loss(d_real, d_fake)
