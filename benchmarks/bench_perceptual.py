"""Time LPIPS and FID in the harness against one-image-at-a-time loops of the reference packages.

Reference loops, as a user of the packages writes them for images of different sizes:

* LPIPS: ``lpips.LPIPS(net="alex")`` called per (SR, HR) pair under ``torch.no_grad``.
* FID: pytorch-fid's ``InceptionV3`` (default resize and input range) per image, batch size 1 (its
  ``get_activations`` cannot batch images of different sizes), then ``np.mean``/``np.cov`` and
  ``calculate_frechet_distance`` (``scipy.linalg.sqrtm``).

The harness: the registered metrics fed one (SR, HR) pair at a time, as the evaluation loop does.
FID is timed for the first model of a dataset (HR features computed) and for a further model
(HR features from the per-process cache). Each measurement runs in a fresh process, so its peak
resident memory (and peak CUDA memory on a GPU) is its own; "+MB" is the peak above the memory
held before the timed loop (the images, the network).

SR images are bicubic x``scale`` down- and up-scalings of the HR images (a stand-in SR model:
timings do not depend on the values). Without published weights, ``--stand-in`` builds seeded
random networks under the real file names in a temporary TORCH_HOME: timings are valid, the
values printed are not FID/LPIPS values of anything.

    python benchmarks/bench_perceptual.py --hr-dir ../shared/benchmarks/Set14/HR --stand-in
    python benchmarks/bench_perceptual.py --hr-dir ../shared/benchmarks/Urban100/HR --limit 10 \
        --metrics fid,fid-patch --skip-reference --stand-in     # memory on large images
"""

from __future__ import annotations

import argparse
import atexit
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from queue import Empty

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_pairs(hr_dir: str, scale: int, limit: int | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(SR, HR) float32 ``(1, C, H, W)`` tensors of 0..255; HR mod-cropped to the scale."""
    from srbench_eval.data.io.images import is_image_file, modcrop, read_image
    from srbench_eval.data.pairs import image_tensor

    files = sorted(p for p in Path(hr_dir).iterdir() if is_image_file(p))[:limit]
    pairs = []
    for f in files:
        img = modcrop(read_image(f), scale)
        hr = image_tensor(img, torch.device("cpu"))
        h, w = hr.shape[-2:]
        lr = F.interpolate(hr, size=(h // scale, w // scale), mode="bicubic", antialias=True)
        sr = F.interpolate(lr, size=(h, w), mode="bicubic").clamp(0, 255).round()
        pairs.append((sr.contiguous(), hr.contiguous()))
    return pairs


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rgb(x: torch.Tensor) -> torch.Tensor:
    return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x


# --------------------------------------------------------------------------- the measured loops


def lpips_reference(pairs, device):
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = lpips.LPIPS(net="alex", verbose=False).to(device)

    def run():
        with torch.no_grad():
            return [
                float(model(_rgb(s.to(device)) / 127.5 - 1, _rgb(h.to(device)) / 127.5 - 1)) for s, h in pairs
            ]

    return run


def lpips_harness(pairs, device, cached_hr: bool = False, read_ahead: bool = False):
    """The registered metric fed pair by pair. ``read_ahead``: as ``srbench-eval run`` feeds it, the
    HR half (:meth:`reference`) computed by the evaluation loop's read-ahead threads while the main
    thread scores the previous SR images."""
    from srbench_eval.data.pairs import read_ahead as ahead
    from srbench_eval.metrics import MetricSettings, get_metric, lpips_metric

    settings = MetricSettings(scale=4, device=device)
    first = get_metric("lpips")(settings)  # load the network outside the timed loop
    if cached_hr:  # a first model fills the HR cache outside the timed loop
        for s, h in pairs:
            first.update(s.to(device), h.to(device))

    def run():
        if not cached_hr:
            lpips_metric.HR_FEATURES.clear()
        metric = get_metric("lpips")(settings)
        if not read_ahead:
            return [float(metric.update(s.to(device), h.to(device))[0]) for s, h in pairs]

        def prepare(pair):
            s, h = pair[0].to(device), pair[1].to(device)
            return s, h, metric.reference(h)

        return [float(metric.update(s, h, ref)[0]) for s, h, ref in ahead(pairs, prepare)]

    return run


def _scipy_sqrtm_compat() -> None:
    """pytorch-fid 0.3.0 calls ``scipy.linalg.sqrtm(..., disp=False)``; SciPy 1.18 removed ``disp``."""
    import scipy.linalg

    from tests.conftest import sqrtm_with_disp

    scipy.linalg.sqrtm = sqrtm_with_disp(scipy.linalg.sqrtm)
    warnings.filterwarnings("ignore", message="The `disp` argument is deprecated")


def fid_reference(pairs, device, patch: int | None = None):
    from pytorch_fid.fid_score import calculate_frechet_distance

    _scipy_sqrtm_compat()
    from pytorch_fid.inception import InceptionV3

    from srbench_eval.metrics.fid import FeatureStats, frechet_distance, grid_patches

    model = InceptionV3([3]).to(device).eval()

    def samples(x):
        x = _rgb(x.to(device)) / 255
        return x if patch is None else grid_patches(x, patch)

    def run():
        acts = []
        with torch.no_grad():
            for k in (0, 1):  # all SR images, then all HR images, one at a time
                rows = [model(p[None])[0].flatten(1) for pair in pairs for p in samples(pair[k])]
                acts.append(torch.cat(rows).double().cpu().numpy())
        t = time.perf_counter()
        value = calculate_frechet_distance(
            acts[0].mean(0), np.cov(acts[0], rowvar=False), acts[1].mean(0), np.cov(acts[1], rowvar=False)
        )
        run.distance_s = time.perf_counter() - t
        # the exact formula on the same activations separates feature from sqrtm differences
        stats = [FeatureStats(), FeatureStats()]
        for st, a in zip(stats, acts, strict=True):
            st.add(torch.from_numpy(a))
        run.exact = frechet_distance(*stats)
        return [float(value)]

    return run


def fid_harness(pairs, device, patch: int | None = None, cached_hr: bool = False):
    from srbench_eval.metrics import MetricSettings, get_metric
    from srbench_eval.metrics import fid as fid_module

    settings = MetricSettings(scale=4, device=device)
    name, opts = ("fid", {}) if patch is None else ("fid-patch", {"patch_size": patch})
    if cached_hr:  # a first model fills the HR cache outside the timed loop
        first = get_metric(name)(settings, **opts)
        for s, h in pairs:
            first.update(s.to(device), h.to(device))
        first.compute()
    else:
        get_metric(name)(settings, **opts)

    def run():
        if not cached_hr:
            fid_module.HR_FEATURES.clear()
        metric = get_metric(name)(settings, **opts)
        for s, h in pairs:
            metric.update(s.to(device), h.to(device))
        t = time.perf_counter()
        value = metric.compute()
        run.distance_s = time.perf_counter() - t  # compute(): the last batches' features + distance
        return [value.value]

    return run


LOOPS = {
    "lpips/reference": lambda p, d, a: lpips_reference(p, d),
    "lpips/harness": lambda p, d, a: lpips_harness(p, d),
    "lpips/harness, HR cached": lambda p, d, a: lpips_harness(p, d, cached_hr=True),
    "lpips/harness, read-ahead": lambda p, d, a: lpips_harness(p, d, read_ahead=True),
    "fid/reference": lambda p, d, a: fid_reference(p, d),
    "fid/harness": lambda p, d, a: fid_harness(p, d),
    "fid/harness, HR cached": lambda p, d, a: fid_harness(p, d, cached_hr=True),
    "fid-patch/reference": lambda p, d, a: fid_reference(p, d, a.patch_size),
    "fid-patch/harness": lambda p, d, a: fid_harness(p, d, a.patch_size),
    "fid-patch/harness, HR cached": lambda p, d, a: fid_harness(p, d, a.patch_size, cached_hr=True),
}


def measure(name: str, args: argparse.Namespace) -> dict:
    """Run one loop ``args.repeat`` times (after one warm-up) in this (fresh) process."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    pairs = load_pairs(args.hr_dir, args.scale, args.limit)
    run = LOOPS[name](pairs, device, args)
    if not args.no_warmup:
        run()
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        cuda_base = torch.cuda.memory_allocated(device)
    base = rss_mb()
    times, distance = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        values = run()
        _sync(device)
        times.append(time.perf_counter() - t)
        distance.append(getattr(run, "distance_s", 0.0))
    out = {
        "name": name,
        "time": min(times),
        "distance": distance[int(np.argmin(times))],
        "values": values,
        "rss_peak": peak_rss_mb(),
        "rss_extra": peak_rss_mb() - base,
        "images": len(pairs),
        "exact": getattr(run, "exact", None),
    }
    if device.type == "cuda":
        out["cuda_extra"] = (torch.cuda.max_memory_allocated(device) - cuda_base) / 2**20
    return out


def _child(name: str, args: argparse.Namespace, queue: mp.Queue) -> None:
    try:
        queue.put(measure(name, args))
    except BaseException:
        queue.put({"name": name, "error": traceback.format_exc()})
        raise


def in_fresh_process(name: str, args: argparse.Namespace) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, args, queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Empty:
            if not proc.is_alive():
                result = {"name": name, "error": f"the measuring process died (exit code {proc.exitcode})"}
                break
    proc.join()
    if "error" in result:
        sys.exit(f"{name}: {result['error']}")
    return result


def write_stand_ins(keys: list[str]) -> str:
    """Seeded stand-in weights under the real file names in a temporary TORCH_HOME (tests' builders)."""
    from srbench_eval import weights
    from tests.conftest import STAND_IN_BUILDERS

    home = tempfile.mkdtemp(prefix="bench_torch_home_")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["TORCH_HOME"] = home
    os.environ[weights.ALLOW_STAND_INS_ENV] = "1"
    ckpt = weights.checkpoint_dir()
    ckpt.mkdir(parents=True)
    for key in keys:
        torch.save(STAND_IN_BUILDERS[key](), ckpt / weights.get(key).filename)
    return home


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hr-dir", default=str(ROOT.parent / "shared" / "benchmarks" / "Set14" / "HR"))
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--limit", type=int, default=None, help="first N images only")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--metrics", default="lpips,fid", help="comma list of lpips, fid, fid-patch")
    ap.add_argument("--patch-size", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--skip-reference", action="store_true", help="harness only (memory on large images)")
    ap.add_argument("--stand-in", action="store_true", help="seeded random weights (timing only)")
    args = ap.parse_args()

    metrics = args.metrics.split(",")
    if args.stand_in:
        keys = (["alexnet"] if "lpips" in metrics else []) + (
            ["inception-fid"] if "fid" in args.metrics else []
        )
        home = write_stand_ins(keys)
        print(f"*** STAND-IN WEIGHTS in {home}: timings valid, values are NOT LPIPS/FID values ***")
    threads = args.threads or torch.get_num_threads()
    n = len(load_pairs(args.hr_dir, args.scale, args.limit))
    print(f"{args.hr_dir} x{args.scale}: {n} images; device {args.device}; {threads} CPU threads")
    print(f"torch {torch.__version__}")

    for metric in metrics:
        names = [k for k in LOOPS if k.split("/")[0] == metric]
        if args.skip_reference:
            names = [k for k in names if "reference" not in k]
        print(f"\n{metric}", flush=True)
        results = {}
        for k in names:
            results[k] = r = in_fresh_process(k, args)
            mem = f"peak RSS {r['rss_peak']:.0f} MB (+{r['rss_extra']:.0f} MB in the loop)"
            if "cuda_extra" in r:
                mem += f", CUDA +{r['cuda_extra']:.0f} MB"
            extra = f" (distance/compute {r['distance']:.2f} s)" if metric.startswith("fid") else ""
            print(f"  {k.split('/')[1]:<22} {r['time']:8.2f} s{extra}  {mem}", flush=True)
        ref = results.get(f"{metric}/reference")
        har = results.get(f"{metric}/harness")
        if ref and har:
            diff = np.max(np.abs(np.array(ref["values"]) - np.array(har["values"])))
            rel = diff / max(np.max(np.abs(ref["values"])), 1e-12)
            speed = ref["time"] / har["time"]
            print(f"  speed-up {speed:.2f}x; max |difference| {diff:.2e} (relative {rel:.1e})")
            if ref["exact"] is not None:
                print(
                    f"  values: pytorch-fid {ref['values'][0]:.9g}, exact formula on its activations "
                    f"{ref['exact']:.9g}, harness {har['values'][0]:.9g}"
                )
            ahead = results.get(f"{metric}/harness, read-ahead")
            if ahead:
                diff = np.max(np.abs(np.array(ref["values"]) - np.array(ahead["values"])))
                print(
                    f"  speed-up with the HR half in the read-ahead threads (as in `run`) "
                    f"{ref['time'] / ahead['time']:.2f}x; max |difference| {diff:.2e}"
                )
            cached = results.get(f"{metric}/harness, HR cached")
            if cached:
                print(f"  speed-up for a further model of the dataset {ref['time'] / cached['time']:.2f}x")


if __name__ == "__main__":
    main()
