"""The published oracles the metric tests pin against (../shared/oracles), loaded once."""

from __future__ import annotations

import csv
import functools
import json

import numpy as np
import pytest
import torch
from PIL import Image

from srbench_eval.metrics import MetricSettings
from srbench_eval.protocol import resolve
from tests.conftest import SHARED

# The official IQA values are of whole images: no border crop.
NO_CROP = MetricSettings(scale=1, protocol=resolve("matlab", ["crop_border=0"]))

ORACLES = SHARED / "oracles"
IQA = ORACLES / "iqa"
SELFEXSR = ORACLES / "selfexsr"
IQA_IMAGES = ("I03", "I04", "I06", "I08", "I19")

requires_iqa = pytest.mark.skipif(
    not (IQA / "results_official.csv").is_file(), reason=f"{IQA} is absent (pyiqa calibration oracle)"
)
requires_selfexsr = pytest.mark.skipif(
    not (SELFEXSR / "bicubic_matlab_scores.json").is_file(), reason=f"{SELFEXSR} is absent (SelfExSR oracle)"
)


def image(path) -> torch.Tensor:
    """An image file as a ``(1, C, H, W)`` float32 batch of 0..255 values."""
    a = np.asarray(Image.open(path), dtype=np.float32)
    t = torch.from_numpy(a)
    return (t[None] if t.ndim == 2 else t.permute(2, 0, 1))[None].contiguous()


@functools.cache
def official(row: str) -> dict[str, float]:
    """Row ``row`` of results_official.csv: image stem -> value."""
    with open(IQA / "results_official.csv", newline="") as f:
        for rec in csv.DictReader(f):
            if rec["Method"] == row:
                return {k.removesuffix(".bmp"): float(v) for k, v in rec.items() if k != "Method"}
    raise KeyError(row)


def iqa_pair(stem: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(distorted, reference) RGB batches of the calibration pair ``stem``."""
    return image(IQA / "dist_dir" / f"{stem}.bmp"), image(IQA / "ref_dir" / f"{stem}.bmp")


@functools.cache
def selfexsr_scores() -> dict[str, dict[str, dict[str, float]]]:
    return json.loads((SELFEXSR / "bicubic_matlab_scores.json").read_text())
