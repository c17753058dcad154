"""Named recipes: an architecture, weighted loss terms, a discriminator, an initialisation and the
paper's training hyperparameters, as plain data.

A :class:`Recipe` is a frozen dataclass whose dict form (:meth:`Recipe.to_dict`, JSON-ready) is
what results record and what overrides edit::

    {"name": "esrgan-dp", "scales": [4], "init": "rrdb",
     "arch": {"name": "rrdbnet"},                                  # + constructor arguments
     "disc": {"name": "vgg128_d"},                                 # or None
     "loss": {"pixel": {"kind": "l1", "weight": 0.01, "levels": "last"},
              "dp":    {"kind": "dp", "weight": 1.0, "levels": "last", "mu": 0.5, "beta": "3.6"},
              "gan":   {"kind": "ragan", "weight": 0.005, "levels": "last"}},
     "train": {"iterations": 400000, "batch_size": 16, "hr_patch": 128, "lr": 1e-4, ...},
     "overrides": [], "paper": "...", "description": "..."}

Builders: :func:`build_generator` (an :class:`~srbench_eval.models.archs.common.SRNet`),
:func:`build_discriminator` (or ``None``) and :func:`build_losses` (a
:class:`~srbench_eval.losses.criterion.Criterion`; see there for the weighted total, the per-term
values and parts such as the DP weight ``dp.zeta``).

Overrides (:func:`apply_overrides`) set any leaf by a dotted path, typed like the value they
replace (or the constructor default): ``loss.dp.mu=1``, ``loss.dp.beta=1.3``, ``loss.vgg.weight=0``
(a zero weight drops the term), ``loss.sog.weight=0.01`` (a term named after a loss kind that the
recipe lacks is added), ``arch.num_block=8``, ``arch.fdl.tau=0.8``, ``train.lr=2e-4``,
``init=none``, ``scales=2,4``. The result keeps the recipe's name and records the overrides, and
its :attr:`Recipe.label` (``esrgan-dp[dp.mu=1,dp.beta=1.3]``) names the column in tables.

Adding a recipe is one registered function below.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.losses.criterion import LEVELS, LOSS_KINDS, Criterion, WeightedTerm, make_term
from srbench_eval.losses.perceptual import SRGAN_FEATURE_SCALE
from srbench_eval.models.archs.common import SRNet, check_scale, count_parameters
from srbench_eval.models.registry import get_arch
from srbench_eval.options import coerce, parse_assignment


@dataclass(frozen=True)
class ArchSpec:
    """An architecture of :mod:`srbench_eval.models.registry` and constructor arguments beyond ``scale``
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


# --------------------------------------------------------------------------- registry

_RECIPES: dict[str, Recipe] = {}


def register(fn: Callable[[], Recipe]) -> Callable[[], Recipe]:
    """Decorator: call ``fn`` once and register the recipe it returns under its name."""
    recipe = fn()
    if recipe.name in _RECIPES:
        raise ValueError(f"recipe {recipe.name} is registered twice")
    _RECIPES[recipe.name] = recipe
    return fn


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name``; an unknown name is a one-line user error with a suggestion."""
    try:
        return _RECIPES[name]
    except KeyError:
        raise unknown_name("recipe", name, _RECIPES) from None


def recipe_names() -> list[str]:
    """Registered recipe names, in registration order."""
    return list(_RECIPES)


# --------------------------------------------------------------------------- builders


def _fail(recipe: Recipe, what: str, err: Exception) -> SrbenchError:
    return SrbenchError(f"recipe {recipe.label}: cannot build {what}: {err}")


def build_generator(recipe: Recipe, scale: int, **size_overrides: Any) -> SRNet:
    """The recipe's generator at ``scale``; ``size_overrides`` replace constructor arguments
    (``num_feat=8, num_block=1`` for a tiny variant)."""
    entry = get_arch(recipe.arch.name)
    kwargs = {**recipe.arch.params, **size_overrides}
    try:
        net = entry.cls(scale=scale, **kwargs)
    except (TypeError, ValueError) as e:
        raise _fail(recipe, f"{entry.name} x{scale}", e) from e
    assert isinstance(net, SRNet)
    return net


def build_discriminator(recipe: Recipe, **size_overrides: Any) -> nn.Module | None:
    """The recipe's discriminator for ``train.hr_patch`` inputs, or ``None`` without one."""
    if recipe.disc is None:
        return None
    entry = get_arch(recipe.disc.name)
    kwargs = {"input_size": recipe.train.hr_patch, **recipe.disc.params, **size_overrides}
    try:
        return entry.cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise _fail(recipe, entry.name, e) from e


def build_losses(recipe: Recipe) -> Criterion:
    """The recipe's generator criterion; terms of weight 0 are left out.

    Perceptual terms load VGG19 / ResNet-50 ImageNet weights (one-line error when missing).
    """
    terms = []
    for spec in recipe.losses:
        if spec.weight == 0:
            continue
        try:
            terms.append(
                WeightedTerm(spec.name, spec.weight, make_term(spec.kind, **spec.params), spec.levels)
            )
        except (TypeError, ValueError) as e:
            raise _fail(recipe, f"loss term {spec.name}", e) from e
    return Criterion(terms)


@lru_cache(maxsize=64)
def _count_on_meta(arch_json: str) -> int:
    """Parameters of ``{"name": arch, **kwargs}`` built on the meta device (no memory), cached."""
    kwargs = _frozen(json.loads(arch_json))
    entry = get_arch(kwargs.pop("name"))
    with torch.device("meta"):
        return count_parameters(entry.cls(**kwargs))


def _count(recipe: Recipe, spec: ArchSpec, **kwargs: Any) -> int:
    arch_json = json.dumps({"name": spec.name, **kwargs, **_plain(spec.params)}, sort_keys=True)
    try:
        return _count_on_meta(arch_json)
    except (TypeError, ValueError) as e:
        raise _fail(recipe, spec.name, e) from e


def generator_parameters(recipe: Recipe, scale: int | None = None) -> int:
    """Parameter count of the recipe's generator at ``scale`` (default: :attr:`Recipe.default_scale`)."""
    return _count(recipe, recipe.arch, scale=scale or recipe.default_scale)


def discriminator_parameters(recipe: Recipe) -> int | None:
    """Parameter count of the recipe's discriminator, or ``None`` without one."""
    if recipe.disc is None:
        return None
    return _count(recipe, recipe.disc, input_size=recipe.train.hr_patch)


def validate(recipe: Recipe) -> None:
    """Cheap consistency checks (names, roles, scales, levels); raises :class:`SrbenchError`."""
    where = f"recipe {recipe.label}"
    entry = get_arch(recipe.arch.name)
    if entry.role != "generator":
        raise SrbenchError(f"{where}: {entry.name} is not a generator")
    if not recipe.scales:
        raise SrbenchError(f"{where}: no scales")
    for s in recipe.scales:
        try:
            check_scale(entry.cls, s)
        except ValueError as e:
            raise SrbenchError(f"{where}: {e}") from None
    if recipe.disc is not None and get_arch(recipe.disc.name).role != "discriminator":
        raise SrbenchError(f"{where}: {recipe.disc.name} is not a discriminator")
    names = [s.name for s in recipe.losses]
    if len(set(names)) != len(names) or not names:
        raise SrbenchError(f"{where}: loss term names must be unique and non-empty, got {names}")
    for spec in recipe.losses:
        if spec.kind not in LOSS_KINDS:
            raise unknown_name(f"loss kind in {where}", spec.kind, LOSS_KINDS)
        if spec.levels not in LEVELS:
            raise SrbenchError(f"{where}: loss.{spec.name}.levels must be one of {LEVELS}")
        try:
            LOSS_KINDS[spec.kind].check(**spec.params)
        except (TypeError, ValueError) as e:
            raise SrbenchError(f"{where}: loss term {spec.name}: {e}") from None
    adversarial = [s for s in recipe.losses if LOSS_KINDS[s.kind].needs == "adversarial" and s.weight]
    if adversarial and recipe.disc is None:
        raise SrbenchError(f"{where}: adversarial term {adversarial[0].name} without a discriminator")
    if recipe.init is not None and recipe.init not in _RECIPES:
        raise unknown_name(f"init recipe in {where}", recipe.init, _RECIPES)


# --------------------------------------------------------------------------- overrides

_NOT_DATA = {"self", "scale", "extractor", "vgg", "resnet", "user"}


def _defaults(cls: type) -> dict[str, Any]:
    sig = inspect.signature(cls.__init__)
    return {
        n: p.default
        for n, p in sig.parameters.items()
        if n not in _NOT_DATA and p.kind is p.POSITIONAL_OR_KEYWORD
    }


def _set_in(group: dict[str, Any], keys: list[str], raw: str, known: dict[str, Any], what: str) -> None:
    """Set ``group[keys[0]]...[keys[-1]]`` to ``raw`` typed like the current value or ``known``'s default."""
    key = keys[0]
    if key not in group and key not in known:
        raise unknown_name(f"setting of {what}", key, {*group, *known})
    current = group.get(key, known.get(key))
    if len(keys) == 1:
        group[key] = coerce(raw, current)
        return
    if current is None:
        current = {}
    if not isinstance(current, dict):
        raise SrbenchError(f"{what}.{key} is a single value, not a group: drop '.{'.'.join(keys[1:])}'")
    group[key] = dict(current)
    # Keys of an existing group keep their type; a new key inside a group (arch.fdl.tau when fdl was
    # unset, train.lr_scale.<prefix>) is typed literally and checked when the recipe is built.
    nested_known = {keys[1]: None} if len(keys) == 2 and keys[1] not in current else {}
    _set_in(group[key], keys[1:], raw, nested_known, f"{what}.{key}")


def apply_overrides(recipe: Recipe, overrides: Sequence[str]) -> tuple[Recipe, str]:
    """Apply ``["loss.dp.mu=1", "train.lr=2e-4", ...]``; returns the new recipe and its table label.

    Each override is ``path=value`` with a dotted path into :meth:`Recipe.to_dict`: ``loss.<term>.<key>``
    (``weight``, ``levels``, ``kind`` or a parameter of the term's class), ``arch.<key>``,
    ``disc.<key>``, ``train.<key>``, ``init``, ``scales``. Values are typed like what they replace.
    Errors are one-line :class:`SrbenchError` naming the override.
    """
    d = recipe.to_dict()
    applied: list[str] = []
    for item in overrides:
        a = parse_assignment(item)
        try:
            if a is None:
                raise SrbenchError("expected path=value, e.g. loss.dp.mu=1")
            _apply_one(d, list(a.path), a.raw)
        except (SrbenchError, ValueError) as e:
            raise SrbenchError(f"override '{item}' for recipe {recipe.name}: {e}") from None
        applied.append(f"{a.key}={a.raw}")
    d["overrides"] = [*recipe.overrides, *applied]
    new = Recipe.from_dict(d)
    validate(new)
    generator_parameters(new)  # builds on the meta device: surfaces bad architecture settings now
    discriminator_parameters(new)
    return new, new.label


def _apply_one(d: dict[str, Any], keys: list[str], raw: str) -> None:
    top, rest = keys[0], keys[1:]
    if top in ("init", "scales"):
        if rest:
            raise SrbenchError(f"{top} takes no sub-key")
        d[top] = coerce(raw, "" if top == "init" else [4])
    elif top == "train":
        if not rest:
            raise SrbenchError("train needs a key, e.g. train.lr=2e-4")
        _set_in(d["train"], rest, raw, {}, "train")
    elif top in ("arch", "disc"):
        group = d[top]
        if group is None:
            raise SrbenchError(f"recipe {d['name']} has no discriminator")
        if not rest:
            raise SrbenchError(f"{top} needs a key, e.g. {top}.num_feat=32")
        if rest == ["name"]:
            group["name"] = raw.strip()
            get_arch(group["name"])
            return
        _set_in(group, rest, raw, _defaults(get_arch(group["name"]).cls), top)
    elif top == "loss":
        if len(rest) < 2:
            raise SrbenchError("expected loss.<term>.<key>=value, e.g. loss.dp.mu=1")
        name, sub = rest[0], rest[1:]
        losses = d["loss"]
        if name not in losses:
            if name in LOSS_KINDS and sub == ["weight"]:
                losses[name] = {"kind": name, "weight": 1.0, "levels": "last"}
            else:
                raise unknown_name(
                    "loss term (add one with loss.<kind>.weight=w)", name, {*losses, *LOSS_KINDS}
                )
        entry = losses[name]
        known = {"kind": "", "weight": 1.0, "levels": "last", **_defaults(LOSS_KINDS[entry["kind"]])}
        _set_in(entry, sub, raw, known, f"loss.{name}")
        if sub == ["kind"] and entry["kind"] not in LOSS_KINDS:
            raise unknown_name("loss kind", entry["kind"], LOSS_KINDS)
    else:
        raise unknown_name("recipe setting", top, ["arch", "disc", "loss", "train", "init", "scales"])


# --------------------------------------------------------------------------- the recipes

_SRCNN = "Dong et al., Image Super-Resolution Using Deep Convolutional Networks, TPAMI 2016"
_LAPSRN = "Lai et al., Deep Laplacian Pyramid Networks for Fast and Accurate Super-Resolution, CVPR 2017"
_SRGAN = "Ledig et al., Photo-Realistic Single Image Super-Resolution Using a GAN, CVPR 2017"
_ESRGAN = "Wang et al., ESRGAN: Enhanced Super-Resolution GANs, ECCV Workshops 2018"
_DP = "Song et al., Dual Perceptual Loss for Single Image Super-Resolution Using ESRGAN, arXiv:2201.06383"
_SOG = "Lin, Zhang, Yang, A pluggable SISR algorithm based on second-order gradient loss, TBench 2023"
_FDL = "fine-grained dynamic loss (classification into 2^n bins, regression in a dynamic anchor area)"
_FDL_HEAD = {"bins_log2": 4, "tau": 0.9}
#: Residual heads: 0 is a bin's middle and the start, the area reaches half a bin further (see
#: srbench_eval/losses/fine_grained.py for why).
_FDL_RESIDUAL = {"margin": 0.5, "centre": 0.0}


def _term(
    name: str, kind: str | None = None, weight: float = 1.0, levels: str = "last", **params: Any
) -> LossSpec:
    return LossSpec(name, kind or name, weight, levels, params)


def _swap(losses: tuple[LossSpec, ...], old: str, *new: LossSpec) -> tuple[LossSpec, ...]:
    """``losses`` with term ``old`` replaced by ``new`` (in place)."""
    out: list[LossSpec] = []
    for spec in losses:
        out.extend(new if spec.name == old else (spec,))
    return tuple(out)


@register
def _srcnn() -> Recipe:
    return Recipe(
        name="srcnn",
        description="SRCNN 9-1-5 (64/32) on the bicubic-upsampled RGB input, MSE",
        paper=_SRCNN,
        arch=ArchSpec("srcnn"),
        losses=(_term("pixel", "mse"),),
        scales=(2, 3, 4),
        train=TrainSpec(
            iterations=1_000_000,
            batch_size=128,
            hr_patch=36,
            optimizer="sgd",
            lr=1e-4,
            momentum=0.9,
            lr_scale={"conv3": 0.1},
            notes="paper: SGD, lr 1e-4 (1e-5 last layer), 33x33 sub-images (36 here: divisible by 2, 3, 4); "
            "iterations are this harness's budget",
        ),
    )


@register
def _srcnn_fdl() -> Recipe:
    base = get_recipe("srcnn")
    return replace(
        base,
        name="srcnn-fdl",
        description="SRCNN whose reconstruction layer is a fine-grained head, trained with FDL",
        paper=f"{_SRCNN}; {_FDL}",
        arch=ArchSpec("srcnn", {"fdl": {**_FDL_HEAD, "residual": True, **_FDL_RESIDUAL}}),
        losses=(_term("fdl", l1_weight=1.0),),
        train=replace(base.train, lr_scale={"head": 0.1}),
    )


@register
def _lapsrn() -> Recipe:
    return Recipe(
        name="lapsrn",
        description="LapSRN, x2 pyramid levels, Charbonnier loss at every level",
        paper=_LAPSRN,
        arch=ArchSpec("lapsrn"),
        losses=(_term("pixel", "charbonnier", levels="all", eps=1e-3),),
        scales=(2, 4, 8),
        train=TrainSpec(
            iterations=500_000,
            batch_size=64,
            hr_patch=128,
            optimizer="sgd",
            lr=1e-5,
            momentum=0.9,
            weight_decay=1e-4,
            milestones=tuple(range(50_000, 500_000, 50_000)),
            gamma=0.5,
            notes="paper: lr 1e-5 halved every 50 epochs (an epoch taken as 1000 iterations here)",
        ),
    )


@register
def _lapsrn_fdl() -> Recipe:
    return replace(
        get_recipe("lapsrn"),
        name="lapsrn-fdl",
        description="LapSRN with fine-grained residual heads, FDL at every level",
        paper=f"{_LAPSRN}; {_FDL}",
        arch=ArchSpec("lapsrn", {"fdl": {**_FDL_HEAD, **_FDL_RESIDUAL}}),
        losses=(_term("fdl", levels="all", l1_weight=1.0),),
    )


@register
def _srresnet() -> Recipe:
    return Recipe(
        name="srresnet",
        description="SRResNet (16 BN residual blocks), MSE",
        paper=_SRGAN,
        arch=ArchSpec("srresnet"),
        losses=(_term("pixel", "mse"),),
        train=TrainSpec(iterations=1_000_000, batch_size=16, hr_patch=96, lr=1e-4, betas=(0.9, 0.999)),
    )


@register
def _srgan() -> Recipe:
    return Recipe(
        name="srgan",
        description="SRGAN: VGG phi_5,4 (after activation, /12.75, MSE) + 1e-3 vanilla GAN, from srresnet",
        paper=_SRGAN,
        arch=ArchSpec("srresnet"),
        losses=(
            _term("vgg", layer="relu5_4", criterion="l2", feature_scale=SRGAN_FEATURE_SCALE),
            _term("gan", weight=1e-3),
        ),
        disc=ArchSpec("srgan_d"),
        init="srresnet",
        train=TrainSpec(
            iterations=200_000,
            batch_size=16,
            hr_patch=96,
            lr=1e-4,
            betas=(0.9, 0.999),
            milestones=(100_000,),
            gamma=0.1,
            d_lr=1e-4,
            notes="paper: 1e5 iterations at lr 1e-4, then 1e5 at 1e-5",
        ),
    )


@register
def _srgan_dp() -> Recipe:
    base = get_recipe("srgan")
    dp = _term(
        "dp",
        mu=0.5,
        beta="3.6",
        vgg_layer="relu5_4",
        vgg_criterion="l2",
        vgg_feature_scale=SRGAN_FEATURE_SCALE,
    )
    return replace(
        base,
        name="srgan-dp",
        description="SRGAN with its VGG term replaced by the DP loss (same VGG part, + ResNet beta_3,6)",
        paper=f"{_SRGAN}; {_DP}",
        losses=_swap(base.losses, "vgg", dp),
    )


@register
def _rrdb() -> Recipe:
    return Recipe(
        name="rrdb",
        description="RRDBNet trained with L1: ESRGAN's PSNR-oriented stage 1",
        paper=_ESRGAN,
        arch=ArchSpec("rrdbnet"),
        losses=(_term("pixel", "l1"),),
        train=TrainSpec(
            iterations=1_000_000,
            batch_size=16,
            hr_patch=128,
            lr=2e-4,
            betas=(0.9, 0.99),
            milestones=(200_000, 400_000, 600_000, 800_000),
            gamma=0.5,
            notes="paper: lr 2e-4 halved every 2e5 iterations; betas as ESRGAN's official configs",
        ),
    )


@register
def _esrgan() -> Recipe:
    return Recipe(
        name="esrgan",
        description="ESRGAN: 1e-2 L1 + VGG conv5_4 (before activation, L1) + 5e-3 RaGAN, from rrdb",
        paper=_ESRGAN,
        arch=ArchSpec("rrdbnet"),
        losses=(
            _term("pixel", "l1", weight=1e-2),
            _term("vgg", layer="conv5_4", criterion="l1"),
            _term("gan", "ragan", weight=5e-3),
        ),
        disc=ArchSpec("vgg128_d"),
        init="rrdb",
        train=TrainSpec(
            iterations=400_000,
            batch_size=16,
            hr_patch=128,
            lr=1e-4,
            betas=(0.9, 0.99),
            milestones=(50_000, 100_000, 200_000, 300_000),
            gamma=0.5,
            d_lr=1e-4,
        ),
    )


@register
def _esrgan_dp() -> Recipe:
    base = get_recipe("esrgan")
    return replace(
        base,
        name="esrgan-dp",
        description="ESRGAN with the VGG term replaced by the dual perceptual loss (mu 0.5, beta_3,6)",
        paper=_DP,
        losses=_swap(base.losses, "vgg", _term("dp", mu=0.5, beta="3.6", vgg_layer="conv5_4")),
    )


@register
def _esrgan_vr() -> Recipe:
    base = get_recipe("esrgan")
    return replace(
        base,
        name="esrgan-vr",
        description="ESRGAN + ResNet beta_3,6 L1 term with a static weight 1: DP without dynamic weighting",
        paper=_DP,
        losses=_swap(base.losses, "vgg", base.loss("vgg"), _term("resnet", beta="3.6", criterion="l1")),
    )


@register
def _rrdb_sog() -> Recipe:
    base = get_recipe("rrdb")
    return replace(
        base,
        name="rrdb-sog",
        description="rrdb + second-order gradient loss (weight 1, like its pixel term)",
        paper=f"{_ESRGAN}; {_SOG}",
        losses=(*base.losses, _term("sog")),
    )


@register
def _esrgan_sog() -> Recipe:
    base = get_recipe("esrgan")
    return replace(
        base,
        name="esrgan-sog",
        description="esrgan + second-order gradient loss (weight 1e-2, like its pixel term), from rrdb-sog",
        paper=f"{_ESRGAN}; {_SOG}",
        losses=(*base.losses, _term("sog", weight=1e-2)),
        init="rrdb-sog",
    )
