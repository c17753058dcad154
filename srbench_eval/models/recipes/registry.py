"""The recipe registry (:func:`get_recipe`, :func:`recipe_names`) and what is built from a recipe:
:func:`build_generator`, :func:`build_discriminator`, :func:`build_losses`, parameter counts and
:func:`validate`. The registry holds :data:`srbench_eval.models.recipes.zoo.RECIPES`.

The registry and the parameter counts of the zoo's recipes import no torch (``models list``
answers at once): the builders import the networks and losses when they run, and a parameter
count is read from :data:`PARAMETER_COUNTS` (``parameter_counts.json``: every zoo recipe's
generator at each of its scales and its discriminator, counted on the meta device) when the
architecture settings are there, else counted by building the network on the meta device.
``tests/models/test_recipes.py`` holds the file equal to the networks; after changing an
architecture, :func:`write_parameter_counts` rewrites it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srbench_eval.errors import SrbenchError
from srbench_eval.losses import LOSS_KINDS
from srbench_eval.models.architectures import get_arch
from srbench_eval.models.recipes.spec import ArchSpec, Recipe, _frozen, _plain
from srbench_eval.models.recipes.zoo import RECIPES as ZOO_RECIPES
from srbench_eval.registry import Registry

if TYPE_CHECKING:
    from torch import nn

    from srbench_eval.losses.criterion import Criterion
    from srbench_eval.models.archs.common import SRNet

PARAMETER_COUNTS = Path(__file__).resolve().parents[1] / "parameter_counts.json"

# --------------------------------------------------------------------------- registry

RECIPES: Registry[Recipe] = Registry("recipe")
"""The registered recipes by name (the zoo's, then any :func:`register` adds)."""


def register(recipe: Recipe) -> Recipe:
    """Register ``recipe`` under its name (once)."""
    return RECIPES.add(recipe.name, recipe)


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name``; an unknown name is a one-line user error with a suggestion."""
    return RECIPES.get(name)


def recipe_names() -> list[str]:
    """Registered recipe names, in registration order."""
    return RECIPES.names()


# --------------------------------------------------------------------------- builders


def _fail(recipe: Recipe, what: str, err: Exception) -> SrbenchError:
    return SrbenchError(f"recipe {recipe.label}: cannot build {what}: {err}")


def build_generator(recipe: Recipe, scale: int, **size_overrides: Any) -> SRNet:
    """The recipe's generator at ``scale``; ``size_overrides`` replace constructor arguments
    (``num_feat=8, num_block=1`` for a tiny variant)."""
    from srbench_eval.models.archs.common import SRNet

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
    from srbench_eval.losses.criterion import Criterion, WeightedTerm, make_term

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
    import torch

    from srbench_eval.models.archs.common import count_parameters

    kwargs = _frozen(json.loads(arch_json))
    entry = get_arch(kwargs.pop("name"))
    with torch.device("meta"):
        return count_parameters(entry.cls(**kwargs))


@lru_cache(maxsize=1)
def _counted() -> dict[str, int]:
    """:data:`PARAMETER_COUNTS`: architecture settings (``_arch_key``) -> parameter count."""
    return json.loads(PARAMETER_COUNTS.read_text(encoding="utf-8")) if PARAMETER_COUNTS.is_file() else {}


def _arch_key(spec: ArchSpec, **kwargs: Any) -> str:
    return json.dumps({"name": spec.name, **kwargs, **_plain(spec.params)}, sort_keys=True)


def _count(recipe: Recipe, spec: ArchSpec, **kwargs: Any) -> int:
    arch_json = _arch_key(spec, **kwargs)
    if arch_json in _counted():
        return _counted()[arch_json]
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


def parameter_counts() -> dict[str, int]:
    """Every zoo recipe's generator (at each of its scales) and discriminator, counted on the meta
    device: what :data:`PARAMETER_COUNTS` must hold."""
    counts = {}
    for recipe in RECIPES.values():
        for scale in recipe.scales:
            key = _arch_key(recipe.arch, scale=scale)
            counts[key] = _count_on_meta(key)
        if recipe.disc is not None:
            key = _arch_key(recipe.disc, input_size=recipe.train.hr_patch)
            counts[key] = _count_on_meta(key)
    return dict(sorted(counts.items()))


def write_parameter_counts() -> None:
    """Rewrite :data:`PARAMETER_COUNTS` from the networks (after an architecture changed)."""
    PARAMETER_COUNTS.write_text(json.dumps(parameter_counts(), indent=1) + "\n", encoding="utf-8")
    _counted.cache_clear()


def validate(recipe: Recipe) -> None:
    """Cheap consistency checks (names, roles, scales, levels); raises :class:`SrbenchError`."""
    from srbench_eval.losses.criterion import LEVELS  # torch
    from srbench_eval.models.archs.common import check_scale  # torch

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
        kind = LOSS_KINDS.get(spec.kind, kind=f"loss kind in {where}")
        if spec.levels not in LEVELS:
            raise SrbenchError(f"{where}: loss.{spec.name}.levels must be one of {LEVELS}")
        try:
            kind.check(**spec.params)
        except (TypeError, ValueError) as e:
            raise SrbenchError(f"{where}: loss term {spec.name}: {e}") from None
    adversarial = [s for s in recipe.losses if LOSS_KINDS[s.kind].needs == "adversarial" and s.weight]
    if adversarial and recipe.disc is None:
        raise SrbenchError(f"{where}: adversarial term {adversarial[0].name} without a discriminator")
    if recipe.init is not None:
        RECIPES.get(recipe.init, kind=f"init recipe in {where}")


def _register_zoo() -> None:
    for recipe in ZOO_RECIPES:
        register(recipe)


_register_zoo()
