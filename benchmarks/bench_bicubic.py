"""Time the bicubic x4 protocol (read, degrade, upscale, Y-PSNR, Y-SSIM) on the standard test sets.

Runs the library's torch path (:mod:`srbench_eval.data.degrade`, :mod:`srbench_eval.metrics.fidelity`)
and a straightforward per-image NumPy/OpenCV reference (``tests/matlab_reference.py``: MATLAB
``contributions()`` matrices, ``cv2.filter2D`` SSIM) over the same HR files in one process, then
prints both times, their ratio and the largest per-image difference of the metric values.

    .venv/bin/python benchmarks/bench_bicubic.py [--device cpu|cuda] [--threads 2] [--sets Set5 ...]

Needs ``../shared/benchmarks`` (the HR mirror described in ``../shared/README.md``) or ``--root``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
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

    from srbench_eval.data.degrade import degrade_bicubic_tensor, round_uint8, upscale_bicubic
    from srbench_eval.data.images import is_image_file, modcrop, read_image
    from srbench_eval.metrics.fidelity import psnr, ssim
    from tests import matlab_reference as ref

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))

    files: list[Path] = []
    for name in args.sets:
        folder = args.root / name / "HR"
        if not folder.is_dir():
            raise SystemExit(f"{folder}: not found; pass --root pointing at the HR mirror")
        files.extend(sorted(p for p in folder.iterdir() if is_image_file(p)))

    def library(paths: list[Path]) -> Scores:
        """The library path, one image at a time, as the evaluation loop feeds it."""
        scores: Scores = []
        for path in paths:
            hr_img = modcrop(read_image(path), args.scale)
            hr = torch.from_numpy(hr_img).to(device)
            hr = (hr[None] if hr.ndim == 2 else hr.permute(2, 0, 1))[None].to(torch.float64)
            lr = degrade_bicubic_tensor(hr, args.scale)
            sr = round_uint8(upscale_bicubic(lr, args.scale))
            values = torch.stack((psnr(sr, hr, args.scale), ssim(sr, hr, args.scale)), dim=1)
            scores.append((float(values[0, 0]), float(values[0, 1])))
        return scores

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

    library(files[:1])  # warm-up: kernels, weight caches, file cache
    read_only(files)
    load = os.getloadavg()[0]
    t_lib, lib = timed(library)
    t_ref, refs = timed(reference)
    t_read, _ = timed(read_only)

    lib_a, ref_a = np.array(lib), np.array(refs)
    print(f"{len(files)} images ({', '.join(args.sets)}), x{args.scale}; torch {torch.__version__}")
    print(f"{args.threads} threads, {os.cpu_count()} CPUs, load average before the run {load:.2f}")
    print(f"library ({device.type}):  {t_lib:8.2f} s")
    print(f"reference (numpy): {t_ref:8.2f} s")
    print(f"ratio:             {t_ref / t_lib:8.2f} x   (reading the images alone: {t_read:.2f} s)")
    print(f"ratio, reading excluded: {(t_ref - t_read) / (t_lib - t_read):.2f} x")
    print(f"max |dPSNR| per image: {np.abs(lib_a[:, 0] - ref_a[:, 0]).max():.3g} dB")
    print(f"max |dSSIM| per image: {np.abs(lib_a[:, 1] - ref_a[:, 1]).max():.3g}")
    for name in args.sets:
        sel = [k for k, p in enumerate(files) if p.parent.parent.name == name]
        print(f"  {name:9s} {lib_a[sel, 0].mean():.4f} dB / {lib_a[sel, 1].mean():.4f}")


if __name__ == "__main__":
    main()
