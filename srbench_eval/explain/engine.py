"""`explain`: which convention turns a set of SR images (or a model) into a published number.

:func:`explain` scores the SR images of every target's dataset and scale under every convention of
:func:`~srbench_eval.explain.conventions.candidates` (:func:`~srbench_eval.explain.scoring.score_conventions`,
each decoded image and Y plane made once) and ranks them against the target
(:func:`~srbench_eval.explain.ranking.rank`). The SR images come from a folder (``DIR`` or
``LABEL=DIR``, matched to the HR images by name as ``run`` matches them), a run made with
``--save-sr`` (its only model, or ``RUN_DIR/sr/MODEL``), or a model ``run`` accepts (``bicubic``, a
recipe, a checkpoint, ``NAME@pub``), which is then run on each LR generator's input.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from srbench_eval.data.datasets.registry import open_dataset
from srbench_eval.data.io.images import is_image_file
from srbench_eval.errors import SrbenchError
from srbench_eval.explain.conventions import candidates
from srbench_eval.explain.ranking import Row, Target, rank
from srbench_eval.explain.scoring import CachedFolder, score_conventions
from srbench_eval.models.base import SRModel
from srbench_eval.models.loading import FolderModel, resolve_model
from srbench_eval.names import safe_name


@dataclass(frozen=True)
class Explanation:
    """The rankings of every target, the SR source, how many conventions and images, and the time."""

    source: str
    targets: tuple[Target, ...]
    rankings: tuple[tuple[Row, ...], ...]
    conventions: int
    images: int
    seconds: float

    def reproducing_all(self) -> list[str]:
        """The conventions (by name, ``same_as`` included) that reproduce every target."""
        sets = [
            {n for r in rows if r.reproduces for n in (r.convention, *r.same_as)} for rows in self.rankings
        ]
        if not sets:
            return []
        first = [n for r in self.rankings[0] if r.reproduces for n in (r.convention, *r.same_as)]
        return [n for n in first if all(n in s for s in sets)]

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "conventions": self.conventions,
            "images": self.images,
            "seconds": round(self.seconds, 3),
            "reproduce_all": self.reproducing_all(),
            "targets": [
                {
                    "dataset": t.dataset,
                    "scale": t.scale,
                    "metric": t.metric,
                    "value": t.value,
                    "tolerance": t.tolerance,
                    "reproduced_by": [r.convention for r in rows if r.reproduces],
                    "ranking": [r.to_json() for r in rows],
                }
                for t, rows in zip(self.targets, self.rankings, strict=True)
            ],
        }


def _folder(label: str, folder: Path, scale: int) -> SRModel:
    safe_name("model label", label, f"in explain's source '{folder}'")
    if not any(is_image_file(p) or p.is_dir() for p in folder.iterdir()):
        raise SrbenchError(f"{folder}: empty folder of SR images")
    return CachedFolder(label, scale, {"kind": "folder", "path": str(folder.resolve())}, folder=folder)


def _run_folder(path: Path, scale: int) -> SRModel:
    """The ``--save-sr`` images of a finished run's only model."""
    for root in (path / f"x{scale}" / "sr", path / "sr"):
        if root.is_dir():
            models = sorted(p for p in root.iterdir() if p.is_dir())
            if len(models) == 1:
                return _folder(models[0].name, models[0], scale)
            names = ", ".join(p.name for p in models) or "none"
            raise SrbenchError(f"{root}: pick one model's images (models: {names}), e.g. {root}/MODEL")
    raise SrbenchError(f"{path}: a run without SR images; rerun it with --save-sr")


def source_model(
    spec: str, scale: int, *, mirror: str | None = None, checkpoints: str | None = None
) -> SRModel:
    """The SR source of ``spec`` at ``scale`` (see the module docstring)."""
    label, sep, target = spec.partition("=")
    if sep and Path(target).expanduser().is_dir():
        return _folder(label, Path(target).expanduser(), scale)
    path = Path(spec).expanduser()
    if not sep and path.is_dir() and (path / "summary.json").is_file():
        return _run_folder(path, scale)
    images = not sep and path.is_dir() and any(is_image_file(p) or p.is_dir() for p in path.iterdir())
    if images and not any(p.suffix in (".pt", ".pth") for p in path.iterdir()):
        return _folder(path.name if path.name.lower() != "sr" else path.parent.name, path, scale)
    import torch

    model = resolve_model(spec, scale, torch.device("cpu"), checkpoints=checkpoints, mirror=mirror)
    if isinstance(model, FolderModel):
        return CachedFolder(model.name, scale, model.provenance, folder=model.folder)
    return model


def explain(
    source: str,
    targets: Sequence[Target],
    *,
    mirror: str | None = None,
    checkpoints: str | None = None,
) -> Explanation:
    """Rank every convention against every target (see the module docstring); targets of one dataset
    and scale share one scoring pass."""
    start = time.perf_counter()
    groups: dict[tuple[str, int], list[Target]] = {}
    for t in targets:
        groups.setdefault((t.dataset, t.scale), []).append(t)
    rankings: dict[Target, list[Row]] = {}
    count = images = 0
    for (dataset, scale), group in groups.items():
        model = source_model(source, scale, mirror=mirror, checkpoints=checkpoints)
        ds = open_dataset(dataset, mirror=mirror, check_pixels=False)
        conventions = candidates(scale, runs_model=not isinstance(model, FolderModel))
        metrics = sorted({t.metric for t in group})
        outcomes = score_conventions(conventions, model, ds.name, ds.images, scale, metrics)
        for t in group:
            rankings[t] = rank(t, outcomes)
        count, images = max(count, len(conventions)), images + len(ds.images)
    ordered = tuple(targets)
    return Explanation(
        source,
        ordered,
        tuple(tuple(rankings[t]) for t in ordered),
        count,
        images,
        time.perf_counter() - start,
    )


__all__ = ["Explanation", "explain", "source_model"]
