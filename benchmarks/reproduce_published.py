"""Measure the classic published networks (oracles/weights) through ``srbench-eval run`` under their
authors' protocols and compare with the numbers their papers printed (published.yaml).

    PYTHONPATH=. python benchmarks/reproduce_published.py [--mirror DIR] [--out results/reproduce]

The same as, for each scale S::

    srbench-eval run --models bicubic,srcnn-955@pub,fsrcnn@pub,vdsr@pub --protocol srcnn --scale S \\
        --datasets set5,set14 --mirror DIR
    srbench-eval run --models lapsrn@pub --protocol lapsrn --scale S --datasets set5,set14 --mirror DIR

``DIR`` holds ``Set5/HR``, ``Set14/HR`` and ``weights/<registry path>`` (default: a temporary folder
of links into ../shared). Prints one Markdown row per (model, dataset, scale): published PSNR/SSIM,
ours, difference.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from srbench_eval.evaluation import RunConfig, run_evaluation
from srbench_eval.models import published

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RUNS = (  # (protocol, models, scales)
    ("srcnn", "bicubic,srcnn-955@pub,fsrcnn@pub,vdsr@pub", (2, 3, 4)),
    ("srcnn", "srcnn-915@pub", (3,)),
    ("lapsrn", "lapsrn@pub", (2, 4)),
)


def shared_mirror(folder: Path) -> Path:
    """A mirror folder of links into ../shared: ``Set5``, ``Set14``, ``weights``."""
    for name in ("Set5", "Set14"):
        (folder / name).symlink_to(SHARED / "benchmarks" / name, target_is_directory=True)
    (folder / "weights").symlink_to(SHARED / "oracles" / "weights", target_is_directory=True)
    return folder


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--mirror", default=None, help="folder with Set5/HR, Set14/HR, weights/ [default: ../shared]"
    )
    ap.add_argument("--out", default=None, help="keep the run folders here [default: a temporary folder]")
    args = ap.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        mirror = Path(args.mirror) if args.mirror else shared_mirror(Path(tmp))
        out = Path(args.out) if args.out else Path(tmp) / "runs"
        print("| model | dataset | scale | published PSNR/SSIM | measured PSNR/SSIM | diff dB | diff SSIM |")
        print("|---|---|---|---|---|---|---|")
        for protocol, models, scales in RUNS:
            for scale in scales:
                cfg = RunConfig(
                    models=tuple(models.split(",")),
                    scale=scale,
                    datasets=("set5", "set14"),
                    protocol=protocol,
                    mirror=str(mirror),
                    device="cpu",
                )
                name = f"{protocol}-{models.split(',')[-1].removesuffix('@pub')}-x{scale}"
                summary = run_evaluation(cfg, out / name, progress=False)
                got = {(e.model, e.dataset, e.metric): e.value for e in summary.entries}
                for model in cfg.models:
                    for ds in ("Set5", "Set14"):
                        print_row(
                            model, ds, scale, got.get((model, ds, "psnr")), got.get((model, ds, "ssim"))
                        )
    return 0


def print_row(model: str, ds: str, scale: int, psnr: float | None, ssim: float | None) -> None:
    paper_psnr = published.paper_value(model, ds, scale, "psnr")
    if paper_psnr is None or psnr is None or ssim is None:
        return
    paper_ssim = published.paper_value(model, ds, scale, "ssim")
    ref_ssim = f"{paper_ssim:.4f}" if paper_ssim is not None else "-"
    d_ssim = f"{ssim - paper_ssim:+.4f}" if paper_ssim is not None else "-"
    print(
        f"| {model} | {ds} | x{scale} | {paper_psnr:.2f} / {ref_ssim} | {psnr:.3f} / {ssim:.4f} | "
        f"{psnr - paper_psnr:+.3f} | {d_ssim} |",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
