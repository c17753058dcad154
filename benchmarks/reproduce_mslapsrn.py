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

PUBLISHED: the printed cells whose source was verified (MS-LapSRN D5R8 x2 Set14/BSD100/Urban100 PSNR).
UNVERIFIED: the other cells, written from memory, never read in the papers: shown as a hint marked
"unverified", not published numbers; check them against the PDFs before citing.
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
from srbench_eval.protocol import resolve

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FOLDERS = {"set5": "Set5", "set14": "Set14", "bsd100": "BSD100", "urban100": "Urban100"}
# (model, dataset, scale) -> PSNR printed by a source we could verify: MS-LapSRN D5R8 x2 (TPAMI 2018) as
# copied by fperazzi/proSR's README (cited in ../shared/oracles/README.md); Set14 was scored with the grey
# ``bridge`` as its own Y (``--grey y``). These are the cells ``published.yaml`` records.
PUBLISHED: dict[tuple[str, str, int], float] = {
    ("mslapsrn-d5r8", "set14", 2): 33.28,
    ("mslapsrn-d5r8", "bsd100", 2): 32.05,
    ("mslapsrn-d5r8", "urban100", 2): 31.15,
}
# UNVERIFIED: (PSNR, SSIM) written down from memory of MS-LapSRN's TPAMI Table 7 and LapSRN's CVPR
# Table 4 by an earlier engineer, never read in the papers nor found in a searchable source. Shown
# only as a hint, marked "unverified"; they are NOT published numbers and are not registered.
UNVERIFIED: dict[tuple[str, str, int], tuple[float, float]] = {
    ("mslapsrn-d5r8", "set5", 2): (37.78, 0.960),
    ("mslapsrn-d5r8", "set5", 4): (31.74, 0.889),
    ("mslapsrn-d5r8", "set14", 4): (28.26, 0.774),
    ("mslapsrn-d5r8", "bsd100", 4): (27.43, 0.731),
    ("mslapsrn-d5r8", "urban100", 4): (25.51, 0.768),
    ("mslapsrn-d5r8", "set5", 8): (26.34, 0.753),
    ("mslapsrn-d5r8", "set14", 8): (24.57, 0.629),
    ("mslapsrn-d5r8", "bsd100", 8): (24.65, 0.592),
    ("mslapsrn-d5r8", "urban100", 8): (22.06, 0.598),
    ("lapsrn-x8", "set5", 8): (26.15, 0.738),
    ("lapsrn-x8", "set14", 8): (24.35, 0.620),
    ("lapsrn-x8", "bsd100", 8): (24.54, 0.586),
    ("lapsrn-x8", "urban100", 8): (21.81, 0.581),
}
HEADER = (
    "| model | dataset | scale | published PSNR | measured PSNR/SSIM | diff dB | unverified PSNR/SSIM "
    "| images | s |\n|---|---|---|---|---|---|---|---|---|"
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
                print_row(model, ds, scale, got_psnr, got_ssim, n, seconds)
                if args.jsonl:
                    row = {"model": model, "dataset": ds, "scale": scale, "grey": args.grey, "psnr": got_psnr}
                    with open(args.jsonl, "a") as f:
                        f.write(
                            json.dumps({**row, "ssim": got_ssim, "images": n, "seconds": round(seconds)})
                            + "\n"
                        )
    return 0


def print_row(
    model: str, ds: str, scale: int, got_psnr: float, got_ssim: float, n: int, seconds: float
) -> None:
    """One Markdown row: the verified printed PSNR, ours, the difference, the unverified (recalled)
    cell if any, the image count and seconds."""
    ref = PUBLISHED.get((model, ds, scale))
    pub, diff = (f"{ref:.2f}", f"{got_psnr - ref:+.3f}") if ref else ("-", "-")
    hint = UNVERIFIED.get((model, ds, scale))
    recalled = f"{hint[0]:.2f} / {hint[1]:.3f} (unverified)" if hint else "-"
    print(
        f"| {model} | {ds} | x{scale} | {pub} | {got_psnr:.3f} / {got_ssim:.4f} | {diff} | {recalled} "
        f"| {n} | {seconds:.0f} |",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
