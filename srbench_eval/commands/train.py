"""`srbench-eval train`: train one recipe of the model zoo (one config, one call)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from srbench_eval.commands.evaluation import protocol_options, training_options


@click.command()
@click.option("--model", required=True, help="Recipe name (see `models list`).")
@click.option(
    "--preset",
    type=click.Choice(["paper", "smoke"]),
    default="paper",
    show_default=True,
    help="paper: the recipe's network and schedule; smoke: a small network trained for minutes on a CPU.",
)
@click.option(
    "--scale", type=int, default=None, help="Upscaling factor [default: x4, or the recipe's first]."
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a recipe setting, e.g. --set loss.dp.mu=1 (repeatable; shown in the table label).",
)
@click.option(
    "--checkpoints",
    "--out",
    "checkpoints",
    default=None,
    help="Checkpoint root; the run goes to ROOT/<recipe>/<run>/ "
    "[default: $SRBENCH_CHECKPOINTS or ./checkpoints].",
)
@click.option("--resume", is_flag=True, help="Continue the run from its newest checkpoint.")
@click.option(
    "--init",
    default=None,
    help="Checkpoint a two-stage recipe starts from [default: newest of its init recipe]; 'none': scratch.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of weights and data.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--val",
    default="set5",
    show_default=True,
    help="Validation dataset (name or folder) at the same scale, or 'none'.",
)
@click.option("--val-every", type=int, default=None, help="Validate every N iterations [default: a quarter].")
@click.option(
    "--log-every", type=int, default=20, show_default=True, help="Log the losses every N iterations."
)
@click.option("--keep", type=int, default=2, show_default=True, help="Periodic checkpoints to keep.")
@click.option(
    "--ema", type=float, default=0.0, show_default=True, help="EMA decay of the generator (0: off)."
)
@click.option(
    "--amp",
    type=click.Choice(["auto", "bf16", "off"]),
    default="auto",
    show_default=True,
    help="bf16 autocast.",
)
@click.option(
    "--workers", type=int, default=None, help="Data loader processes [default: 0 on CPU, 4 on GPU]."
)
@click.option(
    "--preload/--no-preload",
    default=None,
    help="Keep the training images in memory [default: when they fit].",
)
@click.option(
    "--subimages",
    type=int,
    default=0,
    show_default=True,
    help="Cut the training images once into sub-images of this size (e.g. 480) for faster loading.",
)
@click.option(
    "--export",
    type=click.Path(path_type=Path),
    default=None,
    help="At the end, also write the generator alone (float16, with its recipe) to this .pt file.",
)
@training_options
@protocol_options()
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(
    model: str,
    preset: str,
    scale: int | None,
    data: str,
    mirror: str | None,
    overrides: tuple[str, ...],
    iterations: int | None,
    batch_size: int | None,
    hr_patch: int | None,
    checkpoints: str | None,
    resume: bool,
    init: str | None,
    seed: int,
    device: str,
    val: str,
    val_every: int | None,
    save_every: int | None,
    log_every: int,
    keep: int,
    ema: float,
    amp: str,
    workers: int | None,
    preload: bool | None,
    subimages: int,
    export: Path | None,
    protocol: str,
    protocol_set: tuple[str, ...],
    quiet: bool,
) -> None:
    """Train recipe MODEL; checkpoints and logs go to CHECKPOINTS/<recipe>/<run>/.

    Many GPUs: `torchrun --nproc_per_node N -m srbench_eval.cli train ...` (DDP; rank 0 logs and saves).
    """
    from srbench_eval.models.checkpoints import check_writable, display_label, export_generator
    from srbench_eval.protocol import resolve as resolve_protocol
    from srbench_eval.ranks import from_environ
    from srbench_eval.training import TrainConfig
    from srbench_eval.training import train as run_training

    config = TrainConfig(
        model=model,
        preset=preset,
        scale=scale,
        data=data,
        mirror=mirror,
        overrides=overrides,
        iterations=iterations,
        batch_size=batch_size,
        hr_patch=hr_patch,
        checkpoints=checkpoints,
        resume=resume,
        init=init,
        seed=seed,
        device=device,
        val=val,
        val_every=val_every,
        save_every=save_every,
        log_every=log_every,
        keep=keep,
        ema=ema,
        amp=amp,
        workers=workers,
        preload=preload,
        subimages=subimages,
        protocol=protocol,
        protocol_set=protocol_set,
        progress=not quiet and sys.stderr.isatty(),
    )
    resolve_protocol(protocol, protocol_set)  # an unknown profile or field fails before training
    if export is not None:  # before training: a run must not end on an unwritable --export
        check_writable(export, "--export")
    result = run_training(config)
    if not from_environ().is_main:  # torchrun: rank 0 reports
        return
    label = display_label(result.label, preset)
    state = "finished" if result.finished else "stopped"
    click.echo(f"{label}: {state} at step {result.step}/{result.iterations}; checkpoint {result.checkpoint}")
    if result.val:
        v = result.val
        click.echo(
            f"validation on {config.val} x{result.scale}: "
            f"PSNR {v['psnr']:.2f} dB (bicubic {v['bicubic_psnr']:.2f}), "
            f"SSIM {v['ssim']:.4f} (bicubic {v['bicubic_ssim']:.4f})"
        )
    if result.timing.get("steps"):
        t = result.timing
        click.echo(f"throughput: {t['it_per_s']:.2f} it/s, {t['img_per_s']:.1f} images/s")
    if export is not None and result.checkpoint is not None:
        export_generator(result.checkpoint, export, half=True)
        click.echo(f"exported: {export} ({export.stat().st_size / 1024:.0f} KiB, float16 generator)")
    ckpt_root = f" --checkpoints {checkpoints}" if checkpoints else ""
    click.echo(f"evaluate: srbench-eval run --models bicubic,{model}{ckpt_root} --scale {result.scale}")
    click.echo(f"log: {Path(result.run_dir) / 'log.jsonl'}")
