"""What defines a training run: :class:`TrainConfig`, the presets, and the effective recipe.

Presets:

* ``paper``: the recipe as registered (its paper's network size and full schedule).
* ``smoke``: minutes on a CPU. The networks shrink to their architecture's ``smoke`` sizes
  (:class:`~srbench_eval.models.architectures.ArchEntry`; the discriminators too), the schedule to
  :data:`SMOKE_ITERATIONS` iterations (or ``--iterations``) of batch :data:`SMOKE_BATCH` with the
  recipe's learning-rate milestones compressed in proportion to the run length, and the
  HR patch to :func:`smoke_patch` (48 to 64 pixels). Recipes trained by SGD in their paper (SRCNN,
  LapSRN, with learning rates of 1e-4 and 1e-5 tuned for 10^6 iterations) use Adam at
  :data:`SMOKE_SGD_TO_ADAM_LR` instead, so that a few thousand iterations learn something; the
  recipe's per-layer learning-rate multipliers are kept. Its default training data is
  :data:`SMOKE_DATA` (the five ``demo`` images embedded in the installed scikit-image package,
  always present offline), not :data:`DEFAULT_DATA` (DIV2K, a 3.5 GB download), which stays the
  ``paper`` preset's; a given ``data`` wins either way, and the checkpoint records the data used.

The preset is applied to the registered recipe *before* the user's ``--set`` overrides, which
therefore win, and it is not listed among the recipe's overrides: the checkpoint records the preset
and the resulting size separately, and tables label such models ``srcnn (smoke)``, never ``srcnn``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from srbench_eval.defaults import DEFAULT_TRAIN_DATA, SMOKE_TRAIN_DATA
from srbench_eval.defaults import default_train_data as default_data
from srbench_eval.errors import SrbenchError
from srbench_eval.models.architectures import get_arch
from srbench_eval.models.checkpoints import PRESETS
from srbench_eval.models.recipes.named import Recipe, apply_overrides, get_recipe

DEFAULT_DATA = DEFAULT_TRAIN_DATA
SMOKE_DATA = SMOKE_TRAIN_DATA
DEFAULT_VAL = "set5"

SMOKE_ITERATIONS = 2000
SMOKE_BATCH = 16
SMOKE_SGD_TO_ADAM_LR = 1e-3


def smoke_patch(recipe: Recipe, scale: int) -> int:
    """The smallest HR patch of at least 48 pixels that ``scale`` and the discriminator accept."""
    step = scale
    if recipe.disc is not None:
        step = math.lcm(step, get_arch(recipe.disc.name).input_multiple)
    return step * max(1, math.ceil(48 / step))


def apply_preset(recipe: Recipe, preset: str, scale: int, iterations: int | None = None) -> Recipe:
    """The recipe as trained by ``preset`` (see the module docstring); ``paper`` returns it unchanged.

    ``iterations``: the run length of a smoke run (default :data:`SMOKE_ITERATIONS`); the recipe's
    milestones keep their fraction of the schedule (ESRGAN's 5e4 of 4e5 becomes 1/8 of the run).
    """
    if preset not in PRESETS:
        raise SrbenchError(f"unknown preset '{preset}': use one of {', '.join(PRESETS)}")
    if preset == "paper":
        return recipe
    arch = replace(recipe.arch, params={**recipe.arch.params, **get_arch(recipe.arch.name).smoke})
    disc = recipe.disc
    if disc is not None:
        disc = replace(disc, params={**disc.params, **get_arch(disc.name).smoke})
    t = recipe.train
    length = SMOKE_ITERATIONS if iterations is None else iterations
    milestones = tuple(sorted({max(1, round(m * length / t.iterations)) for m in t.milestones}))
    train = replace(
        t,
        iterations=length,
        batch_size=SMOKE_BATCH,
        hr_patch=smoke_patch(recipe, scale),
        milestones=milestones,
        notes=f"smoke preset of: {t.notes}".strip(": "),
    )
    if t.optimizer == "sgd":
        train = replace(
            train, optimizer="adam", lr=SMOKE_SGD_TO_ADAM_LR, betas=(0.9, 0.999), weight_decay=0.0
        )
    return replace(recipe, arch=arch, disc=disc, train=train)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (``srbench-eval train`` builds one; stored in checkpoints).

    ``None`` fields take the recipe's (or preset's) value: ``scale`` (x4 when supported),
    ``iterations`` (with ``paper`` the milestones stay the paper's; with ``smoke`` they scale with
    the run), ``batch_size`` (the global batch, split over the ranks), ``hr_patch``, ``data``
    (:func:`default_data`: DIV2K for ``paper``, the embedded demo images for ``smoke``).
    ``checkpoints``: the checkpoint root (default ``$SRBENCH_CHECKPOINTS`` or ``./checkpoints``);
    the run writes to ``<root>/<recipe>/<run_name>/``. ``init``: the checkpoint a two-stage recipe
    starts from (default: the newest of ``recipe.init`` with the same preset and scale; ``"none"``
    starts from scratch). ``val``: a dataset name or folder, or ``"none"``. ``val_every`` /
    ``save_every`` default to a quarter / a tenth of the run; ``keep``: periodic checkpoints kept
    (the final one always stays). ``ema``: decay of the generator's exponential moving average
    (0: off). ``amp``: ``auto`` (bf16 autocast on CUDA), ``bf16`` or ``off``. ``workers``: data loader
    processes (``None``: 0 on CPU, 4 on GPU). ``preload``: keep the images in memory (``None``: when
    they fit). ``subimages``: cut the training images once into sub-images of this size (0: off).
    ``stop_after``: end this process after that step's checkpoint, like a kill (tests, time slices).
    """

    model: str
    preset: str = "paper"
    scale: int | None = None
    data: str | None = None  # None: default_data(preset), filled in when the config is made
    mirror: str | None = None
    overrides: tuple[str, ...] = ()
    iterations: int | None = None
    batch_size: int | None = None
    hr_patch: int | None = None
    checkpoints: str | None = None
    resume: bool = False
    init: str | None = None
    seed: int = 0
    device: str = "auto"
    val: str = DEFAULT_VAL
    protocol: str = "matlab"  # evaluation protocol of the validation (srbench_eval.protocol)
    protocol_set: tuple[str, ...] = ()
    val_every: int | None = None
    save_every: int | None = None
    log_every: int = 20
    keep: int = 2
    ema: float = 0.0
    amp: str = "auto"
    workers: int | None = None
    preload: bool | None = None
    subimages: int = 0
    augment: bool = True
    progress: bool = True
    stop_after: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.data is None:  # recorded as the data used (checkpoint config, training log)
            object.__setattr__(self, "data", default_data(self.preset))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def check(self) -> None:
        """Refuse out-of-range numbers with a one-line error naming the option and the value.

        ``None`` means "the default"; every number given, 0 included, is a value to check: ``--scale
        0`` or ``--iterations 0`` is an error, never the default.
        """
        for name, (option, low, what) in _BOUNDS.items():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise SrbenchError(f"{option} {value!r}: {what} must be a whole number")
            if value < low:
                raise SrbenchError(f"{option} {value}: {what} must be {_at_least(low)}")
        if self.seed >= 2**32:
            raise SrbenchError(f"--seed {self.seed}: the seed must be below 2**32")


#: Field -> (command-line option, smallest value, what it is). See :meth:`TrainConfig.check`.
_BOUNDS: dict[str, tuple[str, int, str]] = {
    "scale": ("--scale", 1, "the upscaling factor"),
    "iterations": ("--iterations", 1, "the number of iterations"),
    "batch_size": ("--batch-size", 1, "the batch size"),
    "hr_patch": ("--patch", 1, "the HR patch size"),
    "val_every": ("--val-every", 1, "the validation interval"),
    "save_every": ("--save-every", 1, "the checkpoint interval"),
    "log_every": ("--log-every", 1, "the logging interval"),
    "keep": ("--keep", 1, "the number of periodic checkpoints kept"),
    "workers": ("--workers", 0, "the number of data loader processes"),
    "subimages": ("--subimages", 0, "the sub-image size (0: off)"),
    "seed": ("--seed", 0, "the seed"),
    "stop_after": ("stop_after", 1, "the step to stop after"),
}
#: Fields where ``None`` means "the recipe's, preset's or device's default".
_OPTIONAL = {
    "scale",
    "iterations",
    "batch_size",
    "hr_patch",
    "val_every",
    "save_every",
    "workers",
    "stop_after",
}


def _at_least(low: int) -> str:
    return "positive" if low == 1 else f"at least {low}"


@dataclass(frozen=True)
class Plan:
    """The resolved run: the effective recipe and the numbers the loop uses."""

    recipe: Recipe
    scale: int
    iterations: int
    batch_size: int
    hr_patch: int
    val_every: int
    save_every: int


def resolve(config: TrainConfig) -> Plan:
    """The effective recipe (preset, then overrides, then the command-line sizes) and schedule."""
    config.check()
    base = get_recipe(config.model)
    scale = base.default_scale if config.scale is None else config.scale
    recipe = apply_preset(base, config.preset, scale, config.iterations)
    if config.overrides:
        recipe, _ = apply_overrides(recipe, list(config.overrides))
        _check_overridden_sizes(recipe, config.overrides)
    if scale not in recipe.scales:
        raise SrbenchError(
            f"recipe {recipe.label} is defined for x{'/x'.join(map(str, recipe.scales))}, not x{scale}: "
            f"pass --scale {recipe.default_scale} or --set scales={scale}"
        )
    t = recipe.train
    given = {"iterations": config.iterations, "batch_size": config.batch_size, "hr_patch": config.hr_patch}
    sizes = {key: getattr(t, key) if value is None else value for key, value in given.items()}
    for key, value in sizes.items():
        if value <= 0:  # a registered recipe's own value (the options and overrides are checked above)
            raise SrbenchError(f"recipe {recipe.label}: train.{key} must be positive, got {value}")
    if sizes["hr_patch"] % scale:
        raise SrbenchError(f"HR patch {sizes['hr_patch']} is not a multiple of the scale x{scale}")
    if config.subimages % (2 * scale):  # the sub-images and their step (half the size) cut at the scale
        example = 480 if 480 % (2 * scale) == 0 else 80 * scale
        raise SrbenchError(
            f"--subimages {config.subimages}: the sub-image size must be a multiple of {2 * scale} "
            f"(twice the scale x{scale}), e.g. {example}, or 0 for off"
        )
    # The recorded recipe says what was trained; the discriminator's input size follows the patch.
    recipe = replace(recipe, train=replace(t, **sizes))
    iterations = sizes["iterations"]
    val_every = max(1, iterations // 4) if config.val_every is None else config.val_every
    save_every = max(1, iterations // 10) if config.save_every is None else config.save_every
    if config.ema and not 0.0 < config.ema < 1.0:
        raise SrbenchError(
            f"--ema {config.ema}: the decay must be between 0 and 1 (e.g. 0.999), or 0 for off"
        )
    if config.amp not in ("auto", "bf16", "off"):
        raise SrbenchError(f"--amp {config.amp}: use auto, bf16 or off")
    return Plan(recipe, scale, iterations, sizes["batch_size"], sizes["hr_patch"], val_every, save_every)


def _check_overridden_sizes(recipe: Recipe, overrides: tuple[str, ...]) -> None:
    """``--set train.iterations=0`` (or ``batch_size``, ``hr_patch``, or an optimiser setting out of
    range: ``train.lr=-1``): the same kind of error as ``--iterations 0``, naming the override, even
    when a command-line size replaces the value afterwards."""
    t = recipe.train
    checks: list[tuple[str, bool, str]] = [
        ("iterations", t.iterations > 0, "positive"),
        ("batch_size", t.batch_size > 0, "positive"),
        ("hr_patch", t.hr_patch > 0, "positive"),
        ("lr", t.lr > 0, "positive"),
        ("d_lr", t.d_lr is None or t.d_lr > 0, "positive"),
        ("gamma", t.gamma > 0, "positive"),
        ("weight_decay", t.weight_decay >= 0, "at least 0"),
        ("momentum", t.momentum >= 0, "at least 0"),
        ("betas", len(t.betas) == 2 and all(0 <= b < 1 for b in t.betas), "two numbers in [0, 1)"),
        ("milestones", all(m >= 1 for m in t.milestones), "iterations of at least 1"),
    ]
    for key, ok, bound in checks:
        if not ok:
            given = [o for o in overrides if o.partition("=")[0].strip() == f"train.{key}"]
            shown = given[-1] if given else f"train.{key}={getattr(t, key)}"
            raise SrbenchError(f"--set {shown}: train.{key} must be {bound}")
