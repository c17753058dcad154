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

The parts: the data model (:mod:`.recipe_spec`), the registry and builders
(:mod:`.recipe_registry`), the override parser (:mod:`.recipe_overrides`) and the recipes
themselves, as data (:mod:`.recipe_zoo`: adding a recipe is adding a value there). This module
is the one to import from.
"""

from srbench_eval.models.recipes.overrides import apply_overrides
from srbench_eval.models.recipes.registry import (
    build_discriminator,
    build_generator,
    build_losses,
    discriminator_parameters,
    generator_parameters,
    get_recipe,
    recipe_names,
    register,
    validate,
)
from srbench_eval.models.recipes.spec import ArchSpec, LossSpec, Recipe, TrainSpec

__all__ = [
    "ArchSpec",
    "LossSpec",
    "Recipe",
    "TrainSpec",
    "apply_overrides",
    "build_discriminator",
    "build_generator",
    "build_losses",
    "discriminator_parameters",
    "generator_parameters",
    "get_recipe",
    "recipe_names",
    "register",
    "validate",
]
