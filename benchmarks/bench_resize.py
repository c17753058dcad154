"""CPU seconds of the bicubic degradation and the bicubic upscaling over the standard test sets.

Times :func:`srbench_eval.data.degrade.bicubic.degrade` (HR -> LR) and
:func:`~srbench_eval.data.degrade.bicubic.bicubic_sr`
(LR -> SR) one image at a time in one thread (``time.thread_time``, so other processes on shared
cores count little), under the given protocols, and prints a SHA-256 digest of all their outputs, so
that two versions of the resize kernels can be compared for bit-identical results.

    .venv/bin/python benchmarks/bench_resize.py [--scale 4] [--protocols basicsr matlab] [--repeat 3]

Needs ``../shared/benchmarks`` (the HR mirror described in ``../shared/README.md``) or ``--root``.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = ROOT.parent / "shared" / "benchmarks"
DEFAULT_SETS = ("Set5", "Set14", "BSD100", "Urban100")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="folder holding <Set>/HR")
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS))
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--protocols", nargs="+", default=["basicsr", "matlab"])
    parser.add_argument("--repeat", type=int, default=3, help="report the best of this many passes")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    sys.path.insert(0, str(ROOT))

    import torch
    from hr_sets import hr_files

    from srbench_eval.data.degrade.bicubic import bicubic_sr, degrade
    from srbench_eval.data.io.images import read_image
    from srbench_eval.data.pairs import image_tensor, protocol_hr
    from srbench_eval.protocol import PROFILES

    torch.set_num_threads(1)
    files = hr_files(args.root, args.sets)
    images = [read_image(path) for path in files]
    cpu = torch.device("cpu")
    print(f"{len(files)} images ({', '.join(args.sets)}), x{args.scale}, one thread, best of {args.repeat}")
    for name in args.protocols:
        protocol = PROFILES[name]
        hrs = [image_tensor(protocol_hr(img, args.scale, protocol), cpu) for img in images]
        best = {"degradation": math.inf, "upscaling": math.inf}
        digest = hashlib.sha256()
        for rep in range(args.repeat + 1):  # the first pass compiles and fills the caches
            spent = {"degradation": 0.0, "upscaling": 0.0}
            for hr in hrs:
                clock = time.thread_time()
                lr = degrade(hr, args.scale, protocol)
                spent["degradation"] += time.thread_time() - clock
                clock = time.thread_time()
                sr = bicubic_sr(lr, args.scale, protocol)
                spent["upscaling"] += time.thread_time() - clock
                if rep == 0:
                    digest.update(lr.numpy().tobytes())
                    digest.update(sr.numpy().tobytes())
            if rep:
                best = {k: min(v, spent[k]) for k, v in best.items()}
        print(
            f"  {name:13s} degradation {best['degradation']:6.3f} CPU-s, "
            f"upscaling {best['upscaling']:6.3f} CPU-s, outputs sha256 {digest.hexdigest()[:16]}"
        )


if __name__ == "__main__":
    main()
