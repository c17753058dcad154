"""`srbench-eval run`, `table` and `check`: evaluate, rebuild tables, compare with baselines."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from srbench_eval.allocator import keep_freed_memory
from srbench_eval.defaults import DEFAULT_DATASETS, DEFAULT_METRICS, SCALE_RANGE
from srbench_eval.errors import SrbenchError
from srbench_eval.files import write_text_atomic
from srbench_eval.options import split_list
from srbench_eval.protocol import PROFILES
from srbench_eval.reports import names as layout_names
from srbench_eval.runs.results import load_summary, refuse_finished

METRIC_OPTION_EXAMPLES = ("fid-patch.patch_size=128", "fid.batch_size=8")
"""The ``--metric-option`` examples of the help text (options of registered metrics: a test parses them)."""


class RegistryOption(click.Option):
    """An option whose help names the entries of a registry (``{names}`` in the help text), read
    only when the help is shown: the registry's module is not imported otherwise."""

    def __init__(self, *args: Any, names: Callable[[], Iterable[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._template = self.help or ""
        self._names = names

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self._template.format(names=", ".join(self._names()))
        return super().get_help_record(ctx)


def _profiles() -> Iterable[str]:

    return PROFILES


def _layouts() -> Iterable[str]:  # read when help is shown: the registry's names as they are then

    return layout_names.LAYOUTS


def protocol_options(default: str | None = "matlab"):  # noqa: ANN201 (a click decorator)
    """``--protocol NAME`` and ``--protocol-set FIELD=VALUE`` (see `srbench-eval protocols`)."""

    def decorate(fn):  # noqa: ANN001, ANN202
        fn = click.option(
            "--protocol-set",
            "protocol_set",
            multiple=True,
            metavar="FIELD=VALUE",
            help="Override one field of the protocol (repeatable), e.g. crop_border=0; recorded and "
            "shown in the label.",
        )(fn)
        return click.option(
            "--protocol",
            cls=RegistryOption,
            names=_profiles,
            default=default,
            show_default=default is not None,
            help="Evaluation protocol profile: {names} (see `srbench-eval protocols`).",
        )(fn)

    return decorate


DEGRADATIONS = ("bi", "bd", "dn", "given")
"""The values of ``--degradation`` (the protocol field ``lr_source``)."""


def degradation_option(what: str = "the LR is made"):  # noqa: ANN201 (a click decorator)
    """``--degradation bi|bd|dn|given``: the protocol's ``lr_source`` (``--protocol-set lr_source=K``)."""
    return click.option(
        "--degradation",
        type=click.Choice(DEGRADATIONS),
        default=None,
        help=f"How {what}: bi (bicubic), bd (RDN's blur + nearest), dn (bicubic + RDN's seeded noise), "
        "given (the dataset's LR files: a paired dataset or HRDIR::LRDIR) [default: the protocol's, bi]; "
        "the same as --protocol-set lr_source=K.",
    )


@click.command()
@click.option(
    "--models",
    required=True,
    help="Comma list: bicubic, recipe names (their trained checkpoints), NAME@pub (published models), "
    "LABEL=folder of SR images, LABEL=checkpoint.pt, LABEL=weights file or LABEL=package.module:factory.",
)
@click.option(
    "--scale",
    default="4",
    show_default=True,
    help=f"Upscaling factor, {SCALE_RANGE}, or a comma list (2,3,4).",
)
@click.option(
    "--datasets",
    default=",".join(DEFAULT_DATASETS),
    show_default=True,
    help="Comma list of dataset names (see `datasets list`) or folders of HR images.",
)
@click.option(
    "--metrics",
    default=",".join(DEFAULT_METRICS),
    show_default=True,
    help="Comma list of metric names (see `srbench-eval metrics`).",
)
@click.option(
    "--crop-border",
    type=int,
    default=None,
    help="Border pixels ignored by PSNR/SSIM [default: the protocol's, scale]; "
    "the same as --protocol-set crop_border=N.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--mirror",
    default=None,
    help="Local folder or base URL tried before the public sources [default: $SRBENCH_MIRROR].",
)
@click.option("--strict", is_flag=True, help="Refuse datasets whose pixels differ from the manifest.")
@click.option("--save-sr", is_flag=True, help="Keep the SR images under OUT/sr/.")
@click.option(
    "--metric-option",
    "metric_options",
    multiple=True,
    metavar="METRIC.OPTION=VALUE",
    help=f"Option of a metric (repeatable), e.g. {' or '.join(METRIC_OPTION_EXAMPLES)}.",
)
@click.option(
    "--weights",
    multiple=True,
    metavar="NAME=PATH",
    help="Checkpoint file (or folder) for recipe NAME of --models (repeatable).",
)
@click.option(
    "--checkpoints",
    default=None,
    help="Where recipe names find their newest checkpoint; 'zoo': the shipped demo models only "
    "[default: $SRBENCH_CHECKPOINTS or ./checkpoints, then the shipped demo models].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Run folder [default: results/runs/<timestamp>-<id>].",
)
@click.option(
    "--max-pixels",
    type=int,
    default=None,
    help="Largest image read, in pixels, checked from the file header before decoding "
    "[default: $SRBENCH_MAX_PIXELS or 64000000].",
)
@protocol_options()
@degradation_option()
@click.option(
    "--tile",
    default="0",
    help="Run networks on TxT LR tiles (large images); 'auto': the largest fitting the memory budget "
    "($SRBENCH_TILE_BUDGET_MB, else half the free GPU memory or 1 GiB) [default: off].",
)
@click.option("--tile-overlap", type=int, default=0, help="Input pixels added around each tile.")
@click.option(
    "--self-ensemble", is_flag=True, help="x8 geometric self-ensemble (EDSR-PyTorch forward_x8); label '+'."
)
@click.option(
    "--precision",
    type=click.Choice(["fp32", "fp16", "bf16"]),
    default="fp32",
    show_default=True,
    help="Network precision (autocast); refused where the architecture or device does not support it.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Run every network afresh: neither read nor fill the SR cache ($SRBENCH_DATA/sr-cache).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(
    models: str,
    scale: str,
    datasets: str,
    metrics: str,
    crop_border: int | None,
    device: str,
    mirror: str | None,
    strict: bool,
    save_sr: bool,
    metric_options: tuple[str, ...],
    weights: tuple[str, ...],
    checkpoints: str | None,
    out: Path | None,
    max_pixels: int | None,
    protocol: str,
    protocol_set: tuple[str, ...],
    degradation: str | None,
    tile: str,
    tile_overlap: int,
    self_ensemble: bool,
    precision: str,
    no_cache: bool,
    quiet: bool,
) -> None:
    """Evaluate MODELS on DATASETS at SCALE under the exact SR protocol; print the table."""
    from srbench_eval.compiled import start_numba
    from srbench_eval.data.datasets.registry import find_images
    from srbench_eval.data.io.images import limit_pixels
    from srbench_eval.data.io.prefetch import prefetching
    from srbench_eval.evaluation.plan import RunConfig, check_early
    from srbench_eval.runs.multiscale import parse_scales

    keep_freed_memory()  # image buffers reused, not mapped afresh for every image (allocator.py)
    scales = parse_scales(scale)
    config = RunConfig(
        models=split_list(models),
        scale=scales[0],
        datasets=split_list(datasets),
        metrics=split_list(metrics),
        crop_border=crop_border,
        device=device,
        mirror=mirror,
        strict=strict,
        save_sr=save_sr,
        weights=weights,
        checkpoints=checkpoints,
        metric_options=metric_options,
        protocol=protocol,
        protocol_set=protocol_set,
        degradation=degradation,
        tile=_tile(tile),
        tile_overlap=tile_overlap,
        self_ensemble=self_ensemble,
        precision=precision,
        sr_cache=not no_cache,
    )
    check_early(config, scales)  # device, models, metric weights: named at once, before any dataset work
    # The HR files are read and inflated in a background thread while the interpreter imports and
    # numba starts (srbench_eval/data/io/prefetch.py); nothing is read here that the run would not read.
    hr_files = [path for d in split_list(datasets) for path in find_images(d, mirror)]
    with limit_pixels(max_pixels), prefetching(hr_files):
        start_numba()  # without its BLAS probe (0.19 s of SciPy imports; compiled.start_numba)
        from srbench_eval.evaluation import build_plan, default_out_dir, run_plan
        from srbench_eval.runs.multiscale import run_scales

        plan = build_plan(config)  # every bad string fails here, before anything is computed
        out = out or default_out_dir()
        progress = not quiet and sys.stderr.isatty()
        if len(scales) > 1:
            summary = run_scales(config, scales, out, progress)
        else:
            summary = run_plan(plan, out, progress=progress)
    if not plan.ranks.is_main:  # torchrun: rank 0 reports (and alone wrote the run)
        return
    from srbench_eval.reports.tables import build_table, to_markdown

    click.echo(to_markdown(build_table([summary])))
    click.echo(f"results: {out}")


def _tile(raw: str) -> int:
    """``--tile``: a tile side >= 0, or ``auto`` (``AUTO_TILE``, -1)."""
    if raw.strip().lower() == "auto":
        return -1
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise SrbenchError(f"--tile {raw}: use a tile side in LR pixels (>= 0) or 'auto'")
    return value


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["md", "latex"]), default="md", show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Write to this file instead of stdout."
)
@click.option(
    "--layout",
    cls=RegistryOption,
    names=_layouts,
    default="blocks",
    show_default=True,
    help="One of {names}.",
)
@click.option("--rename", multiple=True, metavar="OLD=NEW", help="Rename a model column (repeatable).")
@click.option("--order", default="", help="Comma list of models (after --rename) in the order to show.")
@click.option("--metrics", default="", help="Comma list of metrics to show, in this order [default: all].")
@click.option("--reference", default=None, help="Mark values not significantly different from this model.")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Level for --reference.")
@click.option(
    "--allow-mixed",
    is_flag=True,
    help="Merge runs made under different protocols, crops, metric options or dataset copies, "
    "marking each group's columns with a footnote (refused otherwise).",
)
@click.option(
    "--published",
    is_flag=True,
    help="NAME@pub cells: the paper's number, then ours (32.75 → 32.749).",
)
@click.option(
    "--markdown",
    type=click.Choice(["html", "plain"]),
    default="html",
    show_default=True,
    help="Markdown marks: html (<ins>, <sup>) or plain (no HTML: second best in italics).",
)
def table(
    run_dirs: tuple[Path, ...],
    fmt: str,
    out: Path | None,
    layout: str,
    rename: tuple[str, ...],
    order: str,
    metrics: str,
    reference: str | None,
    alpha: float,
    allow_mixed: bool,
    published: bool,
    markdown: str,
) -> None:
    """Rebuild the comparison table from one or more finished runs (later runs win on duplicates).

    Runs whose protocol, crop, metric options or dataset manifests differ are refused, naming the
    field, unless --allow-mixed."""
    from srbench_eval.reports.layouts import TableOptions, table_text
    from srbench_eval.runs.finished import load_runs

    if out:
        refuse_finished(out)
    options = TableOptions(
        layout,
        fmt,
        rename,
        split_list(order),
        split_list(metrics),
        reference,
        alpha,
        allow_mixed,
        published,
        markdown,
    )
    text = table_text(load_runs(run_dirs), options)
    if out:
        write_text_atomic(out, text)
    else:
        click.echo(text, nl=False)


@click.command()
@click.option("--baseline", required=True, type=click.Path(path_type=Path), help="Baseline JSON file.")
@click.argument("run_dir", required=False, type=click.Path(path_type=Path))
@click.option("--mirror", default=None, help="Mirror for a fresh run [default: $SRBENCH_MIRROR].")
@click.option("--device", default="cpu", show_default=True, help="Device for a fresh run.")
@click.option("--update", is_flag=True, help="Write the baseline from the run instead of checking it.")
@protocol_options(default=None)
def check(
    baseline: Path,
    run_dir: Path | None,
    mirror: str | None,
    device: str,
    update: bool,
    protocol: str | None,
    protocol_set: tuple[str, ...],
) -> None:
    """Compare RUN_DIR (or a fresh run with the baseline's settings) with BASELINE; exit 1 on any change.

    A fresh run uses the protocol the baseline recorded (``matlab`` for baselines made before
    protocols were named); ``--protocol`` / ``--protocol-set`` replace it."""

    from srbench_eval.evaluation import RunConfig, build_plan, run_plan
    from srbench_eval.reports.regression import (
        baseline_from_summary,
        check_baseline_target,
        compare,
        format_comparisons,
        load_baseline,
    )

    if update and run_dir is None:
        raise SrbenchError("--update needs a RUN_DIR to take the values from")
    if update:
        check_baseline_target(baseline, run_dir)
        summary = load_summary(run_dir)
        if not summary.entries:
            raise SrbenchError(f"{run_dir}: the run has no results; a baseline from it would check nothing")
        write_text_atomic(baseline, baseline_from_summary(summary).to_json())
        click.echo(f"wrote {baseline}")
        return
    base = load_baseline(baseline)
    if run_dir is not None:
        summary = load_summary(run_dir)
    else:
        settings = base.run_settings()
        scales = list(settings.pop("scales"))
        if protocol:  # a profile named here replaces the baseline's, overrides included
            settings.update(protocol=protocol, protocol_set=tuple(protocol_set))
        else:
            settings["protocol_set"] += tuple(protocol_set)
        config = RunConfig(**settings, scale=scales[0], device=device, mirror=mirror)
        plan = build_plan(config)  # the baseline's strings checked before anything is computed
        with tempfile.TemporaryDirectory(prefix="srbench-check-") as tmp:
            if len(scales) > 1:
                from srbench_eval.runs.multiscale import run_scales

                summary = run_scales(config, scales, Path(tmp) / "run", progress=False)
            else:
                summary = run_plan(plan, Path(tmp) / "run", progress=False)
    comparisons = compare(base, summary)
    click.echo(format_comparisons(comparisons))
    bad = [c for c in comparisons if c.status != "ok"]
    if bad:
        click.echo(f"{len(bad)} of {len(comparisons)} values differ from {baseline} or are missing", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"all {len(comparisons)} values match {baseline}")
