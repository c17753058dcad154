"""The single inference + metrics loop behind ``srbench-eval run``, on a
:class:`~srbench_eval.evaluation.plan.RunPlan`.

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
once per image for every model, while the main thread runs the models and a scoring thread
(:mod:`srbench_eval.evaluation.scoring`) scores the previous image. Every image is a
:class:`~srbench_eval.metrics.sample.Sample` that hands each model and metric the form it takes.

On the CPU the images are NumPy arrays and torch is imported only by what needs it: a network, a
metric without a NumPy path (LPIPS, FID, ...), a protocol step the compiled kernels do not cover, or
a GPU (``--device auto`` asks torch only where a GPU driver is present,
:func:`~srbench_eval.evaluation.device.resolve_device`). The bicubic and folder columns with PSNR
and SSIM never load it. A sharded run (torchrun) is described in
:mod:`srbench_eval.evaluation.distributed`.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Iterator
from contextlib import ExitStack, closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from srbench_eval.compiled import as_tensor, is_tensor
from srbench_eval.data.datasets.registry import Dataset, open_dataset
from srbench_eval.data.pairs import GivenLR, Pair, given_files, hr_lr_pairs
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation.cache import (
    SRCache,
    device_class,
    enabled_by_environment,
    entry_key,
    lr_digest,
    model_digest,
    model_key,
)
from srbench_eval.evaluation.distributed import agree, collectives, exchange, merge, shard
from srbench_eval.evaluation.plan import RunConfig, RunPlan, build_plan
from srbench_eval.evaluation.progress import Progress, SweepProgress, progress_steps
from srbench_eval.evaluation.provenance import metric_info, run_provenance
from srbench_eval.evaluation.scoring import SAMPLE, Scorer, ScoreTask, Shipped
from srbench_eval.evaluation.writing import save_sr_image, write_run_files
from srbench_eval.metrics import Metric, MetricSettings, PerImageMetric
from srbench_eval.metrics.sample import LastSample, Sample
from srbench_eval.models.base import SRModel
from srbench_eval.models.inference import apply as apply_mode
from srbench_eval.models.loading import BicubicModel, FolderModel
from srbench_eval.models.network import apply_tiling
from srbench_eval.names import safe_name
from srbench_eval.ranks import DistEnv
from srbench_eval.reports import statistics as stats
from srbench_eval.runs.results import ImageValue, Summary, SummaryEntry, finished_run_dir, utc_now

if typing.TYPE_CHECKING:
    from srbench_eval.data.degrade.bicubic import Image

Metrics = dict[tuple[str, str], Metric]
"""One dataset's metric objects, by (model name, metric name), in model then metric order."""

log = logging.getLogger(__name__)


def run_evaluation(config: RunConfig, out: Path, progress: Progress = True) -> Summary:
    """Evaluate the run ``config`` asks for (its plan, :func:`~srbench_eval.evaluation.plan.build_plan`);
    ``progress``: a bar per dataset, none, or a sweep's bar (:mod:`srbench_eval.evaluation.progress`)."""
    return run_plan(build_plan(config), out, progress)


def run_plan(plan: RunPlan, out: Path, progress: Progress = True) -> Summary:
    """Evaluate every model on every dataset; write results.csv, summary.json and tables to ``out``."""
    started = utc_now()
    launched = plan.ranks.distributed  # torchrun
    env = collectives().setup(plan.device, plan.ranks) if launched else plan.ranks
    try:
        return _evaluate(plan, out, env, started, progress)
    finally:
        if launched:
            collectives().teardown(env)


@dataclass
class _Run:
    """What the loop of one rank works with: the plan, this rank, the opened datasets, the built
    models and the staging folder (rank 0's; ``None`` on the others without ``--save-sr``)."""

    plan: RunPlan
    env: DistEnv
    datasets: list[Dataset]
    models: list[SRModel]
    staging: Path | None
    progress: Progress
    given: dict[Path, GivenLR]  # the datasets' LR files under --degradation given
    cache: SRCache | None = None  # the SR cache (evaluation/cache.py), None when off
    cache_keys: dict[str, dict[str, typing.Any]] = field(default_factory=dict)  # model -> key fields


def _evaluate(plan: RunPlan, out: Path, env: DistEnv, started: str, progress: Progress) -> Summary:
    """:func:`run_plan` on this rank; only rank 0 writes ``out``, the others return its summary."""
    reserved = finished_run_dir(out) if env.is_main else nullcontext(None)
    with reserved as staging, ExitStack() as stack:  # the run folder is reserved before any work
        run = _prepare(plan, env, staging, progress)
        rows, entries, metrics = _score(run, stack)
        if not env.is_main:
            return collectives().broadcast_object(env, None)
        provenance = run_provenance(plan, str(env.device), run.datasets, run.models, env.world, started)
        provenance["sr_cache"] = cache_record(run)
        info = metric_info(plan, list(metrics.values()))
        per_image = {name: bool(facts["per_image"]) for name, facts in info.items()}
        statistics = stats.statistics_json(stats.describe(rows, per_image))
        summary = Summary(entries, info, provenance, plan.record(), statistics)
        assert run.staging is not None  # rank 0 (non-zero ranks returned above)
        write_run_files(run.staging, rows, summary)
    return collectives().broadcast_object(env, summary) if env.distributed else summary


def _prepare(plan: RunPlan, env: DistEnv, staging: Path | None, progress: Progress) -> _Run:
    """Open the datasets and build the models (rank 0 first: it downloads and verifies, the others
    reuse), agree on them between ranks, and check every model against the protocol and the
    datasets before anything is computed."""
    if env.distributed and not env.is_main:
        collectives().barrier(env)
    datasets = [  # the other ranks read only their own images: rank 0 checks the pixels
        open_dataset(d, mirror=plan.config.mirror, strict=plan.config.strict, check_pixels=env.is_main)
        for d in plan.datasets
    ]
    _check_datasets(datasets)
    given = given_files(datasets, plan.scale, plan.protocol)
    models = [with_mode(m.build(env.device), plan, env.device) for m in plan.models]
    if env.distributed and env.is_main:
        collectives().barrier(env)
    if env.distributed:
        staging = agree(env, datasets, staging, plan.save_sr)
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise SrbenchError(f"two models share a name in {', '.join(m.spec for m in plan.models)}")
    for model in models:  # every SR file is found before anything is computed
        try:
            model.check(plan.protocol)
        except ValueError as err:
            raise SrbenchError(f"model '{model.name}': {err}") from None
        if plan.tiling and (note := apply_tiling(model, *plan.tiling)):
            log.warning(note)
        for ds in datasets:
            model.prepare(ds.name, ds.names())
    cache, keys = _open_cache(plan, models, str(env.device))
    if isinstance(progress, SweepProgress) and env.is_main:
        progress.begin(sum(-(-len(ds.images) // env.world) for ds in datasets), f"x{plan.scale}")
    return _Run(plan, env, datasets, models, staging, progress, given, cache, keys)


def with_mode(model: SRModel, plan: RunPlan, device: str) -> SRModel:
    """``model`` running in the plan's inference mode (:func:`srbench_eval.models.inference.apply`),
    its label marked as papers mark it (``EDSR+``); folders of SR images and the bicubic baseline run
    no network and keep theirs."""
    mode = plan.inference
    if not mode.changes_the_pass or isinstance(model, BicubicModel | FolderModel):
        return model
    apply_mode(model, mode, device)
    model.name += mode.suffix
    return model


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


def _score(run: _Run, stack: ExitStack) -> tuple[list[ImageValue], list[SummaryEntry], Metrics]:
    """Every dataset scored: the per-image rows (a set-level metric adds one row with an empty image
    name), the summary entries, and the last dataset's metric objects (their options are recorded)."""
    plan, scale = run.plan, run.plan.scale
    settings = MetricSettings(scale, plan.protocol, run.env.device)
    rows: list[ImageValue] = []
    entries: list[SummaryEntry] = []
    pairs: Iterator[Pair] | None = None
    metrics: Metrics = {}
    for ds in run.datasets:
        metrics = {(m.name, mp.name): mp.build(settings) for m in run.models for mp in plan.metrics}
        if pairs is None:
            pairs = stack.enter_context(closing(_pairs_of(run, metrics)))
        ds_rows = _score_dataset(run, ds, metrics, pairs)
        if run.env.distributed:  # the per-image metrics of every rank's images (math.fsum: order-free)
            for key, metric in metrics.items():
                if isinstance(metric, PerImageMetric):
                    metric.set_values([r.value for r in ds_rows if (r.model, r.metric) == key])
        rows += ds_rows
        for (model_name, metric_name), metric in metrics.items():
            mv = metric.compute()
            entries.append(
                SummaryEntry(
                    model_name, ds.name, scale, metric_name, mv.value, mv.n_samples, mv.reliable, mv.note
                )
            )
            if not metric.per_image:
                rows.append(ImageValue(model_name, ds.name, scale, "", metric_name, mv.value))
    return rows, entries, metrics


def _score_dataset(run: _Run, ds: Dataset, metrics: Metrics, pairs: Iterator[Pair]) -> list[ImageValue]:
    """Run every model on every image of ``ds`` and update its metrics; the per-image values.
    ``pairs`` yields this rank's pairs of ``ds`` next (:func:`_pairs_of`: one read-ahead over every
    dataset, so that the next dataset's images are read while this one's last are scored).

    One process: a scoring thread runs the metrics on one image's SR while this thread makes the
    next one's, in order (metric state is only touched there). With ``env.world`` ranks (torchrun),
    rank ``r`` computes images ``r, r + world, ...`` and the ranks exchange their errors and
    set-level features after every step (:mod:`srbench_eval.evaluation.distributed`)."""
    env = run.env
    steps = -(-len(ds.images) // env.world)
    rows: list[tuple[int, ImageValue]] = []
    scorer = Scorer(rows) if not env.distributed else None
    with scorer if scorer is not None else nullcontext():
        for step in progress_steps(range(steps), f"{ds.name} x{run.plan.scale}", run.progress, env.is_main):
            index = step * env.world + env.rank
            shipped: list[Shipped] = []  # (image, model, metric, features)
            error = ""
            if index < len(ds.images):
                try:
                    _score_image(run, ds, index, next(pairs), metrics, scorer, rows, shipped)
                except Exception as err:  # noqa: BLE001 - every rank must learn of it, or the others wait
                    if not env.distributed:
                        raise
                    error = str(err) if isinstance(err, SrbenchError) else f"rank {env.rank}: {err!r}"
            if env.distributed:
                exchange(shipped, error, metrics, env)
    return merge(rows, env)


def _score_image(
    run: _Run,
    ds: Dataset,
    index: int,
    pair: Pair,
    metrics: Metrics,
    scorer: Scorer | None,
    rows: list[tuple[int, ImageValue]],
    shipped: list[Shipped],
) -> None:
    """Every model on image ``index`` of ``ds``: its SR image scored by the scoring thread (one
    process), or here with the set-level features shipped (torchrun); ``--save-sr`` writes it."""
    image = ds.images[index].stem  # ds.names()[index]
    lr, hr = Sample(pair.lr), pair.extra[SAMPLE]
    assert isinstance(hr, Sample)
    names = [mp.name for mp in run.plan.metrics]
    for model in run.models:
        sr = _cached_super_resolve(run, model, ds, image, lr, hr)
        task = ScoreTask(ds.name, run.plan.scale, image, index, model.name, Sample(sr, hr.rule), pair)
        of_model = [metrics[(model.name, name)] for name in names]
        if scorer is not None:
            scorer.submit(task, of_model)
        else:
            found, features = task.run(of_model, ship=True)
            rows.extend(found)
            shipped.extend(features)
        if run.plan.save_sr and run.staging is not None:  # every rank writes its own images
            save_sr_image(run.staging, model.name, ds.name, image, sr)


def _cached_super_resolve(
    run: _Run, model: SRModel, ds: Dataset, image: str, lr: Sample, hr: Sample
) -> Image:
    """:func:`_super_resolve`, served from the SR cache when it holds the entry (and filling it when
    not); the hits and misses are counted per model and dataset for ``summary.json``."""
    fields = run.cache_keys.get(model.name)
    if run.cache is None or fields is None:
        return _super_resolve(model, ds, image, lr, hr, run.plan)
    hr_in = hr.for_model(model)
    key = entry_key(fields, lr_digest(lr.array()))
    found = run.cache.get(key, fields, tuple(hr_in.shape))
    run.cache.count(model.name, ds.name, found is not None)
    if found is not None:
        return as_tensor(found, hr_in.device) if is_tensor(hr_in) else found
    sr = _super_resolve(model, ds, image, lr, hr, run.plan)
    run.cache.put(key, fields, sr)
    return sr


def cache_record(run: _Run) -> dict[str, typing.Any]:
    """``provenance.sr_cache`` of ``summary.json``: per model and dataset, how many SR images came
    from the cache and how many were computed, with the model's key fields."""
    if run.cache is None:
        return {"enabled": False}
    out: dict[str, typing.Any] = {"enabled": True, "root": str(run.cache.root), "models": {}}
    for (model, dataset), (hits, misses) in sorted(run.cache.counts.items()):
        entry = out["models"].setdefault(model, {"key": run.cache_keys[model], "datasets": {}})
        entry["datasets"][dataset] = {"from_cache": misses == 0, "hits": hits, "computed": misses}
    return out


def _open_cache(plan: RunPlan, models: list[SRModel], device: str) -> tuple[SRCache | None, dict]:
    """The SR cache and each cached model's key fields (models with no weights digest: none)."""
    if not (plan.config.sr_cache and enabled_by_environment()):
        return None, {}
    keys = {}
    for model in models:
        digest = model_digest(model)
        if digest is not None:
            mode = plan.inference
            keys[model.name] = model_key(digest, plan.protocol, plan.scale, mode, device_class(device))
    return (SRCache(), keys) if keys else (None, {})


def _super_resolve(model: SRModel, ds: Dataset, image: str, lr: Sample, hr: Sample, plan: RunPlan) -> Image:
    """SR image as a float batch of 8-bit values (float64 when the protocol keeps SR in float), the
    same shape as ``hr`` (:meth:`~srbench_eval.models.base.SRModel.sr_image`), in the form the model
    takes (:meth:`~srbench_eval.metrics.sample.Sample.for_model`)."""
    hr_in = hr.for_model(model)
    try:
        sr = model.sr_image(lr.for_model(model), hr_in, plan.protocol, ds.name, image)
    except ValueError as err:
        raise SrbenchError(f"model '{model.name}' on {ds.name}/{image}: {err}") from None
    if plan.protocol.scale_rule(plan.scale) != "modcrop":  # SR of ceil(lr * s) cut to the HR's size
        sr = sr[..., : hr_in.shape[-2], : hr_in.shape[-1]]
    if sr.shape != hr_in.shape:
        raise SrbenchError(
            f"model '{model.name}' returned {tuple(sr.shape)} for {ds.name}/{image}, "
            f"expected {tuple(hr_in.shape)}"
        )
    return sr


def _pairs_of(run: _Run, metrics: Metrics) -> Iterator[Pair]:
    """This rank's pairs (:func:`~srbench_eval.evaluation.distributed.shard`) of every dataset, in
    order, from one read-ahead (:func:`~srbench_eval.data.pairs.hr_lr_pairs`). ``Pair.extra`` holds
    the HR image's :class:`~srbench_eval.metrics.sample.Sample` and each metric's HR-only work
    (:meth:`~srbench_eval.metrics.base.Metric.reference`), done there once per image for all models
    by the first model's metric objects: a reference touches no state and every dataset's metrics
    share their settings."""
    plan = run.plan
    firsts = [metrics[(run.models[0].name, mp.name)] for mp in plan.metrics]
    samples = LastSample(plan.protocol.y if plan.protocol.y not in ("float", "rgb") else None)
    precompute: dict[str, typing.Callable[[Image], object]] = {SAMPLE: samples}  # first, then reused
    precompute.update({m.name: _reference(m, samples) for m in firsts})
    paths = [ds.images[i] for ds in run.datasets for i in shard(len(ds.images), run.env)]
    return hr_lr_pairs(
        paths, plan.scale, plan.protocol, run.env.device, precompute, host_arrays=True, given=run.given
    )


def _reference(metric: Metric, samples: LastSample) -> typing.Callable[[Image], object]:
    """``metric.reference`` of the HR image in the form the metric takes."""
    return lambda hr: metric.reference(samples(hr).for_metric(metric))
