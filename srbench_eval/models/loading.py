"""Turn the ``--models`` specs of ``srbench-eval run`` into things the evaluation loop can run.

A spec is one of:

* ``bicubic``: the parameter-free MATLAB bicubic baseline;
* ``LABEL=FOLDER``: SR images made elsewhere (a published result set), matched to the HR images by
  file name: ``FOLDER/<name>.<ext>``, or ``FOLDER/<name>_<suffix>.<ext>`` when that is unique
  (``baby_x4_SR.png``); a sub-folder named after the dataset (``FOLDER/Set5/``) is used when present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from srbench_eval.data.images import is_image_file, read_image
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.models.archs.bicubic import Bicubic
from srbench_eval.models.base import SRModel

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$")


@dataclass
class NetworkModel(SRModel):
    """An ``nn.Module`` at a fixed scale, run in eval mode without gradients."""

    network: torch.nn.Module | None = None

    @torch.no_grad()
    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        assert self.network is not None
        return self.network(lr)


@dataclass
class FolderModel:
    """SR images read from a folder instead of computed."""

    name: str
    folder: Path
    scale: int
    provenance: dict[str, Any] = field(default_factory=dict)

    def folder_for(self, dataset: str) -> Path:
        for child in (self.folder / dataset, self.folder / dataset.lower()):
            if child.is_dir():
                return child
        subs = {p.name.lower(): p for p in self.folder.iterdir() if p.is_dir()}
        return subs.get(dataset.lower(), self.folder)

    def image_for(self, dataset: str, image: str) -> np.ndarray:
        folder = self.folder_for(dataset)
        files = [p for p in folder.iterdir() if is_image_file(p)]
        exact = [p for p in files if p.stem == image]
        if not exact:
            exact = [p for p in files if p.stem.startswith(image + "_") or p.stem.startswith(image + "-")]
        if not exact:
            raise SrbenchError(f"{folder}: no SR image for '{image}' of {dataset} (model '{self.name}')")
        if len(exact) > 1:
            names = ", ".join(sorted(p.name for p in exact))
            raise SrbenchError(f"{folder}: several SR images match '{image}' ({names}); keep one")
        return read_image(exact[0])


def resolve_model(spec: str, scale: int, device: torch.device) -> NetworkModel | FolderModel:
    """Build the model named by ``spec`` (see the module docstring) for ``scale`` on ``device``."""
    if "=" in spec:
        label, _, target = spec.partition("=")
        if not _LABEL.match(label):
            raise SrbenchError(f"model label '{label}' in '{spec}': use letters, digits, '_', '-', '.', '+'")
        path = Path(target).expanduser()
        if path.is_dir():
            if not any(is_image_file(p) or p.is_dir() for p in path.iterdir()):
                raise SrbenchError(f"{path}: empty folder of SR images for model '{label}'")
            return FolderModel(label, path, scale, {"kind": "folder", "path": str(path.resolve())})
        raise SrbenchError(f"{path}: no such folder of SR images for model '{label}'")
    if spec == "bicubic":
        net = Bicubic(scale).to(device).eval()
        return NetworkModel("bicubic", scale, {"kind": "bicubic"}, accepts_grey=True, network=net)
    raise unknown_name("model", spec, ["bicubic"])
