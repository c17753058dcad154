"""The registry of published models (``NAME@pub``): the entries of ``published.yaml`` as data.

Pure data, no torch: ``weights list``, ``models list`` and ``table --published`` read it without
loading a network. Building a model from an entry is :func:`srbench_eval.models.published.build`.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from srbench_eval.errors import SrbenchError, unknown_name

SUFFIX = "@pub"


@dataclass(frozen=True)
class PublishedFile:
    """One weights file: the scale it serves (``None`` = all), relative path, hash, URLs."""

    scale: int | None
    path: str
    sha256: str | None
    sha256_prefix: str | None
    urls: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PublishedScore:
    dataset: str
    scale: int
    psnr: float
    ssim: float | None


@dataclass(frozen=True)
class PublishedModel:
    """One entry of ``published.yaml`` (see the file's header for the fields)."""

    key: str
    title: str
    citation: str
    format: str
    architecture: str
    channels: str
    value_range: tuple[float, float]
    upsampled_input: bool
    protocol: str
    scales: tuple[int, ...]
    files: tuple[PublishedFile, ...]
    scores: tuple[PublishedScore, ...] = ()
    scores_source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.key + SUFFIX

    def file_for(self, scale: int) -> PublishedFile:
        if scale not in self.scales:
            scales = ", ".join(f"x{s}" for s in self.scales)
            raise SrbenchError(f"{self.name} has no x{scale} model; published scales: {scales}")
        for f in self.files:
            if f.scale in (None, scale):
                return f
        raise SrbenchError(
            f"published.yaml: {self.name} lists x{scale} but no file for it"
        )  # pragma: no cover

    def published_score(self, dataset: str, scale: int) -> PublishedScore | None:
        for s in self.scores:
            if s.dataset == dataset.lower() and s.scale == scale:
                return s
        return None


def _parse(key: str, raw: dict[str, Any]) -> PublishedModel:
    inp = raw["input"]
    files = []
    for f in raw["files"]:
        scale = None if f["scale"] == "all" else int(f["scale"])
        files.append(
            PublishedFile(
                scale,
                f["path"],
                f.get("sha256"),
                f.get("sha256_prefix"),
                tuple(f.get("urls") or ()),
                tuple(sorted((f.get("options") or {}).items())),
            )
        )
    pub = raw.get("published") or {}
    scores = tuple(
        PublishedScore(str(d), int(s), float(p), None if q is None else float(q))
        for d, s, p, q in pub.get("scores") or ()
    )
    return PublishedModel(
        key=key,
        title=raw["title"],
        citation=" ".join(raw["citation"].split()),
        format=raw["format"],
        architecture=raw["architecture"],
        channels=inp["channels"],
        value_range=tuple(inp["range"]),  # type: ignore[arg-type]
        upsampled_input=bool(inp["upsampled"]),
        protocol=raw["protocol"],
        scales=tuple(int(s) for s in raw["scales"]),
        files=tuple(files),
        scores=scores,
        scores_source=pub.get("source", ""),
    )


def load_registry(text: str) -> dict[str, PublishedModel]:
    """Parse the text of a ``published.yaml``."""
    data = yaml.safe_load(text)
    return {key: _parse(key, raw) for key, raw in data["models"].items()}


@lru_cache(maxsize=1)
def registry() -> dict[str, PublishedModel]:
    """The published models of the packaged ``published.yaml``, by key (without ``@pub``)."""
    text = importlib.resources.files("srbench_eval.models").joinpath("published.yaml").read_text()
    return load_registry(text)


def names() -> list[str]:
    return [e.name for e in registry().values()]


def is_published(spec: str) -> bool:
    return spec.endswith(SUFFIX)


def get(name: str) -> PublishedModel:
    """The entry for ``name`` (``srcnn-955@pub``; the suffix may be left out)."""
    key = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
    try:
        return registry()[key]
    except KeyError:
        raise unknown_name("published model", name, names()) from None


def scores_text(entry: PublishedModel) -> str:
    """``set5 x3 32.75/.9090, ...``: the published numbers in one line."""
    parts = []
    for s in entry.scores:
        ssim = f"/{s.ssim:.4f}".replace("0.", ".") if s.ssim is not None else ""
        parts.append(f"{s.dataset} x{s.scale} {s.psnr:.2f}{ssim}")
    return ", ".join(parts) or "-"


def paper_value(model: str, dataset: str, scale: int, metric: str) -> float | None:
    """The number the paper of published model ``model`` printed for ``dataset`` x``scale`` and
    ``metric`` (``psnr``, ``ssim``); ``None`` for other models, metrics and cells it did not print."""
    if not is_published(model) or metric not in ("psnr", "ssim") or model[: -len(SUFFIX)] not in registry():
        return None
    ref = get(model).published_score(dataset, scale)
    return None if ref is None else (ref.psnr if metric == "psnr" else ref.ssim)


__all__ = [
    "SUFFIX",
    "PublishedFile",
    "PublishedScore",
    "PublishedModel",
    "load_registry",
    "registry",
    "names",
    "is_published",
    "get",
    "scores_text",
    "paper_value",
]
