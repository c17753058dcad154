"""The defaults and limits of a run, in one place: ``srbench-eval run``'s options and help texts, the
Python API (:func:`srbench_eval.evaluate`), the study and the run plan
(:mod:`srbench_eval.evaluation.plan`) read them here (no torch, no NumPy)."""

from __future__ import annotations

DEFAULT_DATASETS: tuple[str, ...] = ("set5", "set14", "bsd100", "urban100")
DEFAULT_METRICS: tuple[str, ...] = ("psnr", "ssim")

DEFAULT_TRAIN_DATA = "div2k-train"
"""The training data of ``--preset paper`` (and of any preset but smoke) when none is given."""
SMOKE_TRAIN_DATA = "demo"
"""The smoke preset's default training data: the five images embedded in the installed scikit-image
package, there offline on every machine (DIV2K is a 3.5 GB download). Not an evaluation set:
training on Set5 would score a model on its own training images."""


def default_train_data(preset: str) -> str:
    """The training data of ``preset`` when none is given (``train``, ``study``, a study spec)."""
    return SMOKE_TRAIN_DATA if preset == "smoke" else DEFAULT_TRAIN_DATA


MIN_SCALE, MAX_SCALE = 1, 16
"""The upscaling factors a run accepts (1: the identity, for tests of the pipeline)."""

SCALE_RANGE = (
    f"a number from {MIN_SCALE} to {MAX_SCALE} ({MIN_SCALE}: the identity; non-integer scales such as 1.5 "
    f"follow Meta-SR's size rule)"
)
"""How the help text and the error of a bad ``--scale`` name the accepted factors."""

SCALE_DECIMALS = 10
"""Scales are kept to this many decimals (``1.1 + 2 * 0.1`` is ``1.3``, not ``1.3000000000000003``)."""


def as_scale(value: float | int | str) -> int | float:
    """A scale as the run records it: an ``int`` when whole (``2.0`` -> ``2``, so integer runs are
    unchanged), else the float rounded to :data:`SCALE_DECIMALS` decimals. ``ValueError`` for text
    that is not a number."""
    number = round(float(value), SCALE_DECIMALS)
    return int(number) if number.is_integer() else number
