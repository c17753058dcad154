"""The recipe data model: :class:`Recipe` (an architecture, weighted loss terms, a discriminator,
an initialisation and the paper's training hyperparameters) and its parts, as frozen plain data.

A recipe's dict form (:meth:`Recipe.to_dict`, JSON-ready) is what results record and what
overrides (:mod:`srbench_eval.models.recipes.overrides`) edit; see :mod:`srbench_eval.models.recipes.named`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from srbench_eval.errors import unknown_name


@dataclass(frozen=True)
class ArchSpec:
    """An architecture of :mod:`srbench_eval.models.architectures` and constructor arguments beyond ``scale``
    (omitted ones take the paper-size defaults)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LossSpec:
    """A loss term: ``weight * kind(**params)``, on the last or on ``all`` pyramid levels.

    ``name`` identifies the term in logs and override paths (``loss.<name>.<param>``).
    """

    name: str
    kind: str
    weight: float = 1.0
    levels: str = "last"
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """``0.01*pixel[l1]``, ``1*dp(mu=0.5, beta=3.6)``, ``1*pixel[charbonnier]@all`` ..."""
        text = f"{self.weight:g}*{self.name}"
        if self.kind != self.name:
            text += f"[{self.kind}]"
        if self.params:
            text += "(" + ", ".join(f"{k}={_short(v)}" for k, v in self.params.items()) + ")"
        if self.levels == "all":
            text += "@all"
        return text


@dataclass(frozen=True)
class TrainSpec:
    """The paper's training hyperparameters (what the training loop reads).

    ``milestones``: iterations at which the learning rate is multiplied by ``gamma``. ``d_lr``: the
    discriminator's learning rate (``None``: same as ``lr``; same optimiser and betas).
    ``lr_scale``: learning-rate multipliers by parameter-name prefix (SRCNN's last layer).
    ``hr_patch``: HR crop size; the LR patch is ``hr_patch / scale`` and the discriminator input is
    ``hr_patch``.
    """

    iterations: int
    batch_size: int
    hr_patch: int
    optimizer: str = "adam"
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    weight_decay: float = 0.0
    milestones: tuple[int, ...] = ()
    gamma: float = 0.5
    d_lr: float | None = None
    lr_scale: dict[str, float] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True)
class Recipe:
    """A named training and evaluation recipe; see the module docstring for its dict form."""

    name: str
    arch: ArchSpec
    losses: tuple[LossSpec, ...]
    train: TrainSpec
    scales: tuple[int, ...] = (4,)
    disc: ArchSpec | None = None
    init: str | None = None
    paper: str = ""
    description: str = ""
    overrides: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The name, with the overrides in brackets: ``esrgan-dp[dp.mu=1,scales=2+4]`` (a list
        value's items joined by ``+``: a label names folders, so no ``/``)."""
        if not self.overrides:
            return self.name
        short = [o[len("loss.") :] if o.startswith("loss.") else o for o in self.overrides]
        return f"{self.name}[{','.join(s.replace(',', '+') for s in short)}]"

    @property
    def default_scale(self) -> int:
        """x4 when the recipe supports it, else its first scale."""
        return 4 if 4 in self.scales else self.scales[0]

    def loss(self, name: str) -> LossSpec:
        for spec in self.losses:
            if spec.name == name:
                return spec
        raise unknown_name(f"loss term of recipe {self.name}", name, [s.name for s in self.losses])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain data (tuples become lists)."""

        def arch(spec: ArchSpec | None) -> dict[str, Any] | None:
            return None if spec is None else {"name": spec.name, **_plain(spec.params)}

        train = _plain(dataclasses.asdict(self.train))
        return {
            "name": self.name,
            "description": self.description,
            "paper": self.paper,
            "scales": list(self.scales),
            "init": self.init,
            "arch": arch(self.arch),
            "disc": arch(self.disc),
            "loss": {
                s.name: {"kind": s.kind, "weight": s.weight, "levels": s.levels, **_plain(s.params)}
                for s in self.losses
            },
            "train": train,
            "overrides": list(self.overrides),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recipe:
        """Inverse of :meth:`to_dict`."""

        def arch(a: dict[str, Any] | None) -> ArchSpec | None:
            if a is None:
                return None
            a = dict(a)
            return ArchSpec(a.pop("name"), _frozen(a))

        losses = []
        for name, entry in d["loss"].items():
            entry = dict(entry)
            kind = entry.pop("kind")
            weight = float(entry.pop("weight", 1.0))
            levels = entry.pop("levels", "last")
            losses.append(LossSpec(name, kind, weight, levels, _frozen(entry)))
        train = dict(d["train"])
        train["betas"] = tuple(train.get("betas", (0.9, 0.999)))
        train["milestones"] = tuple(train.get("milestones", ()))
        main = arch(d["arch"])
        assert main is not None
        return cls(
            name=d["name"],
            arch=main,
            losses=tuple(losses),
            train=TrainSpec(**train),
            scales=tuple(int(s) for s in d.get("scales", (4,))),
            disc=arch(d.get("disc")),
            init=d.get("init"),
            paper=d.get("paper", ""),
            description=d.get("description", ""),
            overrides=tuple(d.get("overrides", ())),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _frozen(value: Any) -> Any:
    """Lists back to tuples (the constructors' sequence defaults are tuples)."""
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "/".join(_short(v) for v in value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}={_short(v)}" for k, v in value.items()) + "}"
    return str(value)
