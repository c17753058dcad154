"""Measure MS-LapSRN (TPAMI 2018) and LapSRN x8 (CVPR 2017) from the authors' MatConvNet files under
their test protocol and compare with the printed tables.

    PYTHONPATH=. python benchmarks/reproduce_mslapsrn.py [--datasets set5,set14,bsd100,urban100]
        [--models mslapsrn-d5r8,lapsrn-x8] [--scales 2,4,8] [--weights DIR] [--jsonl FILE]

The protocol is ``lapsrn`` (:mod:`srbench_eval.protocol`), the one of ``evaluate_MSLapSRN_dataset.m``
and ``test_LapSRN.m``: ``HR = mod_crop(im2double(imread), s)``, ``LR = imresize(HR, 1/s)`` in double
(unrounded), the network on ``Y(LR)`` (float ``rgb2ycbcr``), Cb/Cr from ``imresize(ycbcr(LR), s)``,
``ycbcr2rgb``, the SR image saved as uint8 (rounded), then Y-channel PSNR and MATLAB's built-in ``ssim``
with ``s`` border pixels shaved. Each image runs through :func:`srbench_eval.data.pairs.make_pair`,
:func:`~srbench_eval.models.feeding.model_input` / ``model_output`` and the library's metrics, exactly as
``srbench-eval run`` scores a Y network. Prints one Markdown row per (model, dataset, scale), appends
JSON lines to ``--jsonl`` as it goes (a long run can be read while it runs).

Set14's ``bridge`` is a grey PNG. The ``lapsrn`` profile replicates it to RGB (``Y = 16 + 219 g / 255``),
which is what LapSRN's CVPR x2/x4 Set14 cells need; the MS-LapSRN (TPAMI) Set14 cells and the LapSRN x8
Set14 cell are about 0.095 dB lower, i.e. ``20 log10(255 / 219) / 14``: there ``bridge`` was scored as
its own Y. ``--grey y`` runs that variant (it changes nothing on Set5, BSD100 and Urban100, which hold
no grey files).

The published column is the cell ``published.yaml`` records with a cited source (MS-LapSRN D5R8
Set14/BSD100/Urban100 x2/x4/x8 from the fperazzi/proSR README; LapSRN x8 Set5/Set14/BSD100 from the
lexuszhi1990/ntire2018 README), ``-`` where no source was found (MS-LapSRN Set5, D5R5, D5R2, LapSRN x8
Urban100). ``--scales 3`` runs MS-LapSRN between its levels as ``SR_MSLapSRN.m`` does (the x4 pyramid
resized to x3, :class:`~srbench_eval.models.archs.mslapsrn.FixedScale`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from srbench_eval.data.pairs import make_pair
from srbench_eval.metrics.fidelity import psnr, ssim_matlab
from srbench_eval.models.archs.mslapsrn import FixedScale
from srbench_eval.models.feeding import model_input, model_output
from srbench_eval.models.published.formats import load_network
from srbench_eval.models.published.mslapsrn_mat import load_mslapsrn
from srbench_eval.models.published.registry import get
from srbench_eval.protocol import resolve

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FOLDERS = {"set5": "Set5", "set14": "Set14", "bsd100": "BSD100", "urban100": "Urban100"}
REGISTERED = {"lapsrn-x8": "lapsrn@pub"}  # the published.yaml entry of each model (else NAME@pub)


def published(model: str, dataset: str, scale: int) -> float | None:
    """The printed PSNR ``published.yaml`` records for the cell (a cited source), if any."""
    entry = get(REGISTERED.get(model, f"{model}@pub"))
    score = entry.published_score(dataset, scale)
    return score.psnr if score is not None else None


HEADER = (
    "| model | dataset | scale | grey | published PSNR | measured PSNR/SSIM | diff dB | images | s |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def network(model: str, scale: int, weights: Path) -> Callable[[torch.Tensor], torch.Tensor]:
    """The Y network of ``model`` at ``scale``: ``mslapsrn-d5r{2,5,8}`` or ``lapsrn-x8`` (a DagNN)."""
    if model.startswith("mslapsrn-"):
        name = "MSLapSRN_" + model.removeprefix("mslapsrn-").upper()
        return FixedScale(load_mslapsrn(weights / "mslapsrn" / f"{name}.mat"), scale).eval()
    if model == "lapsrn-x8":
        return load_network(weights / "lapsrn" / "LapSRN_x8.mat", scale).module.eval()
    raise SystemExit(f"unknown model {model!r}; mslapsrn-d5r2/d5r5/d5r8 or lapsrn-x8")


def score_dataset(
    net: Callable[[torch.Tensor], torch.Tensor], folder: Path, scale: int, grey: str = "rgb"
) -> tuple[float, float, int]:
    """Mean PSNR and SSIM over the HR images of ``folder`` under the ``lapsrn`` protocol, grey images
    replicated to RGB (``grey = rgb``, the profile's) or scored as their own Y (``grey = y``)."""
    protocol = dataclasses.replace(resolve("lapsrn"), grey=grey)
    psnrs, ssims = [], []
    for path in sorted(folder.glob("*.png")):
        pair = make_pair(path, scale, protocol, "cpu")
        lr = torch.as_tensor(np.asarray(pair.lr))
        hr = torch.as_tensor(np.asarray(pair.hr)).to(torch.float64)
        with torch.no_grad():
            out = net(model_input(protocol, lr).to(torch.float32))
        sr = model_output(protocol, out, lr, scale)
        border = protocol.crop(scale)
        psnrs.append(float(psnr(sr, hr, border)[0]))
        ssims.append(float(ssim_matlab(sr, hr, border)[0]))
    return float(np.mean(psnrs)), float(np.mean(ssims)), len(psnrs)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="set5,set14,bsd100,urban100")
    ap.add_argument("--models", default="mslapsrn-d5r8,lapsrn-x8")
    ap.add_argument("--scales", default="2,4,8", help="MS-LapSRN scales; lapsrn-x8 runs at x8 only")
    ap.add_argument("--weights", default=str(SHARED / "oracles" / "weights"))
    ap.add_argument("--benchmarks", default=str(SHARED / "benchmarks"))
    ap.add_argument("--jsonl", default=None, help="append one JSON line per cell here")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--grey", default="rgb", choices=("rgb", "y"), help="Set14 bridge: replicated or its own Y"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(HEADER, flush=True)
    for ds in args.datasets.split(","):
        for model in args.models.split(","):
            scales = (8,) if model == "lapsrn-x8" else tuple(int(s) for s in args.scales.split(","))
            for scale in scales:
                start = time.time()
                net = network(model, scale, Path(args.weights))
                got_psnr, got_ssim, n = score_dataset(
                    net, Path(args.benchmarks) / FOLDERS[ds] / "HR", scale, args.grey
                )
                seconds = time.time() - start
                print_row(model, ds, scale, args.grey, (got_psnr, got_ssim), n, seconds)
                if args.jsonl:
                    row = {"model": model, "dataset": ds, "scale": scale, "grey": args.grey, "psnr": got_psnr}
                    with open(args.jsonl, "a") as f:
                        f.write(
                            json.dumps({**row, "ssim": got_ssim, "images": n, "seconds": round(seconds)})
                            + "\n"
                        )
    return 0


def print_row(
    model: str, ds: str, scale: int, grey: str, got: tuple[float, float], n: int, seconds: float
) -> None:
    """One Markdown row: the printed PSNR with a cited source (or ``-``), ours (PSNR / SSIM), the
    difference, the image count and seconds."""
    ref = published(model, ds, scale)
    pub, diff = (f"{ref:.2f}", f"{got[0] - ref:+.3f}") if ref is not None else ("-", "-")
    print(
        f"| {model} | {ds} | x{scale} | {grey} | {pub} | {got[0]:.3f} / {got[1]:.4f} | {diff} | {n} "
        f"| {seconds:.0f} |",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
