"""The run plan: the user's strings turned, once, into the objects a run works with.

A run is asked for in strings (``srbench-eval run``'s options, the Python API's arguments, a
baseline's recorded settings, a study's evaluation): a :class:`RunConfig`. :func:`build_plan` parses
and checks them once, before any dataset is read or any process group is joined, into a
:class:`RunPlan`: the resolved :class:`~srbench_eval.protocol.Protocol` (the profile with its
``--protocol-set`` overrides and ``--crop-border``), the metric classes with their typed options
(:class:`MetricPlan`), one factory per model column that builds it on the run's device
(:class:`ModelPlan`: a ``--models`` spec, :func:`~srbench_eval.models.loading.resolve_model`, or an
object handed to :func:`srbench_eval.evaluate`), the device and this process's ranks
(:func:`srbench_eval.ranks.from_environ`). Everything below the plan takes these objects; the
:class:`RunConfig` stays as the record of the run written to ``summary.json`` (:meth:`RunPlan.record`).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

from srbench_eval.defaults import DEFAULT_DATASETS, DEFAULT_METRICS, MAX_SCALE, MIN_SCALE, SCALE_RANGE
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.evaluation.device import gpu_driver_present, resolve_device
from srbench_eval.metrics import Metric, MetricSettings, SetMetric, get_metric
from srbench_eval.models.base import SRModel, check_model_scale
from srbench_eval.models.inference import AUTO_TILE, PRECISIONS, InferenceMode
from srbench_eval.models.loading import parse_weights, resolve_model, spec_problems
from srbench_eval.options import parse_assignment
from srbench_eval.protocol import Protocol, resolve
from srbench_eval.ranks import DistEnv, from_environ
from srbench_eval.weights import from_mirror, keys_of, path_of, require

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class RunConfig:
    """What the user asked for, as strings; stored in ``summary.json`` so a run can be repeated."""

    models: tuple[str, ...]
    scale: int | float = 4  # non-integer: the profile's size rule (protocol.Protocol.scale_rule)
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
    degradation: str | None = None  # bi | bd | dn | given (the protocol's lr_source); None: the profile's
    tile: int = 0  # networks run on tile x tile LR tiles (0: whole images), models.base.tiled
    tile_overlap: int = 0  # input pixels added on every side of a tile
    extra: dict[str, str] = field(default_factory=dict)
    # inference modes (srbench_eval.models.inference): recorded, shown in labels and footnotes
    self_ensemble: bool = False  # EDSR-PyTorch forward_x8: the "+" models
    precision: str = "fp32"  # fp32, fp16 or bf16 (autocast)
    sr_cache: bool = True  # reuse networks' SR images from $SRBENCH_DATA/sr-cache (evaluation/cache.py)


ModelFactory = Callable[["torch.device | str"], SRModel]
"""Builds one model column on the run's device (each rank's own under torchrun)."""


@dataclass(frozen=True)
class ModelPlan:
    """One model column: its spec as recorded, and the factory that builds it on the device."""

    spec: str
    build: ModelFactory


@dataclass(frozen=True)
class MetricPlan:
    """One metric: its class and the typed keyword options its constructor takes."""

    cls: type[Metric]
    options: Mapping[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.cls.name

    def build(self, settings: MetricSettings) -> Metric:
        """A fresh metric object (one per model and dataset)."""
        return self.cls(settings, **self.options)


@dataclass(frozen=True)
class RunPlan:
    """A run, resolved (see the module docstring); made by :func:`build_plan`."""

    config: RunConfig  # the record (metric names canonical)
    protocol: Protocol
    metrics: tuple[MetricPlan, ...]
    models: tuple[ModelPlan, ...]
    device: str  # one process: the resolved device; torchrun: the name each rank resolves
    ranks: DistEnv
    tiling: tuple[int, int] | None = None  # (tile, overlap) of the networks' LR input
    inference: InferenceMode = InferenceMode()  # how networks run (self-ensemble, precision, tiles)

    @property
    def scale(self) -> int:
        return self.config.scale

    @property
    def datasets(self) -> tuple[str, ...]:
        return self.config.datasets

    @property
    def save_sr(self) -> bool:
        return self.config.save_sr

    def record(self) -> dict:
        """The ``config`` of ``summary.json``: the strings asked for, with the crop in force."""
        d = asdict(self.config)
        d["crop_border"] = self.protocol.crop(self.scale)
        return d


def resolved_protocol(config: RunConfig) -> Protocol:
    """The profile with its ``--protocol-set`` overrides; ``--crop-border N`` is the override
    ``crop_border=N`` when it differs from the profile's crop at this scale, and ``--degradation K``
    the override ``lr_source=K`` when it differs from the profile's (so ``summary.json``'s protocol
    records it, and ``table`` refuses to merge runs of different degradations)."""
    sets = list(config.protocol_set)
    base = resolve(config.protocol, sets)
    if config.degradation is not None and config.degradation != base.lr_source:
        sets.append(f"lr_source={config.degradation}")
    if config.crop_border is not None and config.crop_border != base.crop(config.scale):
        sets.append(f"crop_border={config.crop_border}")
    return resolve(config.protocol, sets) if len(sets) > len(config.protocol_set) else base


def build_plan(config: RunConfig, models: Sequence[ModelPlan] | None = None) -> RunPlan:
    """``config`` checked and resolved into a :class:`RunPlan`; every error of the strings (an unknown
    metric, option, protocol field, device or ``--weights`` name, a bad scale) is raised here.
    ``models``: the model columns when they are objects (the Python API), else ``config.models``."""
    _check_config(config)
    protocol = resolved_protocol(config)
    classes = [get_metric(name) for name in config.metrics]
    # Metric names are case-insensitive: the run, its options and its files use the registered ones.
    config = replace(config, metrics=tuple(cls.name for cls in classes))
    options = parse_metric_options(config.metric_options, config.metrics)
    ranks = from_environ()
    for cls in classes:
        if ranks.distributed and not cls.per_image and not issubclass(cls, SetMetric):
            raise SrbenchError(
                f"metric {cls.name} is set-level without per-image features: run it in one process"
            )
    if ranks.distributed and protocol.average != "image":
        raise SrbenchError(
            f"protocol {protocol.name} averages PSNR/SSIM over patches (average={protocol.average}), "
            "which a sharded run (torchrun) cannot gather: run it in one process"
        )
    _check_inputs(config, (config.scale,), check_models=models is None, strict_weights=False)
    if models is None:
        weights = parse_weights(config.weights, config.models)
        models = [_spec_plan(spec, config, weights) for spec in config.models]
    device = config.device if ranks.distributed else resolve_device(config.device)
    return RunPlan(
        config=config,
        protocol=protocol,
        metrics=tuple(MetricPlan(cls, options.get(cls.name, {})) for cls in classes),
        models=tuple(models),
        device=device,
        ranks=replace(ranks, device=device) if not ranks.distributed else ranks,
        tiling=(config.tile, config.tile_overlap) if config.tile > 0 else None,
        inference=inference_mode(config),
    )


def inference_mode(config: RunConfig) -> InferenceMode:
    """The :class:`~srbench_eval.models.inference.InferenceMode` of ``--self-ensemble``,
    ``--precision`` and ``--tile`` (``auto``: :data:`~srbench_eval.models.inference.AUTO_TILE`)."""
    if config.precision not in PRECISIONS:
        raise SrbenchError(f"--precision {config.precision}: use one of {', '.join(PRECISIONS)}")
    return InferenceMode(
        config.self_ensemble,
        config.precision,
        config.tile,
        config.tile_overlap,  # type: ignore[arg-type]
    )


# ----------------------------------------------------------------------------- early checks


def check_early(config: RunConfig, scales: Sequence[int] = ()) -> None:
    """What fails fast, before any dataset is read (``run`` calls this first; :func:`build_plan`
    repeats the model and weights checks): the config's strings, ``--device cuda`` where no GPU
    driver is installed, every model at every scale and the metrics' weights files, every problem
    of the last two named in one line."""
    _check_config(config)
    resolved_protocol(config)  # the strings first: protocol, metrics and their options
    names = tuple(get_metric(name).name for name in config.metrics)
    parse_metric_options(config.metric_options, names)
    if config.device.startswith("cuda") and not gpu_driver_present():
        raise SrbenchError(
            f"device '{config.device}' requested but no CUDA GPU is available; use --device cpu"
        )
    _check_inputs(config, tuple(scales) or (config.scale,), check_models=True, strict_weights=True)


def _check_inputs(config: RunConfig, scales: Sequence[int], check_models: bool, strict_weights: bool) -> None:
    """Models (:func:`~srbench_eval.models.loading.spec_problems`: unknown, untrained, missing files)
    and the weights files of the metrics, found in the cache or copied from the run's mirror
    (:func:`srbench_eval.weights.require`; without ``strict_weights`` a missing file is left for the
    metric to report when it is built); one :class:`SrbenchError` naming all problems."""
    problems: list[str] = []
    if check_models:
        weights = parse_weights(config.weights, config.models)
        for scale in scales:
            found = spec_problems(config.models, scale, weights, config.checkpoints)
            problems += [p for p in found if p not in problems]
    for name in config.metrics:
        user = f"metric {get_metric(name).name}"
        for key in keys_of(user):
            if not strict_weights:
                if not path_of(key).is_file():
                    from_mirror(key, config.mirror)
                continue
            try:
                require(key, user, mirror=config.mirror)
            except SrbenchError as e:
                problems.append(str(e))
    if len(problems) == 1:
        raise SrbenchError(problems[0])
    if problems:
        raise SrbenchError(f"{len(problems)} problems: " + "; ".join(problems))


def _spec_plan(spec: str, config: RunConfig, weights: Mapping[str, str]) -> ModelPlan:
    """The factory of a ``--models`` spec (:func:`~srbench_eval.models.loading.resolve_model`: a
    recipe, checkpoint, folder, published model or ``LABEL=package.module:factory``)."""
    build = partial(
        _resolve_on,
        spec=spec,
        scale=config.scale,
        weights=weights,
        checkpoints=config.checkpoints,
        mirror=config.mirror,
    )
    return ModelPlan(spec, build)


def _resolve_on(device: torch.device | str, *, spec: str, scale: float, **where: typing.Any) -> SRModel:
    model = resolve_model(spec, scale, device, **where)  # type: ignore[arg-type]
    check_model_scale(model, scale)
    return model


def _check_config(config: RunConfig) -> None:
    if not isinstance(config.scale, (int, float)) or not MIN_SCALE <= config.scale <= MAX_SCALE:
        raise SrbenchError(f"scale {config.scale} does not fit: use {SCALE_RANGE}")
    if config.crop_border is not None and config.crop_border < 0:
        raise SrbenchError(f"--crop-border {config.crop_border}: must be >= 0")
    if (config.tile < 0 and config.tile != AUTO_TILE) or config.tile_overlap < 0:
        raise SrbenchError(f"--tile {config.tile} --tile-overlap {config.tile_overlap}: both must be >= 0")
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


def metric_options_of(cls: type[Metric]) -> list[str]:
    """The options a metric takes: the keyword-only parameters of its constructor."""
    params = inspect.signature(cls.__init__).parameters
    return [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]


def parse_metric_options(items: Sequence[str], metrics: Sequence[str]) -> dict[str, dict[str, object]]:
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
        cls = get_metric(metric)
        allowed = metric_options_of(cls)
        if option not in allowed:
            raise unknown_name(f"option of metric {metric}", option, allowed)
        param = inspect.signature(cls.__init__).parameters[option]
        out.setdefault(metric, {})[option] = _option_value(item, option, raw, cls, param)
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
