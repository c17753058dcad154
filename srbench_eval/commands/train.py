"""`srbench-eval train`: train one recipe of the model zoo (one config, one call)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from srbench_eval.commands.evaluation import degradation_option, protocol_options
from srbench_eval.commands.train_options import QUIET, train_options
from srbench_eval.models.checkpoints import check_writable, display_label, export_generator
from srbench_eval.protocol import resolve as resolve_protocol
from srbench_eval.ranks import from_environ
from srbench_eval.weights import mirror_in_use


@click.command()
@train_options
@protocol_options()
@degradation_option("the validation images' LR is made (the training pairs stay bicubic)")
@QUIET
def train(export: Path | None, quiet: bool, degradation: str | None, **options: Any) -> None:
    """Train recipe MODEL; checkpoints and logs go to CHECKPOINTS/<recipe>/<run>/.

    Many GPUs: `torchrun --nproc_per_node N -m srbench_eval.cli train ...` (DDP; rank 0 logs and saves).
    """
    from srbench_eval.training import TrainConfig
    from srbench_eval.training import train as run_training

    if degradation is not None:  # as `run --degradation`: the validation protocol's lr_source
        options["protocol_set"] = (*options["protocol_set"], f"lr_source={degradation}")
    config = TrainConfig(**options, progress=not quiet)  # a bar on a terminal, else a line per interval
    resolve_protocol(
        config.protocol, config.protocol_set
    )  # an unknown profile or field fails before training
    if export is not None:  # before training: a run must not end on an unwritable --export
        check_writable(export, "--export")
    with mirror_in_use(config.mirror):  # the losses' VGG/ResNet weights: cache, then this mirror
        result = run_training(config)
    if not from_environ().is_main:  # torchrun: rank 0 reports
        return
    label = display_label(result.label, config.preset)
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
    ckpt_root = f" --checkpoints {config.checkpoints}" if config.checkpoints else ""
    click.echo(
        f"evaluate: srbench-eval run --models bicubic,{config.model}{ckpt_root} --scale {result.scale}"
    )
    click.echo(f"log: {Path(result.run_dir) / 'log.jsonl'}")
