"""``srbench-eval`` under torchrun, recording what each rank decodes and what travels between ranks.

Run as ``torchrun ... tests/torchrun_probe.py run ...`` with ``PROBE_DIR`` set: each rank runs the
real CLI and writes ``PROBE_DIR/rank<R>.json`` with the image files it decoded (in order) and the
shape of every tensor in the objects it gathered or broadcast (:mod:`srbench_eval.training.distributed`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import torch

from srbench_eval import evaluation
from srbench_eval.cli import main
from srbench_eval.data import images, manifest, pairs
from srbench_eval.training import distributed

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


pairs.read_image = _read_image
manifest.read_image = _read_image
evaluation.gather_objects = _recorded(distributed.gather_objects)
distributed.broadcast_object = _recorded(distributed.broadcast_object)

if __name__ == "__main__":
    try:
        rc = main(sys.argv[1:])
    finally:
        record = {"decoded": decoded, "shipped": shipped}
        (Path(os.environ["PROBE_DIR"]) / f"rank{os.environ['RANK']}.json").write_text(json.dumps(record))
    sys.exit(rc)
