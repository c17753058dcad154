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
Y(HR) and its local moments for SSIM, the trunk features for LPIPS, the Inception features for FID)
once per image for every model, while the main thread runs the models and scores the current image.

On the CPU the images are NumPy arrays and torch is imported only by what needs it: a network, a
metric without a NumPy path (LPIPS, FID, ...), a protocol step the compiled kernels do not cover, or
a GPU (``--device auto`` asks torch only where a GPU driver is present, :func:`resolve_device`).
The bicubic and folder columns with PSNR and SSIM never load it.
"""

from __future__ import annotations

import inspect
import os
import secrets
import threading
import typing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, closing, nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from srbench_eval import weights
from srbench_eval.compiled import as_tensor, is_tensor
from srbench_eval.data.datasets.registry import Dataset, open_dataset
from srbench_eval.data.degrade.bicubic import round_uint8
from srbench_eval.data.io.images import write_image
from srbench_eval.data.pairs import Pair, hr_lr_pairs
from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.metrics import Metric, MetricSettings, PerImageMetric, SetMetric, get_metric
from srbench_eval.metrics.fidelity import luma
from srbench_eval.models.base import SRModel
from srbench_eval.models.loading import parse_weights, resolve_model
from srbench_eval.names import safe_name
from srbench_eval.options import parse_assignment
from srbench_eval.protocol import Protocol, resolve
from srbench_eval.ranks import DistEnv
from srbench_eval.reports import statistics as stats
from srbench_eval.reports.tables import build_table, to_latex, to_markdown
from srbench_eval.runs.results import (
    RESERVATION,
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

if typing.TYPE_CHECKING:
    import torch

    from srbench_eval.data.degrade.bicubic import Image

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
    tile: int = 0  # networks run on tile x tile LR tiles (0: whole images), models.base.tiled
    tile_overlap: int = 0  # input pixels added on every side of a tile
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


GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd")
"""Linux files of the NVIDIA and AMD (ROCm) kernel drivers: without any of them torch finds no GPU."""


def _gpu_driver_present() -> bool:
    """Whether a GPU driver might be there (always True off Linux, where torch is asked)."""
    import sys

    return not sys.platform.startswith("linux") or any(os.path.exists(f) for f in GPU_DRIVER_FILES)


def resolve_device(name: str) -> str:
    """The evaluation device's name (``cpu``, ``cuda``, ``cuda:1``): ``auto`` is ``cuda`` when torch
    finds a GPU, asked only where a GPU driver is present, else ``cpu`` (torch not imported)."""
    if name == "auto" and not _gpu_driver_present():
        return "cpu"
    if name == "cpu":
        return name
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SrbenchError(f"unknown device '{name}': use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SrbenchError(f"device '{name}' requested but no CUDA GPU is available; use --device cpu")
    return str(device)


def _check_config(config: RunConfig) -> None:
    if config.scale < 1 or config.scale > 16:
        raise SrbenchError(f"scale {config.scale} does not fit: use an integer from 2 to 8 (1 for identity)")
    if config.crop_border is not None and config.crop_border < 0:
        raise SrbenchError(f"--crop-border {config.crop_border}: must be >= 0")
    if config.tile < 0 or config.tile_overlap < 0:
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


def _to_uint8_image(t: Image) -> np.ndarray:
    """The ``(H, W)`` or ``(H, W, 3)`` uint8 image of a ``(1, C, H, W)`` SR batch (rounded: a float SR,
    ``sr_quantisation=none``, is saved rounded)."""
    values = t[0].double().cpu().numpy() if is_tensor(t) else np.asarray(t[0], np.float64)
    arr = round_uint8(values).astype(np.uint8)
    return arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)


def _super_resolve(
    model: SRModel, dataset: Dataset, image: str, lr: Image, hr: Image, protocol: Protocol
) -> Image:
    """SR image as a float batch of 8-bit values (float64 when the protocol keeps SR in float), the
    same shape as ``hr`` (:meth:`~srbench_eval.models.base.SRModel.sr_image`): a tensor, or a NumPy
    array where the model takes the CPU path's arrays (:attr:`SRModel.takes_arrays`)."""
    if not model.takes_arrays:
        lr, hr = as_tensor(lr), as_tensor(hr, channels_last=True)
    try:
        sr = model.sr_image(lr, hr, protocol, dataset.name, image)
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
    models: list[SRModel],
    metrics: dict[tuple[str, str], Metric],
    config: RunConfig,
    protocol: Protocol,
    device: torch.device,
    staging: Path | None,
    progress: bool,
    env: DistEnv,
    pairs: Iterator[Pair],
) -> list[ImageValue]:
    """Run every model on every image of ``ds`` and update its metrics; the per-image values.
    ``pairs`` yields this rank's pairs of ``ds`` next (:func:`_pairs_of`: one read-ahead over every
    dataset, so that the next dataset's images are read while this one's last are scored).

    A set-level metric (:class:`~srbench_eval.metrics.base.SetMetric`, FID) gets each image's
    :meth:`~srbench_eval.metrics.base.SetMetric.features` added in image order.

    With ``env.world`` ranks (``torchrun``), rank ``r`` reads and computes images ``r, r + world,
    ...`` (:func:`_shard`): it runs the models, the per-image metrics and the set-level metrics'
    features on them and writes their ``--save-sr`` images; after every step the ranks exchange
    their errors and those features, which rank 0 adds to its set-level metrics in image order
    (:func:`_exchange`); at the end rank 0 gathers every rank's per-image values (:func:`_merge`).
    No image travels between ranks, and the result is that of one process."""
    names = list(dict.fromkeys(metric for _, metric in metrics))
    image_names = ds.names()
    steps = -(-len(ds.images) // env.world)
    rows: list[tuple[int, ImageValue]] = []
    # One process: a scoring thread runs the metrics on one image's SR while this thread makes the
    # next one's, in order (metric state is only touched there); ranks score in step (_exchange).
    scorer = _Scorer(rows) if not env.distributed else None
    with scorer if scorer is not None else nullcontext():
        for step in _progress(range(steps), f"{ds.name} x{config.scale}", progress and env.is_main):
            index = step * env.world + env.rank
            shipped: list[tuple[int, str, str, list[object]]] = []  # (image, model, metric, features)
            error = ""
            if index < len(ds.images):
                image = image_names[index]
                try:
                    pair = next(pairs)
                    for model in models:
                        sr = _super_resolve(model, ds, image, pair.lr, pair.hr, protocol)
                        task = _ScoreTask(ds.name, config.scale, image, index, model.name, sr, pair, protocol)
                        of_model = [metrics[(model.name, name)] for name in names]
                        if scorer is not None:
                            scorer.submit(task, of_model)
                        else:
                            found, features = task.run(of_model, ship=True)
                            rows.extend(found)
                            shipped.extend(features)
                        if config.save_sr and staging is not None:  # every rank writes its own images
                            target = inside(staging, "sr", model.name, ds.name, f"{image}.png")
                            write_image(target, _to_uint8_image(sr))
                except Exception as err:  # noqa: BLE001 - every rank must learn of it, or the others wait
                    if not env.distributed:
                        raise
                    error = str(err) if isinstance(err, SrbenchError) else f"rank {env.rank}: {err!r}"
            if env.distributed:
                _exchange(shipped, error, metrics, env)
    return _merge(rows, env)


@dataclass
class _ScoreTask:
    """The metrics of one model's SR image of one test image (what :func:`_score_dataset` scores)."""

    dataset: str
    scale: int
    image: str
    index: int
    model: str
    sr: Image
    pair: Pair
    protocol: Protocol

    def run(
        self, metrics: list[Metric], ship: bool = False
    ) -> tuple[list[tuple[int, ImageValue]], list[tuple[int, str, str, list[object]]]]:
        """Update ``metrics`` (this model's, in the run's metric order) with the image; its rows and,
        with ``ship``, the set-level metrics' features instead of adding them (a sharded run)."""
        pair = self.pair
        hr_y = pair.extra.get(LUMA)  # the HR's Y plane where the metrics share it (_pairs_of)
        sr_y = luma(self.sr, self.protocol.y) if hr_y is not None else None
        tensors: tuple[Image, Image] | None = None  # made once, for the metrics that take no arrays
        rows: list[tuple[int, ImageValue]] = []
        shipped: list[tuple[int, str, str, list[object]]] = []
        for metric in metrics:
            ref = pair.extra.get(metric.name)
            if hr_y is not None and _reads_shared_luma(metric):
                sr_in, hr_in = sr_y, hr_y
            elif metric.takes_arrays:
                sr_in, hr_in = self.sr, pair.hr
            else:
                tensors = tensors or (as_tensor(self.sr), as_tensor(pair.hr, channels_last=True))
                sr_in, hr_in = tensors
            try:
                if isinstance(metric, SetMetric):
                    features = metric.features(sr_in, hr_in, ref)
                    if ship:
                        shipped.append((self.index, self.model, metric.name, features))
                    else:
                        metric.add_features(features)
                    continue
                values = metric.update(sr_in, hr_in, ref)
            except (SrbenchError, ValueError) as err:  # e.g. an image too small for it
                raise SrbenchError(f"{self.dataset}/{self.image}, model '{self.model}': {err}") from None
            if values is not None:
                value = float(values.reshape(-1)[0])
                row = ImageValue(self.model, self.dataset, self.scale, self.image, metric.name, value)
                rows.append((self.index, row))
        return rows, shipped


class _Scorer:
    """One thread that runs :class:`_ScoreTask` s in the order they come, while the evaluation's
    main thread makes the next SR images; their rows go to ``rows`` in that order, and an error is
    raised in the main thread at its next :meth:`submit` or when the block ends. At most ``pending``
    tasks wait (their SR images in memory)."""

    def __init__(self, rows: list[tuple[int, ImageValue]], pending: int = 2) -> None:
        self.rows = rows
        self.pending = pending
        self._futures: deque[Future] = deque()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="srbench-score")

    def submit(self, task: _ScoreTask, metrics: list[Metric]) -> None:
        while len(self._futures) >= self.pending:
            self._collect()
        self._futures.append(self._pool.submit(task.run, metrics))

    def _collect(self) -> None:
        rows, _ = self._futures.popleft().result()
        self.rows.extend(rows)

    def __enter__(self) -> _Scorer:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            while self._futures and kind is None:
                self._collect()
        finally:
            for future in self._futures:
                future.cancel()
            self._pool.shutdown(wait=True)


def _progress(steps: range, label: str, shown: bool) -> typing.Iterable[int]:
    """``steps`` with a progress bar (tqdm, imported only then) when ``shown``."""
    if not shown:
        return steps
    from tqdm import tqdm

    return tqdm(steps, total=len(steps), desc=label, unit="img", leave=False)


def _reads_shared_luma(metric: Metric) -> bool:
    """Whether ``metric`` is handed the Y planes the run makes once per image (where the protocol's Y
    is not the plain float one): it reads the protocol's Y and takes arrays and tensors alike."""
    return metric.reads_luma and metric.takes_arrays


def _reference(metric: Metric, shared: SharedLuma | None = None) -> typing.Callable[[Image], object]:
    """``metric.reference``, handed the HR's shared Y plane where ``shared`` makes one and the metric
    reads it, else a tensor of the HR image unless the metric takes the CPU path's arrays."""
    if shared is not None and _reads_shared_luma(metric):
        return lambda hr: metric.reference(shared(hr))
    if metric.takes_arrays:
        return metric.reference
    return lambda hr: metric.reference(as_tensor(hr, channels_last=True))


def _pairs_of(
    datasets: list[Dataset],
    models: list[SRModel],
    metrics: dict[tuple[str, str], Metric],
    scale: int,
    protocol: Protocol,
    device: torch.device | str,
    env: DistEnv,
) -> Iterator[Pair]:
    """This rank's pairs (:func:`_shard`) of every dataset, in order, from one read-ahead
    (:func:`~srbench_eval.data.pairs.hr_lr_pairs`). Each metric's HR-only work
    (:meth:`~srbench_eval.metrics.base.Metric.reference`) is done there once per image for all models,
    by the first dataset's metric objects: a reference touches no state and every dataset's metrics
    share their settings."""
    names = list(dict.fromkeys(metric for _, metric in metrics))
    firsts = [metrics[(models[0].name, name)] for name in names]
    shared = None
    if protocol.y != "float" and any(_reads_shared_luma(m) for m in firsts):
        shared = SharedLuma(protocol.y)
    references = {LUMA: shared} if shared is not None else {}  # first: Pair.extra[LUMA], then reused
    references.update({m.name: _reference(m, shared) for m in firsts})
    paths = [ds.images[i] for ds in datasets for i in _shard(len(ds.images), env)]
    return hr_lr_pairs(paths, scale, protocol, device, references, host_arrays=True)


LUMA = "luma"
"""``Pair.extra`` key of the HR's Y plane under the protocol's rule, where metrics that read it
(:attr:`~srbench_eval.metrics.base.Metric.reads_luma`) share it (no metric is named so)."""


class SharedLuma:
    """``luma(hr, rule)`` made once per HR image: the read-ahead thread computes an image's
    references one after the other, and the first that asks makes the plane for the rest."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self._last = threading.local()

    def __call__(self, hr: Image) -> Image:
        last = self._last
        if getattr(last, "hr", None) is not hr:
            last.hr, last.y = hr, luma(hr, self.rule)
        return last.y


SINGLE = DistEnv(device="cpu")  # one process (its device is the run's own, resolve_device)


def _dist():  # noqa: ANN202 - the module; torch loads with it, so only a torchrun run imports it
    from srbench_eval.training import distributed

    return distributed


def _shard(n: int, env: DistEnv) -> list[int]:
    """The image indices rank ``env.rank`` of ``env.world`` computes: ``rank, rank + world, ...``."""
    return list(range(env.rank, n, env.world))


def _exchange(
    shipped: list[tuple[int, str, str, list[object]]],
    error: str,
    metrics: dict[tuple[str, str], Metric],
    env: DistEnv,
) -> None:
    """One lockstep of a sharded run: every rank's error (raised on all ranks, so none waits
    forever) and the set-level metrics' features of its image, which rank 0 adds in image order."""
    gathered = _dist().gather_objects(env, (error, shipped))
    errors = [e for e, _ in gathered if e]
    if errors:
        raise SrbenchError(errors[0])
    if not env.is_main:
        return
    items = sorted((item for _, part in gathered for item in part), key=lambda t: t[0])  # stable
    for _, model, name, features in items:
        metric = metrics[(model, name)]
        assert isinstance(metric, SetMetric)
        metric.add_features(features)


def _agree(env: DistEnv, datasets: list[Dataset], staging: Path | None, save_sr: bool) -> Path | None:
    """Rank 0's staging folder on every rank, once every rank has found the same image names in
    each dataset as rank 0 (the shards are positions in that list) and, with ``--save-sr``, sees
    rank 0's staging folder (each rank writes its own SR images there: a shared filesystem)."""
    staging = _dist().broadcast_object(env, staging)
    names = [(ds.name, ds.names()) for ds in datasets]
    problem = ""
    if names != _dist().broadcast_object(env, names):
        problem = (
            f"rank {env.rank} finds other images in --datasets than rank 0: every rank must read the "
            f"same files"
        )
    elif save_sr and staging is not None and not (staging / RESERVATION).is_file():
        problem = (
            f"--save-sr: rank {env.rank} cannot see the run folder {staging} of rank 0; each rank writes "
            f"its own SR images there: give --out on a filesystem that every rank shares"
        )
    problems = [p for p in _dist().gather_objects(env, problem) if p]
    if problems:
        raise SrbenchError(problems[0])
    return staging


def _merge(rows: list[tuple[int, ImageValue]], env: DistEnv) -> list[ImageValue]:
    """Every rank's per-image values in the order of one process (image, then model and metric as
    computed); on rank 0 only (the other ranks return theirs)."""
    if not env.distributed:
        return [row for _, row in rows]
    everything = [item for part in _dist().gather_objects(env, rows) for item in part]
    return [row for _, row in sorted(everything, key=lambda t: t[0])]  # stable: model/metric order kept


def run_evaluation(config: RunConfig, out: Path, progress: bool = True) -> Summary:
    """Evaluate every model on every dataset; write results.csv, summary.json and tables to ``out``."""
    _check_config(config)
    protocol = config.resolved_protocol()
    started = utc_now()
    for name in config.metrics:
        get_metric(name)  # unknown names and options are refused before any process group is joined
    parse_metric_options(config.metric_options, config.metrics)
    parse_weights(config.weights, config.models)
    launched = int(os.environ.get("WORLD_SIZE", "1")) > 1  # torchrun
    env = _dist().setup(config.device) if launched else SINGLE
    device = env.device if env.distributed else resolve_device(config.device)
    try:
        summary = _evaluate(config, protocol, out, env, device, started, progress)
    finally:
        if launched:
            _dist().teardown(env)
    return summary


def _evaluate(
    config: RunConfig,
    protocol: Protocol,
    out: Path,
    env: DistEnv,
    device: torch.device,
    started: str,
    progress: bool,
) -> Summary:
    """:func:`run_evaluation` on this rank; only rank 0 writes ``out``, the others return its summary."""
    metric_classes = [get_metric(m) for m in config.metrics]
    for cls in metric_classes:
        if env.distributed and not cls.per_image and not issubclass(cls, SetMetric):
            raise SrbenchError(
                f"metric {cls.name} is set-level without per-image features: run it in one process"
            )
    # Metric names are case-insensitive: the run, its options and its files use the registered ones.
    config = replace(config, metrics=tuple(cls.name for cls in metric_classes))
    metric_options = parse_metric_options(config.metric_options, config.metrics)
    weights_map = parse_weights(config.weights, config.models)
    reserved = finished_run_dir(out) if env.is_main else nullcontext(None)
    with reserved as staging, ExitStack() as stack:  # the run folder is reserved before any work
        if env.distributed and not env.is_main:  # rank 0 downloads and verifies first, the others reuse
            _dist().barrier(env)
        datasets = [  # the other ranks read only their own images: rank 0 checks the pixels
            open_dataset(d, mirror=config.mirror, strict=config.strict, check_pixels=env.is_main)
            for d in config.datasets
        ]
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
        if env.distributed and env.is_main:
            _dist().barrier(env)
        if env.distributed:
            staging = _agree(env, datasets, staging, config.save_sr)
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise SrbenchError(f"two models share a name in {', '.join(config.models)}")
        for model in models:  # every SR file is found before anything is computed
            try:
                model.check(protocol)
            except ValueError as err:
                raise SrbenchError(f"model '{model.name}': {err}") from None
            if config.tile:
                model.tiling = (config.tile, config.tile_overlap)
            for ds in datasets:
                model.prepare(ds.name, ds.names())
        settings = MetricSettings(config.scale, protocol, device)
        rows: list[ImageValue] = []
        entries: list[SummaryEntry] = []
        pairs: Iterator[Pair] | None = None
        for ds in datasets:
            metrics: dict[tuple[str, str], Metric] = {
                (m.name, cls.name): cls(settings, **metric_options.get(cls.name, {}))
                for m in models
                for cls in metric_classes
            }
            if pairs is None:
                first = _pairs_of(datasets, models, metrics, config.scale, protocol, device, env)
                pairs = stack.enter_context(closing(first))
            ds_rows = _score_dataset(
                ds, models, metrics, config, protocol, device, staging, progress, env, pairs
            )
            if env.distributed:  # the per-image metrics of every rank's images (math.fsum: order-free)
                for (model_name, metric_name), metric in metrics.items():
                    if isinstance(metric, PerImageMetric):
                        key = (model_name, metric_name)
                        metric.set_values([r.value for r in ds_rows if (r.model, r.metric) == key])
            rows += ds_rows
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

        if not env.is_main:
            return _dist().broadcast_object(env, None)
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
            ranks=env.world,  # processes that shared the images (torchrun)
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
        per_image = {name: bool(info["per_image"]) for name, info in metric_info.items()}
        statistics = stats.statistics_json(stats.describe(rows, per_image))
        summary = Summary(entries, metric_info, provenance, config.to_json(), statistics)
        assert staging is not None  # rank 0 (non-zero ranks returned above)
        write_run_files(staging, rows, summary)
    return _dist().broadcast_object(env, summary) if env.distributed else summary


def write_run_files(staging: Path, rows: list[ImageValue], summary: Summary) -> None:
    """A run's files in its staging folder: ``results.csv`` (its SHA-256 recorded in the summary's
    provenance, so ``table`` and ``check`` notice an edited copy), ``summary.json`` and the tables."""
    results_csv = csv_text(rows)
    summary.provenance["results_csv_sha256"] = sha256_text(results_csv)
    table = build_table([summary])
    write_text_atomic(inside(staging, RESULTS_CSV), results_csv)
    write_text_atomic(inside(staging, "summary.json"), summary.to_json())
    write_text_atomic(inside(staging, "table.md"), to_markdown(table))
    write_text_atomic(inside(staging, "table.tex"), to_latex(table))
