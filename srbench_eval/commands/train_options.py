"""The one table of the training options: it generates the click options of ``train`` and of ``study``
(which shares a subset, some with its own default or help).

Each :class:`TrainOption` names the :class:`~srbench_eval.training.config.TrainConfig` field it sets
(the command's parameter name), its flags, its default and help; ``study`` is ``None`` for an option
``study`` lacks, else the settings that differ there (``{}``: none). The defaults equal those of
``TrainConfig`` and :class:`~srbench_eval.studies.Study` (``tests/test_train_options.py`` holds them
equal); this module imports neither, so ``--help`` stays torch-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

F = Callable[..., Any]


@dataclass(frozen=True)
class TrainOption:
    """One option: TrainConfig ``name``, click ``flags``, ``default``, ``help``, other click settings."""

    name: str
    flags: tuple[str, ...]
    default: Any = None
    help: str | None = None
    click: dict[str, Any] = field(default_factory=dict)
    study: dict[str, Any] | None = None

    def option(self, for_study: bool = False) -> Callable[[F], F]:
        """The click option of ``train`` (or, with ``for_study``, of ``study``)."""
        settings = {
            "default": self.default,
            "help": self.help,
            **self.click,
            **((for_study and self.study) or {}),
        }
        default = settings["default"]
        if not (default is None or default is False or default == () or settings.get("required")):
            settings.setdefault("show_default", True)
        return click.option(*self.flags, self.name, **settings)


_PRESET = {"type": click.Choice(["paper", "smoke"])}
_PRESET_HELP = (
    "paper: the recipe's network and schedule; smoke: a small network trained for minutes on a CPU."
)

OPTIONS: tuple[TrainOption, ...] = (
    TrainOption("model", ("--model",), help="Recipe name (see `models list`).", click={"required": True}),
    TrainOption(
        "preset", ("--preset",), "paper", _PRESET_HELP, _PRESET, study={"default": "smoke", "help": None}
    ),
    TrainOption(
        "scale",
        ("--scale",),
        help="Upscaling factor [default: x4, or the recipe's first].",
        click={"type": int},
        study={"help": "Upscaling factor [default: x4]."},
    ),
    TrainOption(
        "overrides",
        ("--set",),
        (),
        help="Override a recipe setting, e.g. --set loss.dp.mu=1 (repeatable; shown in the table label).",
        click={"multiple": True, "metavar": "PATH=VALUE"},
        study={
            "metavar": "PATH=VALUE[,VALUE...]",
            "help": "Recipe setting for every member; a comma list sweeps (one variant per value), e.g. "
            "--set loss.dp.mu=0.5,1,5 (list values inside a sweep: items joined by +).",
        },
    ),
    TrainOption(
        "checkpoints",
        ("--checkpoints", "--out"),
        help="Checkpoint root; the run goes to ROOT/<recipe>/<run>/ "
        "[default: $SRBENCH_CHECKPOINTS or ./checkpoints].",
    ),
    TrainOption(
        "resume",
        ("--resume",),
        False,
        help="Continue the run from its newest checkpoint.",
        click={"is_flag": True},
    ),
    TrainOption(
        "init",
        ("--init",),
        help="Checkpoint a two-stage recipe starts from [default: newest of its init recipe]; "
        "'none': scratch.",
    ),
    TrainOption("seed", ("--seed",), 0, "Seed of weights and data.", {"type": int}),
    TrainOption("device", ("--device",), "auto", "auto, cpu, cuda or cuda:N.", study={"help": None}),
    TrainOption(
        "val",
        ("--val",),
        "set5",
        "Validation dataset (name or folder) at the same scale, or 'none'.",
        study={"default": "none", "help": "Validation during training (the study evaluates after)."},
    ),
    TrainOption(
        "val_every",
        ("--val-every",),
        help="Validate every N iterations [default: a quarter].",
        click={"type": int},
    ),
    TrainOption("log_every", ("--log-every",), 20, "Log the losses every N iterations.", {"type": int}),
    TrainOption("keep", ("--keep",), 2, "Periodic checkpoints to keep.", {"type": int}),
    TrainOption("ema", ("--ema",), 0.0, "EMA decay of the generator (0: off).", {"type": float}),
    TrainOption("amp", ("--amp",), "auto", "bf16 autocast.", {"type": click.Choice(["auto", "bf16", "off"])}),
    TrainOption(
        "workers",
        ("--workers",),
        help="Data loader processes [default: 0 on CPU, 4 on GPU].",
        click={"type": int},
        study={"help": "Data loader processes per member."},
    ),
    TrainOption(
        "preload",
        ("--preload/--no-preload",),
        help="Keep the training images in memory [default: when they fit].",
    ),
    TrainOption(
        "subimages",
        ("--subimages",),
        0,
        "Cut the training images once into sub-images of this size (e.g. 480) for faster loading.",
        {"type": int},
    ),
    TrainOption(
        "data",
        ("--data",),
        None,
        "Training HR images: a dataset name (see `datasets list`) or a folder of images "
        "[default: div2k-train; demo (embedded) with --preset smoke].",
        study={},
    ),
    TrainOption(
        "mirror",
        ("--mirror",),
        help="Local folder or base URL for datasets [default: $SRBENCH_MIRROR].",
        study={},
    ),
    TrainOption(
        "iterations",
        ("--iterations",),
        help="Training iterations [default: recipe/preset].",
        click={"type": int},
        study={},
    ),
    TrainOption(
        "batch_size",
        ("--batch-size",),
        help="Global batch size [default: recipe/preset].",
        click={"type": int},
        study={},
    ),
    TrainOption(
        "hr_patch",
        ("--patch",),
        help="HR patch size [default: recipe/preset].",
        click={"type": int},
        study={},
    ),
    TrainOption(
        "save_every",
        ("--save-every",),
        help="Checkpoint every N iterations [default: a tenth].",
        click={"type": int},
        study={},
    ),
)
"""Every option of ``train`` that sets a TrainConfig field (``--protocol`` and ``--protocol-set``, shared
with ``run``, come from :func:`srbench_eval.commands.evaluation.protocol_options`)."""

EXPORT = click.option(
    "--export",
    type=click.Path(path_type=Path),
    default=None,
    help="At the end, also write the generator alone (float16, with its recipe) to this .pt file.",
)
QUIET = click.option("--quiet", is_flag=True, help="No progress bar.")


def _decorate(fn: F, for_study: bool, after: dict[str, tuple[Callable[[F], F], ...]]) -> F:
    """Apply the table's options (those of ``study`` with ``for_study``) in its order, with the
    decorators of ``after[name]`` placed right after option ``name``."""
    for spec in reversed(OPTIONS):
        if for_study and spec.study is None:
            continue
        for extra in reversed(after.get(spec.name, ())):
            fn = extra(fn)
        fn = spec.option(for_study)(fn)
    return fn


def train_options(fn: F) -> F:
    """Decorate ``train`` with every option of :data:`OPTIONS` (``--export`` after ``--subimages``)."""
    return _decorate(fn, False, {"subimages": (EXPORT,)})


def study_options(*after_workers: Callable[[F], F]) -> Callable[[F], F]:
    """Decorate ``study`` with the options of :data:`OPTIONS` it shares, ``after_workers`` (its own
    ``--datasets``, ``--metrics``) after ``--workers``."""
    return lambda fn: _decorate(fn, True, {"workers": after_workers})


def study_fields() -> list[str]:
    """The TrainConfig fields that ``study`` also takes (and a study file may give)."""
    return [spec.name for spec in OPTIONS if spec.study is not None]
