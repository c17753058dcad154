"""The single inference + metrics loop behind ``srbench-eval run``.

For every dataset and HR image: ``HR = modcrop(HR, scale)``, ``LR = round(imresize(HR, 1/scale))``
(MATLAB bicubic, uint8), then for every model ``SR = round(clip(model(LR)))`` as uint8 and every
metric is updated with (SR, HR). The LR image is made once and shared by all models. Learned RGB
models get a grey LR image replicated to three channels and their output averaged back to grey, so
a grey image is always scored as its own Y channel.

Two read-ahead threads (:func:`srbench_eval.data.pairs.hr_lr_pairs`) decode and degrade the next
images, and compute each metric's HR-only work (:meth:`~srbench_eval.metrics.base.Metric.reference`:
Y(HR) and its local moments for SSIM, the trunk features for LPIPS) once per image for every model,
while the main thread runs the models and scores the current image.
"""

from __future__ import annotations

import inspect
import secrets
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from srbench_eval import weights
from srbench_eval.data.datasets import Dataset, open_dataset
from srbench_eval.data.degrade import round_uint8
from srbench_eval.data.images import write_image
from srbench_eval.data.pairs import hr_lr_pairs, image_tensor
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.metrics import Metric, MetricSettings, get_metric
from srbench_eval.models.loading import FolderModel, NetworkModel, parse_weights, resolve_model
from srbench_eval.report import build_table, to_latex, to_markdown
from srbench_eval.results import (
    ImageValue,
    Summary,
    SummaryEntry,
    csv_text,
    environment_provenance,
    finished_run_dir,
    utc_now,
    write_text_atomic,
)

DEFAULT_DATASETS = ("set5", "set14", "bsd100", "urban100")
DEFAULT_METRICS = ("psnr", "ssim")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; stored in ``summary.json`` so a run can be repeated."""

    models: tuple[str, ...]
    scale: int = 4
    datasets: tuple[str, ...] = DEFAULT_DATASETS
    metrics: tuple[str, ...] = DEFAULT_METRICS
    crop_border: int | None = None  # None: crop = scale
    device: str = "auto"
    mirror: str | None = None
    strict: bool = False
    save_sr: bool = False
    weights: tuple[str, ...] = ()  # NAME=PATH: the checkpoint (file or folder) of recipe NAME
    checkpoints: str | None = None  # checkpoint root for recipe names; "zoo": the shipped demo models
    metric_options: tuple[str, ...] = ()  # METRIC.OPTION=VALUE, e.g. fid-patch.patch_size=128
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def border(self) -> int:
        return self.scale if self.crop_border is None else self.crop_border

    def to_json(self) -> dict:
        d = asdict(self)
        d["crop_border"] = self.border
        return d


def default_out_dir(root: Path = Path("results/runs")) -> Path:
    return root / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SrbenchError(f"unknown device '{name}': use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SrbenchError(f"device '{name}' requested but no CUDA GPU is available; use --device cpu")
    return device


def _check_config(config: RunConfig) -> None:
    if config.scale < 1 or config.scale > 16:
        raise SrbenchError(f"scale {config.scale} does not fit: use an integer from 2 to 8 (1 for identity)")
    if config.border < 0:
        raise SrbenchError(f"--crop-border {config.crop_border}: must be >= 0")
    if not config.models:
        raise SrbenchError("no models given: e.g. --models bicubic")
    if not config.datasets:
        raise SrbenchError("no datasets given: e.g. --datasets demo")
    for kind, names in (("model", config.models), ("dataset", config.datasets), ("metric", config.metrics)):
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise SrbenchError(f"{kind} '{sorted(dupes)[0]}' is listed twice")


def _to_uint8_image(t: torch.Tensor) -> np.ndarray:
    arr = t[0].to(torch.uint8).cpu().numpy()
    return arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)


def _super_resolve(
    model: NetworkModel | FolderModel, dataset: Dataset, image: str, lr: torch.Tensor, hr: torch.Tensor
) -> torch.Tensor:
    """SR image as a float tensor of 8-bit values, the same shape as ``hr``."""
    if isinstance(model, FolderModel):
        img = model.image_for(dataset.name, image)
        sr = image_tensor(img, hr.device)
        if sr.shape[1] == 3 and hr.shape[1] == 1:
            sr = round_uint8(sr.double().mean(dim=1, keepdim=True)).float()
        elif sr.shape[1] == 1 and hr.shape[1] == 3:
            sr = sr.expand(-1, 3, -1, -1)
        if sr.shape[-2:] != hr.shape[-2:]:
            raise SrbenchError(
                f"model '{model.name}', {dataset.name}/{image}: SR image is {sr.shape[-1]}x{sr.shape[-2]} "
                f"but the HR image (mod-cropped to x{model.scale}) is {hr.shape[-1]}x{hr.shape[-2]}"
            )
        return sr
    try:
        sr = model.sr_values(lr)
    except ValueError as err:
        raise SrbenchError(f"model '{model.name}' on {dataset.name}/{image}: {err}") from None
    if sr.shape != hr.shape:
        raise SrbenchError(
            f"model '{model.name}' returned {tuple(sr.shape)} for {dataset.name}/{image}, "
            f"expected {tuple(hr.shape)}"
        )
    return sr


def parse_metric_options(items: tuple[str, ...], metrics: tuple[str, ...]) -> dict[str, dict[str, object]]:
    """``("fid-patch.patch_size=128",)`` -> ``{"fid-patch": {"patch_size": 128}}``, checked against the
    keyword-only options of each metric's constructor; numbers are converted."""
    out: dict[str, dict[str, object]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        metric, dot, option = key.partition(".")
        if not sep or not dot or not option:
            raise SrbenchError(
                f"metric option '{item}': use METRIC.OPTION=VALUE, e.g. fid-patch.patch_size=128"
            )
        if metric not in metrics:
            raise SrbenchError(f"metric option '{item}': metric '{metric}' is not in --metrics")
        params = inspect.signature(get_metric(metric).__init__).parameters
        allowed = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        if option not in allowed:
            raise unknown_name(f"option of metric {metric}", option, allowed)
        value: object = raw
        for convert in (int, float):
            try:
                value = convert(raw)
                break
            except ValueError:
                continue
        out.setdefault(metric, {})[option] = value
    return out


def _stand_ins(metrics: tuple[str, ...]) -> list[str]:
    """Weights files this run's metrics loaded that are not the published ones (tests only)."""
    users = {f"metric {m}" for m in metrics}
    needed = [k for k, w in weights.WEIGHTS.items() if users.intersection(w.used_by)]
    return [k for k in needed if k in weights.stand_ins_used()]


def _score_dataset(
    ds: Dataset,
    models: list[NetworkModel | FolderModel],
    metrics: dict[tuple[str, str], Metric],
    config: RunConfig,
    device: torch.device,
    staging: Path,
    progress: bool,
) -> list[ImageValue]:
    """Run every model on every image of ``ds`` and update its metrics; the per-image values."""
    names = list(dict.fromkeys(metric for _, metric in metrics))
    # Each metric's HR-only work, done once per image for all models in the read-ahead threads.
    references = {name: metrics[(models[0].name, name)].reference for name in names}
    rows: list[ImageValue] = []
    with closing(hr_lr_pairs(ds.images, config.scale, config.border, device, references)) as pairs:
        bar = tqdm(
            zip(ds.names(), pairs, strict=True),
            total=len(ds.images),
            desc=f"{ds.name} x{config.scale}",
            unit="img",
            disable=not progress,
            leave=False,
        )
        for image, pair in bar:
            for model in models:
                sr = _super_resolve(model, ds, image, pair.lr, pair.hr)
                if config.save_sr:
                    write_image(staging / "sr" / model.name / ds.name / f"{image}.png", _to_uint8_image(sr))
                for name in names:
                    values = metrics[(model.name, name)].update(sr, pair.hr, pair.extra.get(name))
                    if values is not None:
                        value = float(values.reshape(-1)[0])
                        rows.append(ImageValue(model.name, ds.name, config.scale, image, name, value))
    return rows


def run_evaluation(config: RunConfig, out: Path, progress: bool = True) -> Summary:
    """Evaluate every model on every dataset; write results.csv, summary.json and tables to ``out``."""
    _check_config(config)
    started = utc_now()
    device = resolve_device(config.device)
    metric_classes = [get_metric(m) for m in config.metrics]
    metric_options = parse_metric_options(config.metric_options, config.metrics)
    datasets = [open_dataset(d, mirror=config.mirror, strict=config.strict) for d in config.datasets]
    weights_map = parse_weights(config.weights, config.models)
    models = [
        resolve_model(
            spec,
            config.scale,
            device,
            weights=weights_map,
            checkpoints=config.checkpoints,
            mirror=config.mirror,
        )
        for spec in config.models
    ]
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise SrbenchError(f"two models share a name in {', '.join(config.models)}")
    settings = MetricSettings(scale=config.scale, crop_border=config.border, device=device)

    with finished_run_dir(out) as staging:
        rows: list[ImageValue] = []
        entries: list[SummaryEntry] = []
        for ds in datasets:
            metrics: dict[tuple[str, str], Metric] = {
                (m.name, cls.name): cls(settings, **metric_options.get(cls.name, {}))
                for m in models
                for cls in metric_classes
            }
            rows += _score_dataset(ds, models, metrics, config, device, staging, progress)
            for (model_name, metric_name), metric in metrics.items():
                mv = metric.compute()
                entries.append(
                    SummaryEntry(
                        model_name,
                        ds.name,
                        config.scale,
                        metric_name,
                        mv.value,
                        mv.n_samples,
                        mv.reliable,
                        mv.note,
                    )
                )
                if not metric.per_image:
                    rows.append(ImageValue(model_name, ds.name, config.scale, "", metric_name, mv.value))

        provenance = environment_provenance(str(device))
        provenance.update(
            started=started,
            finished=utc_now(),
            protocol={
                "scale": config.scale,
                "crop_border": config.border,
                "degradation": "LR = MATLAB imresize(modcrop(HR, scale), 1/scale, 'bicubic') on uint8",
                "sr_quantisation": "uint8(SR * 255): rounded half away from zero, saturated (MATLAB)",
                "fidelity_channel": "Y of MATLAB rgb2ycbcr (16 + 65.481 R + 128.553 G + 24.966 B), "
                "grey images used as Y",
                "ssim": "Wang et al. 2004: Gaussian 11x11, sigma 1.5, K1 0.01, K2 0.03, L 255, valid region",
            },
            datasets={
                ds.name: {
                    "title": ds.title or ds.name,
                    "images": len(ds.images),
                    "manifest_digest": ds.manifest_digest,
                    "verified": ds.verified,
                    "location": ds.location,
                }
                for ds in datasets
            },
            models={m.name: m.provenance for m in models},
            stand_in_weights=_stand_ins(config.metrics),
        )
        options = {name: metric.options() for (_, name), metric in metrics.items()}
        metric_info = {
            cls.name: {
                "label": cls.label,
                "higher_is_better": cls.higher_is_better,
                "per_image": cls.per_image,
                "decimals": cls.decimals,
                "options": options.get(cls.name, {}),
            }
            for cls in metric_classes
        }
        summary = Summary(entries, metric_info, provenance, config.to_json())
        table = build_table([summary])
        write_text_atomic(staging / "results.csv", csv_text(rows))
        write_text_atomic(staging / "summary.json", summary.to_json())
        write_text_atomic(staging / "table.md", to_markdown(table))
        write_text_atomic(staging / "table.tex", to_latex(table))
    return summary
