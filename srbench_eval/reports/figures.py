"""Figures of finished runs (matplotlib, Agg; PNG and PDF), as pure functions of what runs wrote.

* :func:`perception_distortion`: mean PSNR (distortion, x) against mean LPIPS (perception, y; lower
  is better) per model, one panel per dataset (Blau & Michaeli 2018); PSNR against SSIM when the runs
  have no LPIPS;
* :func:`distributions`: the per-image values of a metric per model (box plot with the images as
  points), one panel per dataset;
* :func:`sweep_curves`: a metric's mean (with its 95% bootstrap interval) against the value of the
  recipe override that distinguishes the models (``dp.mu``);
* :func:`scale_curves`: a metric's mean against the scale, one curve per model and dataset (the
  PSNR-vs-scale curves of the arbitrary-scale papers, Meta-SR Fig. 5, LIIF), from runs that hold
  two scales or more (``run --scale 1.1:4.0:0.1``);
* :func:`training_curves`: a training run's ``log.jsonl`` (:mod:`srbench_eval.training.logs`): every
  loss term, the validation PSNR against bicubic, the DP weights (``dp.zeta``, ``dp.res_weight``, mu)
  and the learning rate;
* :func:`crop_grid`: the same region of HR, bicubic and every model from the ``--save-sr`` images,
  given as ``x,y,w,h`` or chosen where the models differ most
  (:func:`~srbench_eval.reports.crops.auto_crop`; the images come from :mod:`srbench_eval.reports.crops`).

A figure the runs cannot support comes back as a :class:`Figure` without a plot and with
``missing`` saying what is absent (no LPIPS, no ``--save-sr`` images, no training log).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from srbench_eval.errors import SrbenchError  # noqa: E402
from srbench_eval.files import write_bytes_atomic
from srbench_eval.models import checkpoints as ckpts  # noqa: E402
from srbench_eval.reports.crops import Crop, auto_crop, crop_psnr, sr_panels  # noqa: E402
from srbench_eval.reports.labels import place_labels  # noqa: E402
from srbench_eval.reports.layouts import overrides_of  # noqa: E402
from srbench_eval.runs.finished import FinishedRun, all_values  # noqa: E402
from srbench_eval.training.logs import read_log  # noqa: E402

FORMATS = ("png", "pdf")


@dataclass(frozen=True)
class Figure:
    """A named figure, or why it could not be drawn."""

    name: str  # file stem, e.g. "perception-distortion"
    title: str
    plot: MplFigure | None = None
    missing: str = ""
    optional: bool = False  # a figure these runs do not call for (no sweep): shown as a note, not an error

    def save(self, out: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
        """Write ``out/<name>.<fmt>`` atomically for each format; nothing for a missing figure."""
        if self.plot is None:
            return []
        paths = []
        for fmt in formats:
            buf = io.BytesIO()
            self.plot.savefig(buf, format=fmt, dpi=150, bbox_inches="tight", metadata=_metadata(fmt))
            path = out / f"{self.name}.{fmt}"
            write_bytes_atomic(path, buf.getvalue())
            paths.append(path)
        return paths

    def png_bytes(self) -> bytes:
        assert self.plot is not None
        buf = io.BytesIO()
        self.plot.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        return buf.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    # reproducible files: no creation date
    return {"CreationDate": None} if fmt == "pdf" else {"Software": None} if fmt == "png" else {}


def _metric_info(runs: Sequence[FinishedRun]) -> dict[str, dict]:
    info: dict[str, dict] = {}
    for r in runs:
        info.update(r.summary.metrics)
    return info


def _means(runs: Sequence[FinishedRun]) -> dict[tuple[str, str, int, str], float]:
    out = {}
    for r in runs:
        for e in r.summary.entries:
            out[(e.model, e.dataset, e.scale, e.metric)] = e.value
    return out


def _titles(runs: Sequence[FinishedRun]) -> dict[str, str]:
    titles = {}
    for r in runs:
        for name, d in r.summary.provenance.get("datasets", {}).items():
            titles[name] = d.get("title", name)
    return titles


def _panels(n: int, width: float = 4.2, height: float = 3.4) -> tuple[MplFigure, list[Any]]:
    fig = MplFigure(figsize=(width * n, height), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    return fig, list(axes)


def _label(info: dict[str, dict], metric: str) -> str:
    meta = info.get(metric, {})
    arrow = "↑" if meta.get("higher_is_better", True) else "↓"
    return f"{meta.get('label', metric)} {arrow}"


def perception_distortion(runs: Sequence[FinishedRun]) -> Figure:
    name, title = "perception-distortion", "Perception-distortion plane"
    means = _means(runs)
    metrics = {k[3] for k in means}
    if "psnr" not in metrics:
        return Figure(name, title, missing="the runs have no PSNR values")
    y_metric = "lpips" if "lpips" in metrics else "ssim" if "ssim" in metrics else None
    if y_metric is None:
        return Figure(name, title, missing="the runs have neither LPIPS nor SSIM values (run with --metrics)")
    info, titles = _metric_info(runs), _titles(runs)
    blocks = list(dict.fromkeys((k[1], k[2]) for k in means))
    models = list(dict.fromkeys(k[0] for k in means))
    fig, axes = _panels(len(blocks))
    colours = matplotlib.colormaps["tab10"]
    points: list[list[tuple[float, float, str]]] = []
    marker_colours: list[list[Any]] = []
    for ax, (dataset, scale) in zip(axes, blocks, strict=True):
        points.append([])
        marker_colours.append([])
        for i, model in enumerate(models):
            x, y = means.get((model, dataset, scale, "psnr")), means.get((model, dataset, scale, y_metric))
            if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
                continue
            ax.scatter([x], [y], color=colours(i % 10), label=model, s=40, zorder=3)
            points[-1].append((x, y, model))
            marker_colours[-1].append(colours(i % 10))
        ax.set_xlabel(_label(info, "psnr"))
        ax.set_ylabel(_label(info, y_metric))
        ax.set_title(f"{titles.get(dataset, dataset)} ×{scale}")
        ax.grid(alpha=0.3)
        ax.margins(0.2)  # room for the labels inside the axes
    note = "" if y_metric == "lpips" else " (no LPIPS in the runs: SSIM instead)"
    fig.suptitle(title + note, fontsize=10)
    for ax, pts, cs in zip(axes, points, marker_colours, strict=True):
        place_labels(ax, pts, colors=cs)  # after the layout: no label over another, a marker or the frame
    return Figure(name, title + note, fig)


def distributions(runs: Sequence[FinishedRun], metric: str) -> Figure:
    name, title = f"distribution-{metric}", f"Per-image {metric} distribution"
    values = [v for v in all_values(runs) if v.metric == metric and v.image]
    if not values:
        have = sorted({v.metric for v in all_values(runs) if v.image})
        why = "no results.csv" if not any(r.values for r in runs) else f"per-image metrics: {', '.join(have)}"
        return Figure(name, title, missing=f"no per-image {metric} values ({why})")
    info, titles = _metric_info(runs), _titles(runs)
    blocks = list(dict.fromkeys((v.dataset, v.scale) for v in values))
    models = list(dict.fromkeys(v.model for v in values))
    fig, axes = _panels(len(blocks), width=max(3.0, 0.9 * len(models) + 1.5), height=3.6)
    rng = np.random.default_rng(0)
    for ax, (dataset, scale) in zip(axes, blocks, strict=True):
        data = [
            [
                v.value
                for v in values
                if (v.dataset, v.scale, v.model) == (dataset, scale, m) and math.isfinite(v.value)
            ]
            for m in models
        ]
        ax.boxplot(data, tick_labels=models, showfliers=False)
        for i, d in enumerate(data, start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(d)), d, s=10, alpha=0.7, zorder=3)
        ax.set_ylabel(_label(info, metric))
        ax.set_title(f"{titles.get(dataset, dataset)} ×{scale}")
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    return Figure(name, title, fig)


def sweep_curves(runs: Sequence[FinishedRun], metric: str) -> Figure:
    name, title = f"sweep-{metric}", f"{metric} against the swept override"
    summaries = [r.summary for r in runs]
    means = _means(runs)
    models = list(dict.fromkeys(k[0] for k in means if k[3] == metric))
    found = {m: overrides_of(summaries, m)[1] for m in models}
    keys = list(dict.fromkeys(k for ov in found.values() for k in ov))
    numeric = [k for k in keys if sum(_is_number(ov.get(k)) for ov in found.values()) >= 2]
    if not numeric:
        return Figure(
            name,
            title,
            missing="no two models differ in a numeric recipe override (e.g. loss.dp.mu): no sweep to plot",
            optional=True,
        )
    key = numeric[0]
    ci = {(d.model, d.dataset, d.scale, d.metric): d for r in runs for d in r.descriptions()}
    info, titles = _metric_info(runs), _titles(runs)
    fig, axes = _panels(1, width=5.0, height=3.6)
    ax = axes[0]
    for dataset, scale in dict.fromkeys((k[1], k[2]) for k in means):
        points = sorted(
            (float(found[m][key]), means[(m, dataset, scale, metric)], ci.get((m, dataset, scale, metric)))
            for m in models
            if _is_number(found[m].get(key)) and (m, dataset, scale, metric) in means
        )
        if not points:
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        lo = [p[1] - p[2].ci_low if p[2] and p[2].ci_low is not None else 0.0 for p in points]
        hi = [p[2].ci_high - p[1] if p[2] and p[2].ci_high is not None else 0.0 for p in points]
        ax.errorbar(
            xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=f"{titles.get(dataset, dataset)} ×{scale}"
        )
    if len({float(found[m][key]) for m in models if _is_number(found[m].get(key))}) > 2 and all(
        float(found[m][key]) > 0 for m in models if _is_number(found[m].get(key))
    ):
        ax.set_xscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel(_label(info, metric) + " (mean, 95% CI)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return Figure(name, f"{_label(info, metric)} against {key}", fig)


def scale_curves(runs: Sequence[FinishedRun], metric: str = "psnr") -> Figure:
    """``metric`` (mean over each dataset's images) against the scale: one line per model and dataset."""
    name = f"scale-{metric}"
    means = _means(runs)
    scales = sorted({k[2] for k in means if k[3] == metric})
    if len(scales) < 2:
        return Figure(name, f"{metric} against the scale", missing="the runs hold fewer than two scales")
    info, titles = _metric_info(runs), _titles(runs)
    fig, axes = _panels(1, width=5.6, height=3.8)
    ax = axes[0]
    for model, dataset in dict.fromkeys((k[0], k[1]) for k in means if k[3] == metric):
        points = sorted(
            (float(k[2]), v) for k, v in means.items() if k[:2] == (model, dataset) and k[3] == metric
        )
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            markersize=3,
            label=f"{model}, {titles.get(dataset, dataset)}",
        )
    ax.set_xlabel("scale")
    ax.set_ylabel(_label(info, metric) + " (mean)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return Figure(name, f"{_label(info, metric)} against the scale", fig)


def _is_number(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


_NOT_TERMS = {"step", "kind", "lr", "loss", "it_per_s", "img_per_s", "d_loss", "dataset"}


def _newest_recipe(train_dir: Path) -> tuple[dict[str, Any], str]:
    """The recipe and the label (``esrgan-dp[dp.mu=1]``) of a training run's newest checkpoint."""
    newest = ckpts.newest_file(ckpts.checkpoint_files(train_dir))
    if newest is None:
        return {}, ""
    try:
        ckpt = ckpts.load_checkpoint(newest)
    except SrbenchError:
        return {}, ""
    recipe = ckpt.get("recipe") if isinstance(ckpt.get("recipe"), dict) else {}
    return recipe, str(ckpt.get("label") or recipe.get("name") or "")


def _recipe_mu(recipe: dict[str, Any]) -> dict[str, float]:
    """``{"dp.mu": 0.5}``: the mu of each loss term of a recipe."""
    return {
        f"{term}.mu": float(spec["mu"])
        for term, spec in recipe.get("loss", {}).items()
        if isinstance(spec, dict) and _is_number(spec.get("mu"))
    }


def _same_as_total(train: list[dict], key: str) -> bool:
    """Whether loss term ``key`` equals the total at every step (a recipe with one term): its line
    would hide under the total's, so the total is labelled with it instead."""
    pairs = [(r.get("loss"), r.get(key)) for r in train if _is_number(r.get(key))]
    return bool(pairs) and all(_is_number(a) and math.isclose(float(a), float(b)) for a, b in pairs)


def training_curves(train_dir: Path) -> Figure:
    """Every loss term, validation PSNR, the DP weights (a panel only when there are any) and the
    learning rate of a training run, titled with its recipe."""
    recipe, label = _newest_recipe(Path(train_dir))
    name = "training-curves"
    run = Path(train_dir).name
    title = f"Training {label}: {run}" if label else f"Training: {run}"
    train = read_log(Path(train_dir), "train")
    val = read_log(Path(train_dir), "val")
    if not train and not val:
        return Figure(
            name, title, missing=f"{train_dir}: no training log (log.jsonl of `srbench-eval train`)"
        )
    numeric = [k for k in dict.fromkeys(k for r in train for k in r) if k not in _NOT_TERMS]
    weights = [k for k in numeric if k.endswith((".zeta", ".res_weight", ".mu"))]
    terms = [k for k in numeric if k not in weights]
    hidden = [k for k in terms if _same_as_total(train, k)]
    mus = _recipe_mu(recipe)
    has_dp = bool(weights or mus)
    fig, axes = _panels(4 if has_dp else 3, width=3.8, height=3.2)
    loss_ax, val_ax, lr_ax = axes[0], axes[1], axes[-1]
    steps = [r["step"] for r in train]

    def curve(ax, key: str, records: list[dict], label: str | None = None, **kw) -> None:
        pts = [(r["step"], float(r[key])) for r in records if key in r and _is_number(r[key])]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=label or key, **kw)

    total = "loss" + (f" (= {', '.join(hidden)})" if hidden else "")
    curve(loss_ax, "loss", train, label=total, lw=1.5)
    for key in terms:
        if key not in hidden:
            curve(loss_ax, key, train, lw=1.0)
    if any(_is_number(r.get("loss")) and float(r["loss"]) > 0 for r in train):
        loss_ax.set_yscale("log")
    loss_ax.set_title("loss terms (unweighted) and total", fontsize=9)
    curve(val_ax, "psnr", val, marker="o")
    curve(val_ax, "bicubic_psnr", val, linestyle="--")
    val_ax.set_title("validation PSNR (dB)", fontsize=9)
    if has_dp:
        for key in weights:
            curve(axes[2], key, train)
        for i, (key, mu) in enumerate(mus.items()):
            axes[2].axhline(mu, linestyle=":", color=f"C{len(weights) + i}", label=f"{key} = {mu:g} (recipe)")
        axes[2].set_title("DP weights (zeta, residual weight, mu)", fontsize=9)
    curve(lr_ax, "lr", train)
    lr_ax.set_title("learning rate", fontsize=9)
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    fig.suptitle(title + (f" ({len(steps)} train records, {len(val)} validations)"), fontsize=10)
    return Figure(name, title, fig)


# ------------------------------------------------------------------------------------- crops


def _image_values(runs: Sequence[FinishedRun], dataset: str, image: str, metric: str) -> dict[str, float]:
    return {
        v.model: v.value
        for v in all_values(runs)
        if (v.dataset, v.image, v.metric) == (dataset, image, metric) and math.isfinite(v.value)
    }


def crop_grid(
    runs: Sequence[FinishedRun],
    crop: Crop | None = None,
    dataset: str | None = None,
    image: str | None = None,
    size: int = 64,
) -> Figure:
    """The same region of HR, bicubic and every model (``--save-sr`` images), enlarged side by side;
    each crop labelled with its PSNR against the HR crop and the image's LPIPS from the run."""
    name, title = "crops", "Zoomed crops"
    panels = sr_panels(runs, dataset, image)
    if panels is None:
        return Figure(name, title, missing="the runs kept no SR images (run with --save-sr)")
    full = panels.images
    where = f"image '{panels.image}' of {panels.dataset}"
    hr = full[0] if panels.labels[0] == "HR" else None
    if crop is None:
        models = [i for lab, i in zip(panels.labels, full, strict=True) if lab != "HR"]
        crop = auto_crop(models if len(models) > 1 else full, size, hr)
    crop.check(full[0].shape, where)
    lpips = _image_values(runs, panels.dataset, panels.image, "lpips")
    n = len(full) + 1
    fig = MplFigure(figsize=(3.2 * n, 3.7), layout="constrained")
    axes = fig.subplots(1, n)
    grey = full[0].ndim == 2
    axes[0].imshow(full[0], cmap="gray" if grey else None, vmin=0, vmax=255)
    axes[0].add_patch(Rectangle((crop.x, crop.y), crop.w, crop.h, fill=False, edgecolor="red", lw=1.5))
    axes[0].set_title(f"{panels.image} ({panels.labels[0]})", fontsize=9)
    for ax, label, img in zip(axes[1:], panels.labels, full, strict=True):
        ax.imshow(crop.cut(img), cmap="gray" if grey else None, vmin=0, vmax=255, interpolation="nearest")
        scores = []
        if hr is not None and label != "HR":
            scores.append(f"{crop_psnr(crop.cut(img), crop.cut(hr)):.2f} dB")
        if label in lpips:
            scores.append(f"LPIPS {lpips[label]:.4f}")
        ax.set_title(label + ("\n" + " / ".join(scores) if scores else ""), fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    region = f"x={crop.x}, y={crop.y}, {crop.w}x{crop.h}"
    legend = " (dB: PSNR of the crop; LPIPS: the whole image's)" if hr is not None or lpips else ""
    fig.suptitle(
        f"{panels.dataset} ×{panels.scale}: {region}{legend}"
        + (f" — {panels.missing}" if panels.missing else ""),
        fontsize=9,
    )
    return Figure(name, f"{title}: {panels.dataset}/{panels.image}, {region}", fig, missing="")


def all_figures(
    runs: Sequence[FinishedRun],
    crop: Crop | None = None,
    train_dirs: Sequence[Path] = (),
    dataset: str | None = None,
    image: str | None = None,
) -> list[Figure]:
    """Every figure the runs support, and a :class:`Figure` with ``missing`` for each they do not."""
    metrics = list(dict.fromkeys(v.metric for v in all_values(runs) if v.image)) or ["psnr"]
    figs = [perception_distortion(runs)]
    figs += [distributions(runs, m) for m in metrics]
    figs.append(sweep_curves(runs, "lpips" if "lpips" in metrics else metrics[0]))
    figs.append(scale_curves(runs, "psnr" if "psnr" in metrics else metrics[0]))
    figs.append(crop_grid(runs, crop, dataset, image))
    figs += [training_curves(d) for d in train_dirs]
    return figs
