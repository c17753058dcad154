"""How much ``run --tile T --tile-overlap O`` changes a zoo model's output and scores.

    PYTHONPATH=. python benchmarks/tiling.py [--model rrdb] [--dataset ../shared/benchmarks/Set5/HR]

For each (T, O): the largest absolute difference of the 8-bit SR images from untiled inference,
the number of pixels that differ, and the change of the mean PSNR (default protocol, x4).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch

from srbench_eval.data.pairs import make_pair
from srbench_eval.metrics import MetricSettings
from srbench_eval.metrics.fidelity import PSNR
from srbench_eval.models.loading import resolve_model
from srbench_eval.protocol import DEFAULT

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="rrdb")
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "benchmarks" / "Set5" / "HR"))
    ap.add_argument("--tiles", default="32:0,32:4,32:8,32:16,64:8,64:16")
    args = ap.parse_args()
    torch.set_num_threads(2)
    cpu = torch.device("cpu")
    model = resolve_model(args.model, 4, cpu, checkpoints="zoo")
    pairs = [make_pair(p, 4, DEFAULT, cpu) for p in sorted(Path(args.dataset).glob("*.png"))]
    psnr = PSNR(MetricSettings(4, DEFAULT))

    def scores(tile: int, overlap: int) -> tuple[list[torch.Tensor], float]:
        model.tiling = (tile, overlap)
        srs = [model.sr_image(p.lr, p.hr, DEFAULT, "set", p.path.stem) for p in pairs]
        values = [float(psnr.score(sr, p.hr)[0]) for sr, p in zip(srs, pairs, strict=True)]
        return srs, math.fsum(values) / len(values)

    base, base_psnr = scores(0, 0)
    print(f"{args.model} x4 on {len(pairs)} images of {args.dataset}: untiled PSNR {base_psnr:.4f} dB")
    print("| tile | overlap | max abs diff (8-bit) | pixels differing | PSNR change dB |")
    print("|---|---|---|---|---|")
    for item in args.tiles.split(","):
        tile, overlap = (int(v) for v in item.split(":"))
        srs, value = scores(tile, overlap)
        diff = max(float((a - b).abs().max()) for a, b in zip(srs, base, strict=True))
        changed = sum(int((a != b).sum()) for a, b in zip(srs, base, strict=True))
        total = sum(b.numel() for b in base)
        row = f"| {tile} | {overlap} | {diff:.0f} | {changed} of {total} | {value - base_psnr:+.5f} |"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
