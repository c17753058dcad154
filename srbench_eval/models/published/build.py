"""Published models (``NAME@pub``): the registry in ``published.yaml`` and the models built from it.

:func:`registry` (:mod:`srbench_eval.models.published.registry`, torch-free) parses the YAML into
:class:`PublishedModel` entries; :func:`build` gets the
file for one scale (:func:`srbench_eval.weights.published_path`: cache, mirror, download, hash
check), loads it by format (:mod:`srbench_eval.models.published.formats`) and wraps it as an
:class:`~srbench_eval.models.base.SRModel` for the evaluation loop:

* RGB networks run as they are (:class:`~srbench_eval.models.network.NetworkModel`);
* Y-only networks (:class:`YChannelModel`) run on the luma of the LR image and take Cb/Cr from
  bicubic, as their papers did for colour output::

      YCbCr = rgb2ycbcr(LR)            (MATLAB, float: :func:`srbench_eval.color.rgb_to_ycbcr_unit`)
      Y_SR  = net(Y) or net(imresize(Y, s)) for pre-upsampled networks
      SR    = ycbcr2rgb([Y_SR, imresize(CbCr, s)])

  Under their authors' protocols (``srcnn``, ``lapsrn``) the evaluation loop runs them as those
  protocols say (:func:`srbench_eval.models.feeding.model_input`; ``srcnn``: Y made from the HR
  image, no RGB round trip), through :meth:`YChannelModel.upscale_y`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch

from srbench_eval import weights
from srbench_eval.color import rgb_to_ycbcr_unit, ycbcr_to_rgb_unit
from srbench_eval.data.degrade.bicubic import imresize
from srbench_eval.digests import sha256_file_memo
from srbench_eval.models import checkpoints
from srbench_eval.models.base import SRModel
from srbench_eval.models.network import NetworkModel
from srbench_eval.models.published.formats import PYTORCH_SUFFIXES, LoadedNetwork, load_network
from srbench_eval.models.published.registry import (
    SUFFIX,
    PublishedFile,
    PublishedModel,
    PublishedScore,
    get,
    is_published,
    load_registry,
    names,
    paper_score,
    paper_value,
    registry,
    scores_text,
)


@dataclass
class YChannelModel(SRModel):
    """A Y-only network (module docstring). Under a Y protocol (``srcnn``, ``lapsrn``) the evaluation
    loop feeds :meth:`upscale_y` the protocol's Y input, as its authors' code did
    (:func:`~srbench_eval.models.base.protocol_sr`); under RGB protocols :meth:`upscale` is the
    documented conversion: Y through the network, Cb/Cr bicubic. A grey LR image (``C = 1``) is its
    own Y and comes back grey.
    """

    network: torch.nn.Module | None = None
    pre_upsampled: bool = False
    accepts_grey: bool = True

    network_input: ClassVar[str] = "y"
    rgb_conversion: ClassVar[bool] = True

    @torch.no_grad()
    def upscale_y(self, y: torch.Tensor) -> torch.Tensor:
        """The network on ``(N, 1, h, w)`` Y in [0, 1], in the network's dtype; float64 SR Y out."""
        assert self.network is not None
        p = next(self.network.parameters(), None)
        dtype = p.dtype if p is not None else torch.float32
        return self.network(y.to(dtype)).to(torch.float64)

    @torch.no_grad()
    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        if lr.shape[1] == 1:
            y = lr.to(torch.float64)
            x = imresize(y, float(self.scale)) if self.pre_upsampled else y
            return self.upscale_y(x).to(lr.dtype)
        ycc = rgb_to_ycbcr_unit(lr)
        up = imresize(ycc, float(self.scale))
        x = up[:, :1] if self.pre_upsampled else ycc[:, :1]
        return ycbcr_to_rgb_unit(torch.cat([self.upscale_y(x), up[:, 1:]], dim=1)).to(lr.dtype)


def as_model(name: str, loaded: LoadedNetwork, provenance: dict[str, Any]) -> SRModel:
    """Wrap a loaded network as the evaluation loop's model, in column ``name``."""
    if loaded.channels == "y":
        return YChannelModel(
            name, loaded.scale, provenance, network=loaded.module, pre_upsampled=loaded.upsampled_input
        )
    return NetworkModel(name, loaded.scale, provenance, network=loaded.module)


def _network_facts(loaded: LoadedNetwork) -> dict[str, Any]:
    return {
        "format": loaded.format,
        "architecture": loaded.architecture,
        "scale": loaded.scale,
        "parameters": loaded.parameters,
        "channels": loaded.channels,
        "upsampled_input": loaded.upsampled_input,
    }


def is_foreign_file(path: Path) -> bool:
    """True for a weights file that is not a ``srbench-eval train`` checkpoint (a released model)."""

    suffix = path.suffix.lower()
    if suffix == ".mat" or (suffix in PYTORCH_SUFFIXES and suffix not in (".pt", ".pth")):
        return True
    if suffix not in (".pt", ".pth"):
        return False
    try:
        ckpt = checkpoints.quiet_load(path, "meta")
    except Exception:  # noqa: BLE001 - unreadable: let the checkpoint loader explain in one line
        return False
    return not (isinstance(ckpt, dict) and ckpt.get("format") == checkpoints.FORMAT)


def from_file(label: str, path: Path, scale: int, device: torch.device | str = "cpu") -> SRModel:
    """``--models LABEL=FILE`` for a released weights file: loaded by format, scale checked against
    ``scale``; the provenance records architecture, scale, parameter count and SHA-256."""

    loaded = load_network(path, scale)
    loaded.module.to(device)
    provenance = {
        "kind": "weights file",
        "file": str(Path(path).resolve()),
        "sha256": sha256_file_memo(Path(path)),
    }
    return as_model(label, loaded, {**provenance, **_network_facts(loaded)})


def build(
    name: str,
    scale: int,
    device: torch.device | str = "cpu",
    *,
    mirror: str | None = None,
    download: bool = True,
) -> SRModel:
    """The published model ``name`` at ``scale`` on ``device``: file located/fetched and verified,
    loaded by format, wrapped; the provenance records the file, its SHA-256 and the network facts."""

    entry = get(name)
    f = entry.file_for(scale)
    path, digest = weights.published_path(entry, f, mirror=mirror, download=download)
    options, companions = _companions(entry, f, mirror, download)
    loaded = load_network(path, scale, entry.format, options)
    loaded.module.to(device)
    provenance = {
        "kind": "published",
        "name": entry.name,
        "file": str(path),
        "sha256": digest,
        **({"companions": companions} if companions else {}),
        **_network_facts(loaded),
        "protocol": entry.protocol,
        "citation": entry.citation,
    }
    return as_model(entry.name, loaded, provenance)


def _companions(
    entry: PublishedModel, f: PublishedFile, mirror: str | None, download: bool
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """``f``'s loader options, where an option naming another file of the entry (its ``path``: SFTGAN's
    segmentation network) becomes that file, located and verified as ``f`` is; and those files'
    ``{path: {file, sha256}}`` for the provenance."""
    others = {c.path: c for c in entry.files if c.path != f.path}
    options, found = dict(f.options), {}
    for key, value in f.options:
        if isinstance(value, str) and value in others:
            local, sha = weights.published_path(entry, others[value], mirror=mirror, download=download)
            options[key], found[value] = str(local), {"file": str(local), "sha256": sha}
    return options, found


__all__ = [
    "SUFFIX",
    "PublishedFile",
    "PublishedModel",
    "PublishedScore",
    "YChannelModel",
    "build",
    "get",
    "is_published",
    "load_registry",
    "names",
    "paper_score",
    "paper_value",
    "registry",
    "scores_text",
]
