"""Turn the ``--models`` specs of ``srbench-eval run`` into things the evaluation loop can run.

A spec is one of:

* ``bicubic``: the parameter-free MATLAB bicubic baseline;
* ``LABEL=FOLDER``: SR images made elsewhere (a published result set), matched to the HR images by
  file name: ``FOLDER/<name>.<ext>``, or ``FOLDER/<name>_<suffix>.<ext>`` when that is unique
  (``baby_x4_SR.png``); a file belongs to the HR name it matches longest, so the exact match of
  one HR image (``x_2.png``) never stands in for another (``x``); a sub-folder named after the
  dataset (``FOLDER/Set5/``) is used when present;
* ``LABEL=FILE.pt``: a checkpoint written by ``srbench-eval train`` (any recipe), in a column LABEL;
  ``FILE.pt`` or a run folder alone (``checkpoints/esrgan-dp/x4-paper-dp.mu=1``, its newest
  checkpoint) takes the checkpoint's own label (``esrgan-dp[dp.mu=1]``): how a sweep's variants
  are compared;
* ``LABEL=package.module:factory``: a network from the user's code (:mod:`srbench_eval.api`);
* ``LABEL=FILE`` for a released weights file (``.pth``/``.safetensors`` state dict detected by
  spandrel, MATLAB/MatConvNet ``.mat``), and ``NAME@pub`` for a published model of the registry:
  see :mod:`srbench_eval.models.published.build`;
* a recipe name (``esrgan-dp``): that recipe's trained generator, from, in order, ``--weights
  NAME=PATH`` (a checkpoint file, or a folder searched for the newest one), the newest checkpoint at
  the run's scale under the checkpoint directory (``--checkpoints DIR``, else
  ``$SRBENCH_CHECKPOINTS`` or ``./checkpoints``; see :mod:`srbench_eval.models.checkpoints`), and the
  demo models shipped in the package (``--checkpoints zoo`` uses only those). The column is the
  checkpoint's recipe label with its overrides, plus the preset unless it is ``paper``
  (``srcnn (smoke)``, ``esrgan-dp[dp.mu=1]``); the provenance records the file, its SHA-256, the
  step, the preset, the network size and the recipe.

Every column name, typed or read from a checkpoint, passes :func:`srbench_eval.names.safe_name`:
it becomes a folder name under ``OUT/sr/``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from srbench_eval.compiled import as_tensor, is_tensor
from srbench_eval.data.degrade.bicubic import bicubic_sr, imresize_uint8, round_uint8
from srbench_eval.data.io.images import is_image_file, read_image
from srbench_eval.data.pairs import image_batch
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.metrics.fidelity import luma
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.models.base import SRModel
from srbench_eval.models.network import NetworkModel, from_factory
from srbench_eval.models.published import registry as published_registry
from srbench_eval.models.recipes.named import get_recipe, recipe_names
from srbench_eval.names import FACTORY, is_plain_label, safe_name
from srbench_eval.options import parse_assignment
from srbench_eval.protocol import Protocol

if TYPE_CHECKING:  # torch loads with the networks: the bicubic and folder columns on the CPU never need it
    import torch

    from srbench_eval.data.degrade.bicubic import Image

#: ``--checkpoints zoo``: only the demo models shipped in the package.
ZOO = "zoo"


@dataclass
class BicubicModel(NetworkModel):
    """The bicubic baseline: :class:`~srbench_eval.models.archs.bicubic.Bicubic` as a network (for
    training-time validation alike), and directly on 8-bit values in the evaluation loop, where the
    LR image already holds the integers MATLAB's ``imresize`` of a ``uint8`` image takes, NumPy
    arrays on the CPU (the network is made when first asked for)."""

    accepts_grey: bool = True
    scale_range: tuple[float, float] | None = (1.0, math.inf)  # imresize takes any factor
    takes_arrays: ClassVar[bool] = True

    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        if self.network is None:
            from srbench_eval.models.archs.bicubic import Bicubic

            self.network = Bicubic(self.scale).to(lr.device).eval()
        return super().upscale(lr)

    def sr_values(self, lr: Image) -> Image:
        return imresize_uint8(lr, self.scale)

    def check(self, protocol: Protocol) -> None:
        return None  # the bicubic column exists under every protocol

    def sr_image(self, lr: Image, hr: Image, protocol: Protocol, dataset: str, image: str) -> Image:
        """The "Bicubic" column: :func:`~srbench_eval.data.degrade.bicubic.bicubic_sr`, the protocol's
        arithmetic."""
        return self.sr_values(lr) if protocol.is_default else bicubic_sr(lr, self.scale, protocol)


@dataclass
class FolderModel(SRModel):
    """SR images read from a folder instead of computed: :meth:`prepare` matches every HR image to
    its file before anything is computed, :meth:`sr_image` reads it (grey/RGB brought to the HR's
    channels: a colour SR image scored against a Y-only HR is ``uint8(rgb2ycbcr(SR))``, against a
    grey HR the rounded mean of its channels)."""

    folder: Path = Path()
    scale_range: tuple[float, float] | None = (1.0, math.inf)  # images made elsewhere, at any scale
    takes_arrays: ClassVar[bool] = True
    _names: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)

    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        raise SrbenchError(f"model '{self.name}' is a folder of SR images ({self.folder}), not a network")

    def check(self, protocol: Protocol) -> None:
        return None  # images made elsewhere: whatever their input was

    def prepare(self, dataset: str, names: Sequence[str]) -> None:
        self._names[dataset] = tuple(names)
        self.match(dataset, names)

    def sr_image(self, lr: Image, hr: Image, protocol: Protocol, dataset: str, image: str) -> Image:
        if dataset not in self._names:  # the loop prepares every dataset before computing anything
            raise SrbenchError(f"model '{self.name}': dataset {dataset} was not prepared (prepare)")
        sr = image_batch(self.image_for(dataset, image, self._names[dataset]), channels_last=True)
        if is_tensor(hr):
            sr = as_tensor(sr, hr.device)
        if sr.shape[1] == 3 and hr.shape[1] == 1 and protocol.y_only:
            sr = luma(sr, "rounded")  # the Y-only pipeline scores uint8(rgb2ycbcr(SR))
            sr = sr.float() if is_tensor(sr) else sr.astype(np.float32)
        elif sr.shape[1] == 3 and hr.shape[1] == 1 and is_tensor(sr):
            sr = round_uint8(sr.double().mean(dim=1, keepdim=True)).float()
        elif sr.shape[1] == 3 and hr.shape[1] == 1:
            sr = round_uint8(sr.astype(np.float64).mean(axis=1, keepdims=True)).astype(np.float32)
        elif sr.shape[1] == 1 and hr.shape[1] == 3:
            sr = (
                sr.expand(-1, 3, -1, -1)
                if is_tensor(sr)
                else np.broadcast_to(sr, (sr.shape[0], 3, *sr.shape[2:]))
            )
        if sr.shape[-2:] != hr.shape[-2:]:
            raise SrbenchError(
                f"model '{self.name}', {dataset}/{image}: SR image is {sr.shape[-1]}x{sr.shape[-2]} "
                f"but the HR image (mod-cropped to x{self.scale}) is {hr.shape[-1]}x{hr.shape[-2]}"
            )
        return sr

    def folder_for(self, dataset: str) -> Path:
        for child in (self.folder / dataset, self.folder / dataset.lower()):
            if child.is_dir():
                return child
        subs = {p.name.lower(): p for p in self.folder.iterdir() if p.is_dir()}
        return subs.get(dataset.lower(), self.folder)

    _matched: dict[str, dict[str, Path]] = field(default_factory=dict, init=False, repr=False)

    def match(self, dataset: str, names: Sequence[str]) -> dict[str, Path]:
        """The SR file of every HR image name of ``dataset`` (cached); a missing or ambiguous one is
        a one-line error.

        Each file belongs to the HR name it matches longest: its own stem, else the longest name
        it starts with followed by ``_`` or ``-`` (``baby_x4_SR.png`` -> ``baby``). A name takes
        its exact file when there is one, else the single file that belongs to it.
        """
        if dataset in self._matched:
            return self._matched[dataset]
        folder = self.folder_for(dataset)
        known = set(names)
        owned: dict[str, list[Path]] = {}
        for p in sorted(folder.iterdir()):
            if not is_image_file(p):
                continue
            if p.stem in known:
                owned.setdefault(p.stem, []).append(p)
                continue
            prefixes = [n for n in known if p.stem.startswith((n + "_", n + "-"))]
            if prefixes:
                owned.setdefault(max(prefixes, key=len), []).append(p)
        found: dict[str, Path] = {}
        for image in names:
            files = owned.get(image, [])
            exact = [p for p in files if p.stem == image]
            candidates = exact or files
            if not candidates:
                raise SrbenchError(f"{folder}: no SR image for '{image}' of {dataset} (model '{self.name}')")
            if len(candidates) > 1:
                shown = ", ".join(p.name for p in candidates)
                raise SrbenchError(f"{folder}: several SR images match '{image}' ({shown}); keep one")
            found[image] = candidates[0]
        self._matched[dataset] = found
        return found

    def image_for(self, dataset: str, image: str, names: Sequence[str]) -> np.ndarray:
        """The SR image of HR image ``image`` among the HR ``names`` of ``dataset``."""
        return read_image(self.match(dataset, names)[image])


def parse_weights(items: Sequence[str], models: Sequence[str] = ()) -> dict[str, str]:
    """``["esrgan=ckpt.pt", ...]`` -> ``{"esrgan": "ckpt.pt"}``; each NAME must be one of ``models``."""
    out: dict[str, str] = {}
    for item in items:
        a = parse_assignment(item, dotted=False)
        name, path = (a.key, a.raw) if a is not None else ("", "")
        if not name or not path:
            raise SrbenchError(f"--weights '{item}': expected NAME=PATH, e.g. --weights esrgan=ckpt.pt")
        if models and name not in models:
            raise SrbenchError(f"--weights '{item}': {name} is not one of --models ({', '.join(models)})")
        if name in out:
            raise SrbenchError(f"--weights gives two checkpoints for {name}")
        out[name] = path
    return out


def _checkpoint_model(
    path: Path,
    label: str | None,
    scale: int,
    device: torch.device,
    source: str,
    recipe_name: str | None = None,
) -> NetworkModel:
    """The checkpoint's generator as a model; its column is ``label`` or the checkpoint's own label."""
    net, meta = ckpts.load_generator(path, scale, recipe_name=recipe_name, device=device)
    if label is None:
        label = safe_name(
            "model label",
            meta.display_label,
            f"the label inside {path}; name the column with --models LABEL={path}",
        )
    else:  # LABEL=file.pt keeps "(smoke)" and the steps of a run stopped early
        label = meta.qualified(label)
    provenance = meta.provenance(ckpts.sha256_file(path), source)
    return NetworkModel(label, scale, provenance, network=net)


def _find_recipe_checkpoint(
    name: str, scale: int, weights: Mapping[str, str], checkpoints: str | Path | None
) -> tuple[Path, str]:
    """The checkpoint of recipe ``name`` at ``scale`` and where it was found (see the module docstring)."""
    safe_name("recipe name", name)  # a folder name under the checkpoint root
    if name in weights:
        given = Path(weights[name]).expanduser()
        if given.is_dir():
            found = ckpts.newest_file(ckpts.checkpoint_files(given))
            if found is None:
                raise SrbenchError(f"--weights {name}={given}: no *.pt checkpoint in this folder")
            return found, "--weights"
        if not given.is_file():
            raise SrbenchError(f"--weights {name}={given}: no such checkpoint file")
        return given, "--weights"
    if str(checkpoints) != ZOO:
        root = Path(checkpoints).expanduser() if checkpoints else ckpts.checkpoint_dir()
        found = ckpts.find_latest(name, scale, root)
        if found is not None:
            return found, "checkpoint dir"
    shipped = ckpts.find_in_zoo(name, scale)
    if shipped is not None:
        return shipped, "shipped zoo"
    raise no_checkpoint([name], scale, checkpoints)


def _train_command(name: str, scale: int) -> str:
    """The ``train`` command that makes a checkpoint of recipe ``name`` at ``scale``: one ``train``
    accepts (a recipe defined for other scales needs ``--set scales=N``)."""
    command = f"srbench-eval train --model {name} --scale {scale}"
    return command if scale in get_recipe(name).scales else command + f" --set scales={scale}"


def no_checkpoint(names: Sequence[str], scale: int, checkpoints: str | Path | None) -> SrbenchError:
    """One line naming every recipe of ``names`` that has no checkpoint at ``scale``, where it was
    looked for, and the ``train`` commands (that ``train`` accepts) or ``--weights`` that fix it."""
    root = Path(checkpoints) if checkpoints and str(checkpoints) != ZOO else None
    if str(checkpoints) == ZOO:
        where = "the shipped zoo only, --checkpoints zoo"
    else:
        where = ", ".join(f"{ckpts.recipe_dir(n, root)}/" for n in names) + " and the shipped zoo"
    by_scales: dict[str, list[str]] = {}
    for n in names:
        if scale not in get_recipe(n).scales:
            by_scales.setdefault("x" + "/x".join(map(str, get_recipe(n).scales)), []).append(n)
    defined = "".join(
        f"; {', '.join(ns)} {'is' if len(ns) == 1 else 'are'} defined for {sc} (hence --set scales={scale})"
        for sc, ns in by_scales.items()
    )
    train = " and ".join(f"'{_train_command(n, scale)}'" for n in names)
    recipes = "recipe " + names[0] if len(names) == 1 else "recipes " + ", ".join(names)
    which = names[0] if len(names) == 1 else "NAME"
    return SrbenchError(
        f"no trained checkpoint of {recipes} at x{scale} (looked in {where}): train with {train} "
        f"(add --preset smoke for a small CPU model){defined}; or pass --weights {which}=PATH/TO/ckpt.pt"
    )


def spec_problems(
    specs: Sequence[str], scale: int, weights: Mapping[str, str], checkpoints: str | Path | None
) -> list[str]:
    """Why model specs cannot be evaluated at ``scale``, found without loading any network or reading
    any dataset (a run checks this first): unknown names, recipes without a checkpoint (named together,
    :func:`no_checkpoint`), missing files or folders. Empty when every spec can be tried."""
    problems, untrained = [], []
    names = recipe_names()
    for spec in specs:
        as_path = Path(spec).expanduser()
        if spec == "bicubic" or (as_path.suffix in (".pt", ".pth") and as_path.is_file()) or as_path.is_dir():
            continue
        if "=" in spec:
            label, _, target = spec.partition("=")
            path = Path(target).expanduser()
            if not path.exists() and not FACTORY.match(target):
                problems.append(
                    f"{path}: no such folder of SR images (or .pt checkpoint) for model '{label}'"
                )
        elif spec in names:
            try:
                _find_recipe_checkpoint(spec, scale, weights, checkpoints)
            except SrbenchError as e:
                if spec in weights:  # --weights NAME=PATH that is not there
                    problems.append(str(e))
                else:
                    untrained.append(spec)
        elif published_registry.is_published(spec):
            try:
                published_registry.get(spec)
            except SrbenchError as e:
                problems.append(str(e))
        else:
            known = ["bicubic", *names, *published_registry.names()]
            problems.append(str(unknown_name("model", spec, known)))
    if untrained:
        problems.insert(0, str(no_checkpoint(untrained, scale, checkpoints)))
    return problems


def resolve_model(
    spec: str,
    scale: int,
    device: torch.device,
    *,
    weights: Mapping[str, str] | None = None,
    checkpoints: str | Path | None = None,
    mirror: str | None = None,
) -> SRModel:
    """Build the model named by ``spec`` (see the module docstring) for ``scale`` on ``device``.

    ``weights``: recipe name -> checkpoint file or folder (``--weights``); ``checkpoints``: the
    checkpoint root (``--checkpoints``; ``"zoo"`` for the shipped demo models only); ``mirror``:
    where published model files are looked for (``--mirror``, else ``$SRBENCH_MIRROR``).
    """
    as_path = Path(spec).expanduser()
    if as_path.suffix in (".pt", ".pth") and as_path.is_file():
        return _checkpoint_model(as_path, None, scale, device, source="file")
    if as_path.is_dir() and ckpts.checkpoint_files(as_path) and not is_plain_label(spec.partition("=")[0]):
        found = ckpts.newest_file(ckpts.checkpoint_files(as_path))
        assert found is not None
        return _checkpoint_model(found, None, scale, device, source="file")
    if "=" in spec:
        label, _, target = spec.partition("=")
        safe_name("model label", label, f"in --models '{spec}'")
        path = Path(target).expanduser()
        if FACTORY.match(target) and not path.exists():  # LABEL=package.module:factory
            return from_factory(label, target, scale, device)
        if path.is_dir():
            if not any(is_image_file(p) or p.is_dir() for p in path.iterdir()):
                raise SrbenchError(f"{path}: empty folder of SR images for model '{label}'")
            return FolderModel(label, scale, {"kind": "folder", "path": str(path.resolve())}, folder=path)
        from srbench_eval.models.published import build as published

        if path.is_file() and published.is_foreign_file(path):  # released weights: loaded by format
            return published.from_file(label, path, scale, device)
        if path.is_file() and path.suffix in (".pt", ".pth"):
            return _checkpoint_model(path, label, scale, device, source="file")
        raise SrbenchError(f"{path}: no such folder of SR images (or .pt checkpoint) for model '{label}'")
    if spec == "bicubic":
        return BicubicModel("bicubic", scale, {"kind": "bicubic"})
    from srbench_eval.models.published import build as published

    if spec in recipe_names():
        path, source = _find_recipe_checkpoint(spec, scale, weights or {}, checkpoints)
        return _checkpoint_model(path, None, scale, device, recipe_name=spec, source=source)
    if published.is_published(spec):
        return published.build(spec, scale, device, mirror=mirror)
    raise unknown_name("model", spec, ["bicubic", *recipe_names(), *published.names()])
