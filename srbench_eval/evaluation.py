"""The single inference + metrics loop behind ``srbench-eval run``.

For every dataset and HR image, under the run's :class:`~srbench_eval.protocol.Protocol` (default
``matlab``): ``HR = modcrop(HR, scale)``, ``LR = round(imresize(HR, 1/scale))`` (MATLAB bicubic,
uint8), then for every model ``SR = round(clip(model(LR)))`` as uint8 and every metric is updated
with (SR, HR); other protocols change these steps as :mod:`srbench_eval.protocol` describes. The LR
image is made once and shared by all models. Learned RGB models get a grey LR image replicated to
three channels and their output averaged back to grey, so a grey image is always scored as its own Y
channel.

Two read-ahead threads (:func:`srbench_eval.data.pairs.hr_lr_pairs`) decode and degrade the next
images, and compute each metric's HR-only work (:meth:`~srbench_eval.metrics.base.Metric.reference`:
Y(HR) and its local moments for SSIM, the trunk features for LPIPS) once per image for every model,
while the main thread runs the models and scores the current image.
"""

from __future__ import annotations

import inspect
import secrets
import typing
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from srbench_eval import stats, weights
from srbench_eval.data.datasets import Dataset, open_dataset
from srbench_eval.data.degrade import bicubic_sr, round_uint8
from srbench_eval.data.images import write_image
from srbench_eval.data.pairs import hr_lr_pairs, image_tensor
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.metrics import Metric, MetricSettings, get_metric
from srbench_eval.metrics.fidelity import luma
from srbench_eval.models.loading import BicubicModel, FolderModel, NetworkModel, parse_weights, resolve_model
from srbench_eval.names import safe_name
from srbench_eval.options import parse_assignment
from srbench_eval.protocol import Protocol, resolve
from srbench_eval.report import build_table, to_latex, to_markdown
from srbench_eval.results import (
    RESULTS_CSV,
    ImageValue,
    Summary,
    SummaryEntry,
    csv_text,
    environment_provenance,
    finished_run_dir,
    inside,
    sha256_text,
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
    protocol: str = "matlab"  # a profile of srbench_eval.protocol.PROFILES
    protocol_set: tuple[str, ...] = ()  # FIELD=VALUE overrides of the profile
    extra: dict[str, str] = field(default_factory=dict)

    def resolved_protocol(self) -> Protocol:
        """The profile with its ``--protocol-set`` overrides; ``--crop-border N`` is the override
        ``crop_border=N`` when it differs from the profile's crop at this scale."""
        sets = list(self.protocol_set)
        base = resolve(self.protocol, sets)
        if self.crop_border is not None and self.crop_border != base.crop(self.scale):
            sets.append(f"crop_border={self.crop_border}")
        return resolve(self.protocol, sets)

    @property
    def border(self) -> int:
        return self.resolved_protocol().crop(self.scale)

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
    if config.crop_border is not None and config.crop_border < 0:
        raise SrbenchError(f"--crop-border {config.crop_border}: must be >= 0")
    if not config.models:
        raise SrbenchError("no models given: e.g. --models bicubic")
    if not config.datasets:
        raise SrbenchError("no datasets given: e.g. --datasets demo")
    if not config.metrics:
        raise SrbenchError("no metrics given: e.g. --metrics psnr,ssim")
    metrics = tuple(m.lower() for m in config.metrics)  # metric names are case-insensitive
    for kind, names in (("model", config.models), ("dataset", config.datasets), ("metric", metrics)):
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise SrbenchError(f"{kind} '{sorted(dupes)[0]}' is listed twice")


def _check_datasets(datasets: list[Dataset]) -> None:
    """Dataset and image names become folder and file names (``OUT/sr/MODEL/DATASET/IMAGE.png``)
    and keys of results.csv: each must be a safe name, and dataset names unique."""
    seen: dict[str, Dataset] = {}
    for ds in datasets:
        folder = ds.location.removeprefix("folder ") if ds.location.startswith("folder ") else "FOLDER"
        safe_name("dataset name", ds.name, f"{ds.location}; name it with --datasets LABEL={folder}")
        if ds.name in seen:
            raise SrbenchError(
                f"two datasets are named '{ds.name}' ({seen[ds.name].location}; {ds.location}): "
                f"give one a label, e.g. --datasets mine={folder}"
            )
        seen[ds.name] = ds
        for path in ds.images:  # (two images with one name are refused when the dataset is opened)
            safe_name("image name", path.stem, str(path))


def _to_uint8_image(t: torch.Tensor) -> np.ndarray:
    arr = round_uint8(t[0].double()).to(torch.uint8).cpu().numpy()  # float SR (sr_quantisation=none)
    return arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)


def _protocol_sr(model: NetworkModel, lr: torch.Tensor, hr: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """A model's SR image under a non-default protocol: the bicubic baseline with the protocol's
    arithmetic (:func:`~srbench_eval.data.degrade.bicubic_sr`); a network fed what the protocol says
    it sees (:meth:`Protocol.model_input`), its output quantised as the protocol's SR images are.
    A network declares its input with ``network_input`` (``rgb`` unless it says ``y``) and
    ``pre_upsampled`` (it takes the bicubic-upscaled LR)."""
    if isinstance(model, BicubicModel):
        return bicubic_sr(lr, model.scale, protocol)
    takes = getattr(model, "network_input", "rgb")
    if takes != protocol.network_input:
        raise ValueError(
            f"the network takes {takes.upper()} input but protocol {protocol.label} feeds networks "
            f"{protocol.network_input.upper()}; use a protocol with network_input={takes}"
        )
    if takes == "y":
        x = protocol.model_input(lr, scale=model.scale, pre_upsampled=getattr(model, "pre_upsampled", False))
        out = model.upscale(x.to(torch.float32))
    else:
        grey_in = lr.shape[1] == 1 and not model.accepts_grey
        x = lr.to(torch.float32) / 255.0
        out = model.upscale(x.expand(-1, 3, -1, -1) if grey_in else x)
        out = out.mean(dim=1, keepdim=True) if grey_in else out
    if not torch.isfinite(out).all():
        raise ValueError("NaN or infinite values in the output")
    return protocol.model_output(out, lr, model.scale)


def _super_resolve(
    model: NetworkModel | FolderModel,
    dataset: Dataset,
    image: str,
    lr: torch.Tensor,
    hr: torch.Tensor,
    protocol: Protocol,
) -> torch.Tensor:
    """SR image as a float tensor of 8-bit values (float64 when the protocol keeps SR in float), the
    same shape as ``hr``."""
    if isinstance(model, FolderModel):
        img = model.image_for(dataset.name, image, dataset.names())
        sr = image_tensor(img, hr.device)
        if sr.shape[1] == 3 and hr.shape[1] == 1 and protocol.y_only:
            sr = luma(sr, "rounded").float()  # the Y-only pipeline scores uint8(rgb2ycbcr(SR))
        elif sr.shape[1] == 3 and hr.shape[1] == 1:
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
        rgb_model = getattr(model, "network_input", "rgb") == "rgb"
        sr = (
            model.sr_values(lr)
            if protocol.is_default and rgb_model
            else _protocol_sr(model, lr, hr, protocol)
        )
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
        a = parse_assignment(item, parts=2)
        if a is None:
            raise SrbenchError(
                f"metric option '{item}': use METRIC.OPTION=VALUE, e.g. fid-patch.patch_size=128"
            )
        (metric, option), raw = a.path, a.raw
        metric = metric.lower()
        if metric not in metrics:
            raise SrbenchError(f"metric option '{item}': metric '{metric}' is not in --metrics")
        params = inspect.signature(get_metric(metric).__init__).parameters
        allowed = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        if option not in allowed:
            raise unknown_name(f"option of metric {metric}", option, allowed)
        value = _option_value(item, option, raw, get_metric(metric), params[option])
        out.setdefault(metric, {})[option] = value
    return out


def _option_value(item: str, option: str, raw: str, cls: type[Metric], param: inspect.Parameter) -> object:
    """``raw`` converted to the type of the option (its annotation, else its default's type)."""
    try:
        hint = typing.get_type_hints(cls.__init__).get(option)
    except Exception:  # noqa: BLE001 - an annotation that does not evaluate: use the default's type
        hint = None
    kinds = [t for t in (typing.get_args(hint) or (hint,)) if t is not type(None)] if hint else []
    if not kinds and param.default not in (inspect.Parameter.empty, None):
        kinds = [type(param.default)]
    for kind in kinds:
        if kind is bool:
            if raw.lower() in ("true", "1", "yes", "false", "0", "no"):
                return raw.lower() in ("true", "1", "yes")
        elif kind in (int, float):
            try:
                return kind(raw)
            except ValueError:
                continue
        elif kind is str:
            return raw
    if not kinds:
        return raw
    said = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}
    wanted = " or ".join(said.get(k, getattr(k, "__name__", str(k))) for k in kinds)
    raise SrbenchError(f"metric option '{item}': {option} takes {wanted}, not '{raw}'")


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
    protocol: Protocol,
    device: torch.device,
    staging: Path,
    progress: bool,
) -> list[ImageValue]:
    """Run every model on every image of ``ds`` and update its metrics; the per-image values."""
    names = list(dict.fromkeys(metric for _, metric in metrics))
    # Each metric's HR-only work, done once per image for all models in the read-ahead threads.
    references = {name: metrics[(models[0].name, name)].reference for name in names}
    rows: list[ImageValue] = []
    with closing(hr_lr_pairs(ds.images, config.scale, protocol, device, references)) as pairs:
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
                sr = _super_resolve(model, ds, image, pair.lr, pair.hr, protocol)
                if config.save_sr:
                    target = inside(staging, "sr", model.name, ds.name, f"{image}.png")
                    write_image(target, _to_uint8_image(sr))
                for name in names:
                    try:
                        values = metrics[(model.name, name)].update(sr, pair.hr, pair.extra.get(name))
                    except (SrbenchError, ValueError) as err:  # e.g. an image too small for the metric
                        raise SrbenchError(f"{ds.name}/{image}, model '{model.name}': {err}") from None
                    if values is not None:
                        value = float(values.reshape(-1)[0])
                        rows.append(ImageValue(model.name, ds.name, config.scale, image, name, value))
    return rows


def run_evaluation(config: RunConfig, out: Path, progress: bool = True) -> Summary:
    """Evaluate every model on every dataset; write results.csv, summary.json and tables to ``out``."""
    _check_config(config)
    protocol = config.resolved_protocol()
    started = utc_now()
    device = resolve_device(config.device)
    metric_classes = [get_metric(m) for m in config.metrics]
    # Metric names are case-insensitive: the run, its options and its files use the registered ones.
    config = replace(config, metrics=tuple(cls.name for cls in metric_classes))
    metric_options = parse_metric_options(config.metric_options, config.metrics)
    weights_map = parse_weights(config.weights, config.models)

    with finished_run_dir(out) as staging:  # reserved before any work: a second run fails at once
        datasets = [open_dataset(d, mirror=config.mirror, strict=config.strict) for d in config.datasets]
        _check_datasets(datasets)
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
        for model in models:  # every SR file is found before anything is computed
            if isinstance(model, FolderModel):
                for ds in datasets:
                    model.match(ds.name, ds.names())
        settings = MetricSettings(config.scale, protocol, device)
        rows: list[ImageValue] = []
        entries: list[SummaryEntry] = []
        for ds in datasets:
            metrics: dict[tuple[str, str], Metric] = {
                (m.name, cls.name): cls(settings, **metric_options.get(cls.name, {}))
                for m in models
                for cls in metric_classes
            }
            rows += _score_dataset(ds, models, metrics, config, protocol, device, staging, progress)
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
                **protocol.to_json(),
                "scale": config.scale,
                "crop_border": protocol.crop(config.scale),
                "description": protocol.describe(config.scale),
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
        results_csv = csv_text(rows)
        provenance["results_csv_sha256"] = sha256_text(results_csv)
        per_image = {name: bool(info["per_image"]) for name, info in metric_info.items()}
        statistics = stats.statistics_json(stats.describe(rows, per_image))
        summary = Summary(entries, metric_info, provenance, config.to_json(), statistics)
        table = build_table([summary])
        write_text_atomic(inside(staging, RESULTS_CSV), results_csv)
        write_text_atomic(inside(staging, "summary.json"), summary.to_json())
        write_text_atomic(inside(staging, "table.md"), to_markdown(table))
        write_text_atomic(inside(staging, "table.tex"), to_latex(table))
    return summary
