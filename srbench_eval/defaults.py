"""The defaults and limits of a run, in one place: ``srbench-eval run``'s options and help texts, the
Python API (:func:`srbench_eval.evaluate`), the study and the run plan
(:mod:`srbench_eval.evaluation.plan`) read them here (no torch, no NumPy)."""

from __future__ import annotations

DEFAULT_DATASETS: tuple[str, ...] = ("set5", "set14", "bsd100", "urban100")
DEFAULT_METRICS: tuple[str, ...] = ("psnr", "ssim")

MIN_SCALE, MAX_SCALE = 1, 16
"""The upscaling factors a run accepts (1: the identity, for tests of the pipeline)."""

SCALE_RANGE = f"an integer from {MIN_SCALE} to {MAX_SCALE} ({MIN_SCALE}: the identity)"
"""How the help text and the error of a bad ``--scale`` name the accepted factors."""
