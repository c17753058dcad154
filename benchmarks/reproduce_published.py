"""Measure the classic published networks (oracles/weights) with their authors' test pipelines and
compare with the numbers their papers printed (srbench_eval/models/published.yaml).

    PYTHONPATH=. python benchmarks/reproduce_published.py [--models srcnn-955@pub,...] [--float-sr]

Prints one Markdown row per (model, dataset, scale): published PSNR/SSIM, ours, difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from srbench_eval.data.images import read_image
from srbench_eval.models import published, published_eval
from srbench_eval.models.formats import load_network

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="srcnn-955@pub,srcnn-915@pub,fsrcnn@pub,vdsr@pub,lapsrn@pub")
    ap.add_argument("--datasets", default="Set5,Set14")
    ap.add_argument("--scales", default="2,3,4")
    ap.add_argument("--float-sr", action="store_true", help="score the SR Y unrounded (Y-only pipeline)")
    ap.add_argument("--weights", default=str(SHARED / "oracles" / "weights"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    print("| model | dataset | scale | published PSNR/SSIM | measured PSNR/SSIM | diff dB | diff SSIM |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        entry = published.get(name)
        for ds in args.datasets.split(","):
            for scale in (int(s) for s in args.scales.split(",")):
                ref = entry.published_score(ds, scale)
                if ref is None or scale not in entry.scales:
                    continue
                t0 = time.time()
                f = entry.file_for(scale)
                net = load_network(Path(args.weights) / f.path, scale, entry.format, dict(f.options)).module
                rows = []
                for f in sorted((SHARED / "benchmarks" / ds / "HR").glob("*.png")):
                    hr = read_image(f)
                    if args.float_sr and entry.protocol == "srcnn":
                        rows.append(
                            published_eval.srcnn_pipeline(
                                net, entry.upsampled_input, hr, scale, round_sr=False
                            )
                        )
                    else:
                        rows.append(published_eval.score_as_authors(entry, net, hr, scale))
                p = float(np.mean([r.psnr for r in rows]))
                s = float(np.mean([r.ssim for r in rows]))
                ssim_ref = f"{ref.ssim:.4f}" if ref.ssim is not None else "-"
                ds_ = f"{s - ref.ssim:+.4f}" if ref.ssim is not None else "-"
                print(
                    f"| {name} | {ds} | x{scale} | {ref.psnr:.2f} / {ssim_ref} | {p:.3f} / {s:.4f} | "
                    f"{p - ref.psnr:+.3f} | {ds_} |  <!-- {time.time() - t0:.0f}s -->",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
