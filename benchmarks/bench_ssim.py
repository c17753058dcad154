"""Time the SSIM kernels (:func:`~srbench_eval.metrics.fidelity_kernels.ssim_hr_moments`, the HR side,
and :func:`~srbench_eval.metrics.fidelity_kernels.ssim_sum`, the SR side) over the benchmark HR
images, against the kernels they replaced (the frozen copy in ``tests/metrics/ssim_kernels_before.py``),
one thread, and check that both give the same bits on every image.

Images: every HR file of the given sets, mod-cropped to ``--scale``, border ``--scale``, in the two
forms the kernels take: the RGB image as float32 ``(3, H, W)`` (a grey file as ``(1, H, W)``), the
default protocol's input, and a float64 Y plane ``(1, H, W)`` (a protocol with its own Y rule). The SR
image is the HR image plus seeded noise, rounded and clipped (a stand-in: the timings do not depend
on the values). Each kernel runs ``--repeat`` times per image, old and new in turn; the best time
per image is summed over the images.

    python benchmarks/bench_ssim.py                       # Set5+Set14+BSD100+Urban100, x4
    python benchmarks/bench_ssim.py --sets Set5 --repeat 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETS = ("Set5", "Set14", "BSD100", "Urban100")
C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def load(root: Path, sets: list[str], scale: int) -> list[np.ndarray]:
    """``(C, H, W)`` float32 0..255 HR images, mod-cropped."""
    from srbench_eval.data.io.images import is_image_file, modcrop, read_image

    images = []
    for name in sets:
        for f in sorted(p for p in (root / name / "HR").iterdir() if is_image_file(p)):
            img = modcrop(read_image(f), scale)
            img = img[:, :, None] if img.ndim == 2 else img
            images.append(np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32))
    return images


def stand_in_sr(hr: np.ndarray, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, 8.0, hr.shape)
    return np.clip(np.round(hr + noise), 0, 255).astype(hr.dtype)


def y_plane(img: np.ndarray) -> np.ndarray:
    """The float64 Y plane ``(1, H, W)`` of an RGB image (the image itself if grey)."""
    from srbench_eval.metrics.fidelity_compiled import luma_float32

    if img.shape[0] == 1:
        return img.astype(np.float64)
    return luma_float32(img[None])[0]


def time_kernels(modules: dict, hr: np.ndarray, sr: np.ndarray, border: int, repeat: int) -> dict:
    """Best seconds per kernel and module on one pair; asserts the modules give the same bits."""
    from srbench_eval.metrics.fidelity import SSIM_GAUSSIAN, Y_OFFSET, Y_WEIGHTS

    channels, height, width = hr.shape
    weights = np.array(Y_WEIGHTS if channels == 3 else (255.0,)) / 255.0
    offset = Y_OFFSET if channels == 3 else 0.0
    shape = (height - 2 * border, width - 2 * border)
    valid = (shape[0] - 10, shape[1] - 10)
    best: dict[tuple[str, str], float] = {}
    out = {}
    for _ in range(repeat):
        for name, module in modules.items():
            y, mu, sq = np.empty(shape), np.empty(valid), np.empty(valid)
            t0 = time.perf_counter()
            module.ssim_hr_moments(hr, border, weights, offset, SSIM_GAUSSIAN, y, mu, sq)
            t1 = time.perf_counter()
            total = module.ssim_sum(sr, border, weights, offset, SSIM_GAUSSIAN, y, mu, sq, C1, C2)
            t2 = time.perf_counter()
            for kernel, t in (("moments", t1 - t0), ("sum", t2 - t1)):
                best[name, kernel] = min(best.get((name, kernel), np.inf), t)
            out[name] = (y, mu, sq, total)
    (y0, mu0, sq0, s0), (y1, mu1, sq1, s1) = out.values()
    same = all(
        np.array_equal(a.view(np.int64), b.view(np.int64)) for a, b in ((y0, y1), (mu0, mu1), (sq0, sq1))
    )
    assert same and s0 == s1, "the kernels differ"
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", default=str(ROOT.parent / "shared" / "benchmarks"))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from srbench_eval.metrics import fidelity_kernels
    from tests.metrics import ssim_kernels_before

    modules = {"before": ssim_kernels_before, "after": fidelity_kernels}
    images = load(Path(args.root), args.sets.split(","), args.scale)
    mpix = sum(img.shape[1] * img.shape[2] for img in images) / 1e6
    print(f"{len(images)} images, {mpix:.1f} MP, x{args.scale} mod-crop, border {args.scale}", end="")
    print(f", best of {args.repeat}")
    warm = np.ascontiguousarray(images[0][:, :40, :40])
    for module in modules.values():  # compile (or load from numba's cache) outside the timings
        for img in (warm, y_plane(warm)):
            time_kernels({"a": module, "b": module}, img, img, 4, 1)
    for form in ("RGB float32", "Y float64"):
        totals: dict[tuple[str, str], float] = {}
        for k, hr in enumerate(images):
            if form == "Y float64":
                hr = y_plane(hr)
            best = time_kernels(modules, hr, stand_in_sr(hr, k), args.scale, args.repeat)
            for key, t in best.items():
                totals[key] = totals.get(key, 0.0) + t
        for kernel in ("moments", "sum"):
            old, new = totals["before", kernel], totals["after", kernel]
            print(
                f"{form:12s} {kernel:8s} before {old:6.3f} s  after {new:6.3f} s  "
                f"({old / new:.2f}x; {1e9 * new / (mpix * 1e6):.2f} ns/pixel)  same bits: yes"
            )


if __name__ == "__main__":
    main()
