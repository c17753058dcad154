"""The registry of published models (``NAME@pub``): the entries of ``published.yaml`` as data.

Pure data, no torch: ``weights list``, ``models list`` and ``table --published`` read it without
loading a network. Building a model from an entry is :func:`srbench_eval.models.published.build.build`.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from srbench_eval import yamlio
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.protocol import PROFILES
from srbench_eval.registry import Registry

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
    """One printed cell: ``dataset`` x``scale`` PSNR/SSIM, where it was printed (``source``), who
    printed it (``by``: empty for the model's own paper, else the other paper that measured it) and
    the evaluation protocol those numbers were measured with."""

    dataset: str
    scale: int
    psnr: float
    ssim: float | None
    source: str = ""
    protocol: str = ""
    by: str = ""


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
        """The number printed for ``dataset`` x``scale``: the entry's own paper's if it printed one,
        else the first other paper's (``also`` blocks, in order); ``None`` if nobody printed it."""
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
    scales = tuple(int(s) for s in raw["scales"])
    scores = _scores(key, pub, raw["protocol"], scales, "")
    for block in pub.get("also") or ():
        if not str(block.get("by") or "").strip():
            raise SrbenchError(f"published.yaml: {key}: each 'also' block needs 'by' (who printed it)")
        scores += _scores(key, block, raw["protocol"], scales, " ".join(str(block["by"]).split()))
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
        scales=scales,
        files=tuple(files),
        scores=scores,
        scores_source=pub.get("source", ""),
    )


def _scores(
    key: str, block: dict[str, Any], default_protocol: str, scales: tuple[int, ...], by: str
) -> tuple[PublishedScore, ...]:
    """The rows ``[dataset, scale, psnr, ssim]`` of one block of printed numbers, checked: a source
    for any row, a known protocol, a listed scale, PSNR in dB and SSIM in (0, 1] (or null)."""

    rows = block.get("scores") or ()
    source = " ".join(str(block.get("source") or "").split())
    protocol = str(block.get("protocol") or default_protocol)
    where = f"published.yaml: {key}" + (f" (by {by})" if by else "")
    if rows and not source:
        raise SrbenchError(f"{where}: scores without a source (paper, table, where the numbers were read)")
    if protocol not in PROFILES:
        raise unknown_name(f"protocol of {where}", protocol, PROFILES)
    out = []
    for row in rows:
        ok = isinstance(row, list) and len(row) == 4 and isinstance(row[0], str)
        ok = ok and isinstance(row[1], int) and isinstance(row[2], (int, float))
        ok = ok and (row[3] is None or isinstance(row[3], (int, float)))
        if not ok or not (10.0 <= row[2] <= 60.0) or (row[3] is not None and not 0.0 < row[3] <= 1.0):
            use = "use [dataset, scale, psnr dB, ssim in (0, 1] or null]"
            raise SrbenchError(f"{where}: score row {row!r}: {use}")
        if row[1] not in scales:
            raise SrbenchError(f"{where}: score row {row!r}: x{row[1]} is not among its scales {[*scales]}")
        ssim = None if row[3] is None else float(row[3])
        out.append(PublishedScore(row[0].lower(), row[1], float(row[2]), ssim, source, protocol, by))
    keys = [(r.dataset, r.scale) for r in out]
    if len(set(keys)) != len(keys):
        raise SrbenchError(f"{where}: a dataset and scale is listed twice")
    return tuple(out)


def load_registry(text: str) -> dict[str, PublishedModel]:
    """Parse the text of a ``published.yaml``."""
    data = yamlio.safe_load(text)
    return {key: _parse(key, raw) for key, raw in data["models"].items()}


@lru_cache(maxsize=1)
def registry() -> dict[str, PublishedModel]:
    """The published models of the packaged ``published.yaml``, by key (without ``@pub``)."""
    text = importlib.resources.files("srbench_eval.models.published").joinpath("published.yaml").read_text()
    return load_registry(text)


def _with_suffix(name: str) -> str:
    return name if name.endswith(SUFFIX) else name + SUFFIX


PUBLISHED: Registry[PublishedModel] = Registry(
    "published model", key=_with_suffix, source=lambda: {e.name: e for e in registry().values()}
)
"""The published models by ``NAME@pub`` (the suffix may be left out when looking one up)."""


def names() -> list[str]:
    return PUBLISHED.names()


def is_published(spec: str) -> bool:
    return spec.endswith(SUFFIX)


def get(name: str) -> PublishedModel:
    """The entry for ``name`` (``srcnn-955@pub``; the suffix may be left out)."""
    return PUBLISHED.get(name)


def scores_text(entry: PublishedModel) -> str:
    """``set5 x3 32.75/.9090, ...``: the published numbers in one line; numbers that another paper
    printed follow as ``by VDSR (Kim et al. 2016), protocol srcnn: bsd100 x2 31.36/.8879, ...``."""
    groups: dict[tuple[str, str], list[str]] = {}
    for s in entry.scores:
        ssim = f"/{s.ssim:.4f}".replace("0.", ".") if s.ssim is not None else ""
        groups.setdefault((s.by, s.protocol), []).append(f"{s.dataset} x{s.scale} {s.psnr:.2f}{ssim}")
    parts = []
    for (by, protocol), cells in groups.items():
        head = f"by {by}, protocol {protocol}: " if by else ""
        head = head or (f"protocol {protocol}: " if protocol != entry.protocol else "")
        parts.append(head + ", ".join(cells))
    return "; ".join(parts) or "-"


def paper_score(model: str, dataset: str, scale: int) -> PublishedScore | None:
    """The printed cell of published model ``model`` for ``dataset`` x``scale`` (its own paper's
    first, then other papers'); ``None`` for other models and cells nobody printed."""
    if not is_published(model) or model not in PUBLISHED:
        return None
    return get(model).published_score(dataset, scale)


def paper_value(model: str, dataset: str, scale: int, metric: str) -> float | None:
    """The number printed for published model ``model``, ``dataset`` x``scale`` and ``metric``
    (``psnr``, ``ssim``); ``None`` for other models, metrics and cells nobody printed."""
    ref = paper_score(model, dataset, scale) if metric in ("psnr", "ssim") else None
    return None if ref is None else (ref.psnr if metric == "psnr" else ref.ssim)


__all__ = [
    "PUBLISHED",
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
    "paper_score",
    "paper_value",
]
