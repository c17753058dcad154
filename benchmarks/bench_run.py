"""Whole-process benchmark: ``srbench-eval run`` against BasicSR's pipeline, both as subprocesses.

    python benchmarks/bench_run.py [--root ../shared/benchmarks] [--sets Set5 Set14 BSD100 Urban100]
                                   [--repeat 3] [--scale 4] [--threads N]

Times, as a user feels them (interpreter start, imports, reading, degradation, scoring, results
files), ``srbench-eval run --models bicubic --scale S --protocol basicsr --datasets FOLDERS --quiet
--out TMP`` (a fresh ``--out`` each repetition) and ``benchmarks/basicsr_pipeline.py`` (BasicSR's
steps via ``tests/basicsr_reference.py``) on the same HR files; prints the median wall time of each,
the ratio, the median user+sys CPU time of each and the largest per-image difference of PSNR and
SSIM between our ``results.csv`` and the pipeline's CSV. ``--threads`` sets ``OMP_NUM_THREADS`` and
friends for both (default: inherited). Not a test (``tests/benchmarks`` only checks that it runs).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = ("Set5", "Set14", "BSD100", "Urban100")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT.parent / "shared" / "benchmarks",
        help="Folder holding SET/HR/ (or SET/ with the images) for each set.",
    )
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None, help="OMP/BLAS/numba threads of both.")
    return parser.parse_args(argv)


def hr_folders(root: Path, sets: list[str]) -> list[Path]:
    folders = []
    for name in sets:
        folder = root / name / "HR" if (root / name / "HR").is_dir() else root / name
        if not folder.is_dir():
            raise SystemExit(f"{folder}: not found; pass --root pointing at the HR mirror")
        folders.append(folder)
    return folders


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, user+sys CPU seconds of the child) of one subprocess run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def read_values(path: Path, ours: bool) -> dict[str, dict[str, dict[str, float]]]:
    """``dataset -> image -> {metric: value}`` of our results.csv or the pipeline's CSV."""
    values: dict[str, dict[str, dict[str, float]]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            images = values.setdefault(row["dataset"], {})
            if ours:
                images.setdefault(row["image"], {})[row["metric"]] = float(row["value"])
            else:
                images[row["image"]] = {"psnr": float(row["psnr"]), "ssim": float(row["ssim"])}
    return values


def paired(got: dict, want: dict) -> list[tuple[dict[str, float], dict[str, float]]]:
    """Per image (ours, pipeline's) values; the datasets are paired by their sets of image names
    (our labels are the registry's or the folders' names, the pipeline's the folders')."""
    by_images = {frozenset(images): images for images in got.values()}
    pairs = []
    for name, images in want.items():
        ours = by_images.get(frozenset(images))
        if ours is None:
            raise SystemExit(f"{name}: no dataset of our results.csv has the same images")
        pairs += [(ours[image], images[image]) for image in images]
    return pairs


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    folders = hr_folders(args.root, args.sets)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE"}
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[var] = str(args.threads)
    work = Path(tempfile.mkdtemp(prefix="srbench-bench-run-"))
    env.setdefault("SRBENCH_DATA", str(work / "data"))  # hash stamps of the folders, kept across runs
    datasets = ",".join(str(f) for f in folders)
    ours_cmd = [
        sys.executable,
        "-m",
        "srbench_eval.cli",
        "run",
        "--models",
        "bicubic",
        "--scale",
        str(args.scale),
        "--protocol",
        "basicsr",
        "--datasets",
        datasets,
        "--quiet",
    ]
    ref_csv = work / "basicsr.csv"
    ref_cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "basicsr_pipeline.py"),
        "--scale",
        str(args.scale),
        "--out",
        str(ref_csv),
        *map(str, folders),
    ]

    timed([*ours_cmd, "--out", str(work / "warm-up")], env)  # stamps the folders' hashes, warms numba's cache
    ours, ref = [], []
    for i in range(args.repeat):
        ours.append(timed([*ours_cmd, "--out", str(work / f"run{i}")], env))
        ref.append(timed(ref_cmd, env))
    pairs = paired(
        read_values(work / f"run{args.repeat - 1}" / "results.csv", True), read_values(ref_csv, False)
    )
    diff = {m: max(abs(ours[m] - theirs[m]) for ours, theirs in pairs) for m in ("psnr", "ssim")}
    figures = {
        "images": float(len(pairs)),
        "ours_wall": statistics.median(w for w, _ in ours),
        "basicsr_wall": statistics.median(w for w, _ in ref),
        "ours_cpu": statistics.median(c for _, c in ours),
        "basicsr_cpu": statistics.median(c for _, c in ref),
        "max_psnr_diff": diff["psnr"],
        "max_ssim_diff": diff["ssim"],
    }
    figures["ratio"] = figures["basicsr_wall"] / figures["ours_wall"]
    load = os.getloadavg()[0]
    print(
        f"{len(pairs)} images of {', '.join(args.sets)} at x{args.scale}, {args.repeat} runs (medians), "
        f"{os.cpu_count()} CPUs, load average {load:.2f}"
    )
    print(f"srbench-eval run : {figures['ours_wall']:7.2f} s wall, {figures['ours_cpu']:7.2f} s user+sys")
    print(
        f"BasicSR pipeline : {figures['basicsr_wall']:7.2f} s wall, {figures['basicsr_cpu']:7.2f} s user+sys"
    )
    print(
        f"ratio            : {figures['ratio']:7.2f}x wall, "
        f"{figures['basicsr_cpu'] / figures['ours_cpu']:.2f}x CPU"
    )
    print(f"largest per-image difference: PSNR {diff['psnr']:.2e} dB, SSIM {diff['ssim']:.2e}")
    return figures


if __name__ == "__main__":
    main()
