"""Time the bicubic x4 protocol (read, degrade, upscale, Y-PSNR, Y-SSIM) on the standard test sets.

Runs what ``srbench-eval run --models bicubic --metrics psnr,ssim`` runs (:func:`run_evaluation`,
results files included) and a straightforward per-image NumPy/OpenCV reference
(``tests/matlab_reference.py``: MATLAB ``contributions()`` matrices, ``cv2.filter2D`` SSIM) over the
same HR files in one process, then prints both times, their ratio and the largest per-image
difference of the metric values.

    .venv/bin/python benchmarks/bench_bicubic.py [--device cpu|cuda] [--threads 2] [--sets Set5 ...]

Needs ``../shared/benchmarks`` (the HR mirror described in ``../shared/README.md``) or ``--root``.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = ROOT.parent / "shared" / "benchmarks"
DEFAULT_SETS = ("Set5", "Set14", "BSD100", "Urban100")

Scores = list[tuple[float, float]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="folder holding <Set>/HR")
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS))
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads for both paths")
    parser.add_argument("--repeat", type=int, default=1, help="report the best of this many runs")
    parser.add_argument(
        "--stages", action="store_true", help="also time each stage of the library alone, one image at a time"
    )
    return parser.parse_args()


def limit_threads(threads: int) -> None:
    """Thread counts of the OpenMP/BLAS runtimes; must run before NumPy, OpenCV and torch are imported.

    A passive OpenMP wait keeps torch's idle threads from spinning: on cores shared with other
    processes, spinning makes every parallel region wait for a time slice (measured on the 2-core
    development machine: 100 BSD100 images in 1.3 s alone, 124 s beside another busy process).
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> None:
    args = parse_args()
    limit_threads(args.threads)
    sys.path.insert(0, str(ROOT))

    import cv2
    import numpy as np
    import torch
    from hr_sets import hr_files

    from srbench_eval.data.io.images import read_image
    from srbench_eval.evaluation import RunConfig, run_evaluation
    from tests import matlab_reference as ref

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    os.environ.setdefault("SRBENCH_DATA", tempfile.mkdtemp(prefix="srbench-bench-"))  # hash stamps
    work = Path(tempfile.mkdtemp(prefix="srbench-bench-runs-"))

    files = hr_files(args.root, args.sets)
    config = RunConfig(
        models=("bicubic",),
        scale=args.scale,
        datasets=tuple(name.lower() for name in args.sets),
        metrics=("psnr", "ssim"),
        device=device.type,
        mirror=str(args.root),
    )
    runs = iter(range(1_000_000))

    def library(paths: list[Path]) -> Scores:
        """``srbench-eval run``'s own loop (read-ahead threads, batched metrics, results files)."""
        out = work / f"run{next(runs)}"
        run_evaluation(config, out, progress=False)
        values: dict[tuple[str, str], dict[str, float]] = {}
        with open(out / "results.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                values.setdefault((row["dataset"], row["image"]), {})[row["metric"]] = float(row["value"])
        keys = [(p.parent.parent.name.lower(), p.stem) for p in paths]
        return [(values[k]["psnr"], values[k]["ssim"]) for k in keys]

    def reference(paths: list[Path]) -> Scores:
        """The NumPy/OpenCV reference, one image at a time."""
        return [ref.evaluate_bicubic(read_image(path), args.scale) for path in paths]

    def read_only(paths: list[Path]) -> Scores:
        for path in paths:
            read_image(path)
        return []

    def timed(fn: Callable[[list[Path]], Scores]) -> tuple[float, Scores]:
        best, result = math.inf, []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = fn(files)
            best = min(best, time.perf_counter() - start)
        return best, result

    library(files)  # warm-up: kernels, resize matrices, the datasets' hash stamps, the file cache
    read_only(files)
    load = os.getloadavg()[0]
    t_lib, lib = timed(library)
    t_ref, refs = timed(reference)
    t_read, _ = timed(read_only)

    if args.stages:
        print_stages(files, args.scale, device)
    lib_a, ref_a = np.array(lib), np.array(refs)
    print(f"{len(files)} images ({', '.join(args.sets)}), x{args.scale}; torch {torch.__version__}")
    print(f"{args.threads} threads, {os.cpu_count()} CPUs, load average before the run {load:.2f}")
    print(f"library ({device.type}):  {t_lib:8.2f} s")
    print(f"reference (numpy): {t_ref:8.2f} s")
    print(f"ratio:             {t_ref / t_lib:8.2f} x")
    print(f"reading the images alone: {t_read:.2f} s (both paths read; the library overlaps it)")
    print(f"max |dPSNR| per image: {np.abs(lib_a[:, 0] - ref_a[:, 0]).max():.3g} dB")
    print(f"max |dSSIM| per image: {np.abs(lib_a[:, 1] - ref_a[:, 1]).max():.3g}")
    for name in args.sets:
        sel = [k for k, p in enumerate(files) if p.parent.parent.name == name]
        print(f"  {name:9s} {lib_a[sel, 0].mean():.4f} dB / {lib_a[sel, 1].mean():.4f}")


def print_stages(files: list[Path], scale: int, device: object) -> None:
    """Time of each stage of the library's per-image work, summed over the images, one after the
    other (no overlap): where the CPU time goes."""
    import torch

    from srbench_eval.data.degrade.bicubic import degrade_bicubic_tensor, imresize_uint8
    from srbench_eval.data.io.images import modcrop, read_image
    from srbench_eval.data.pairs import image_tensor
    from srbench_eval.metrics.fidelity import psnr, ssim, ssim_reference

    totals: dict[str, float] = {}
    for path in files:
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            totals[stage] = totals.get(stage, 0.0) + now - clock
            clock = now

        img = modcrop(read_image(path), scale)
        lap("read + modcrop")
        hr_cpu = image_tensor(img, torch.device("cpu"))
        lr = degrade_bicubic_tensor(hr_cpu, scale).to(str(device))  # as make_pair does it
        hr = hr_cpu.to(str(device))
        lap("LR degradation")
        ref = ssim_reference(hr, scale)
        lap("SSIM, HR side")
        sr = imresize_uint8(lr, scale)
        lap("bicubic upscaling")
        psnr(sr, hr, scale)
        lap("PSNR")
        ssim(sr, hr, scale, ref)
        lap("SSIM, SR side")
    print(f"stages, one image at a time, {torch.get_num_threads()} torch threads:")
    for stage, seconds in totals.items():
        print(f"  {stage:18s} {seconds:6.2f} s")
    print(f"  {'total':18s} {sum(totals.values()):6.2f} s")


if __name__ == "__main__":
    main()
