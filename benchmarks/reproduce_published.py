"""Measure the classic published networks (oracles/weights) through ``srbench-eval run`` under their
authors' protocols and compare with the numbers their papers printed (published.yaml).

    PYTHONPATH=. python benchmarks/reproduce_published.py [--mirror DIR] [--out results/reproduce]
        [--datasets set5,set14] [--models srcnn-955@pub,...]

The same as, for each scale S::

    srbench-eval run --models bicubic,srcnn-955@pub,fsrcnn@pub,vdsr@pub --protocol srcnn --scale S \\
        --datasets set5,set14 --mirror DIR
    srbench-eval run --models lapsrn@pub --protocol lapsrn --scale S --datasets set5,set14 --mirror DIR

``DIR`` holds ``Set5/HR``, ``Set14/HR`` (``BSD100/HR``, ``Urban100/HR`` for those sets) and
``weights/<registry path>`` (default: a temporary folder of links into ../shared). ``--datasets``
picks the sets (e.g. ``bsd100,urban100`` for the held-out cells), ``--models`` keeps only the runs
holding those models. Prints one Markdown row per printed number of (model, dataset, scale): whose
number (the model's paper, or the other paper that printed it), published PSNR/SSIM, ours,
difference.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from srbench_eval.evaluation import RunConfig, run_evaluation
from srbench_eval.models.published import build as published

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HEADER = (
    "| model | dataset | scale | printed by | published PSNR/SSIM | measured PSNR/SSIM | diff dB | dSSIM |\n"
    "|---|---|---|---|---|---|---|---|"
)
RUNS = (  # (protocol, models, scales)
    ("srcnn", "bicubic,srcnn-955@pub,fsrcnn@pub,vdsr@pub", (2, 3, 4)),
    ("srcnn", "srcnn-915@pub", (3,)),
    ("lapsrn", "lapsrn@pub", (2, 4)),
)


def shared_mirror(folder: Path) -> Path:
    """A mirror folder of links into ../shared: ``Set5``, ``Set14``, ``BSD100``, ``Urban100``, ``weights``."""
    for name in ("Set5", "Set14", "BSD100", "Urban100"):
        (folder / name).symlink_to(SHARED / "benchmarks" / name, target_is_directory=True)
    (folder / "weights").symlink_to(SHARED / "oracles" / "weights", target_is_directory=True)
    return folder


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--mirror", default=None, help="folder with Set5/HR, Set14/HR, weights/ [default: ../shared]"
    )
    ap.add_argument("--out", default=None, help="keep the run folders here [default: a temporary folder]")
    ap.add_argument("--datasets", default="set5,set14", help="comma list of datasets [default: set5,set14]")
    ap.add_argument("--models", default=None, help="only the runs holding these models (comma list)")
    args = ap.parse_args()
    datasets = tuple(args.datasets.split(","))
    keep = set(args.models.split(",")) if args.models else None
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        mirror = Path(args.mirror) if args.mirror else shared_mirror(Path(tmp))
        out = Path(args.out) if args.out else Path(tmp) / "runs"
        print(HEADER)
        for protocol, models, scales in RUNS:
            if keep is not None and not keep & set(models.split(",")):
                continue
            for scale in scales:
                cfg = RunConfig(
                    models=tuple(models.split(",")),
                    scale=scale,
                    datasets=datasets,
                    protocol=protocol,
                    mirror=str(mirror),
                    device="cpu",
                )
                name = f"{protocol}-{models.split(',')[-1].removesuffix('@pub')}-x{scale}"
                summary = run_evaluation(cfg, out / name, progress=False)
                got = {(e.model, e.dataset, e.metric): e.value for e in summary.entries}
                for model in cfg.models:
                    for ds in dict.fromkeys(e.dataset for e in summary.entries):
                        print_rows(
                            model, ds, scale, got.get((model, ds, "psnr")), got.get((model, ds, "ssim"))
                        )
    return 0


def print_rows(model: str, ds: str, scale: int, psnr: float | None, ssim: float | None) -> None:
    """One row per number printed for this cell: the model's own paper's first, then other papers'
    (``also`` blocks of published.yaml). Bicubic has no registry entry (see the bicubic table)."""
    if psnr is None or ssim is None or not published.is_published(model):
        return
    for ref in published.get(model).scores:
        if (ref.dataset, ref.scale) != (ds.lower(), scale):
            continue
        ref_ssim = f"{ref.ssim:.4f}" if ref.ssim is not None else "-"
        d_ssim = f"{ssim - ref.ssim:+.4f}" if ref.ssim is not None else "-"
        print(
            f"| {model} | {ds} | x{scale} | {ref.by or 'its paper'} | {ref.psnr:.2f} / {ref_ssim} | "
            f"{psnr:.3f} / {ssim:.4f} | {psnr - ref.psnr:+.3f} | {d_ssim} |",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
