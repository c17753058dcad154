"""``srbench-eval`` under torchrun, recording what each rank decodes and what travels between ranks.

Run as ``torchrun ... tests/torchrun_probe.py run ...`` with ``PROBE_DIR`` set: each rank runs the
real CLI and writes ``PROBE_DIR/rank<R>.json`` with the image files it decoded (in order) and the
shape of every tensor in the objects it gathered or broadcast (:mod:`srbench_eval.distributed`).
With ``PROBE_RANK_MISSES_AN_IMAGE=R``, rank R finds one image less in each dataset.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch

from srbench_eval import distributed
from srbench_eval.cli import main
from srbench_eval.data import pairs
from srbench_eval.data.datasets import manifest
from srbench_eval.data.io import images
from srbench_eval.evaluation import loop

decoded: list[str] = []
shipped: list[list[int]] = []


def _tensor_shapes(obj: Any) -> None:
    if isinstance(obj, torch.Tensor):
        shipped.append(list(obj.shape))
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _tensor_shapes(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            _tensor_shapes(item)


def _read_image(path, *args, **kwargs):
    decoded.append(Path(path).name)
    return images.read_image(path, *args, **kwargs)


def _recorded(fn):
    def wrapper(env, obj):
        _tensor_shapes(obj)
        return fn(env, obj)

    return wrapper


def _one_image_less(open_dataset):
    def wrapper(*args, **kwargs):
        d = open_dataset(*args, **kwargs)
        return dataclasses.replace(d, images=d.images[:-1])

    return wrapper


pairs.read_image = _read_image
manifest.read_image = _read_image
distributed.gather_objects = _recorded(distributed.gather_objects)
distributed.broadcast_object = _recorded(distributed.broadcast_object)
if os.environ.get("PROBE_RANK_MISSES_AN_IMAGE") == os.environ["RANK"]:
    loop.open_dataset = _one_image_less(loop.open_dataset)

if __name__ == "__main__":
    try:
        rc = main(sys.argv[1:])
    finally:
        record = {"decoded": decoded, "shipped": shipped}
        (Path(os.environ["PROBE_DIR"]) / f"rank{os.environ['RANK']}.json").write_text(json.dumps(record))
    sys.exit(rc)
