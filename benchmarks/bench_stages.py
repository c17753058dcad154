"""Where a run's CPU time goes: each stage of ``srbench-eval run --models bicubic`` alone, one image
after the other, in one thread.

    .venv/bin/python benchmarks/bench_stages.py [--root ../shared/benchmarks] [--scale 4]
        [--sets Set5 Set14 BSD100 Urban100] [--protocol basicsr] [--repeat 2]

Calls the library's own functions as the run calls them on the CPU (NumPy arrays, the compiled
kernels; the allocator set as ``run`` sets it): reading (decode + mod-crop, the protocol's HR), the
float batch, the LR degradation, each metric's HR side (``Metric.reference``; with the Y plane made
once and shared, as the run does where the protocol's Y is not the plain float one), the bicubic
upscaling and each metric's SR side, and prints the ``time.process_time`` seconds of each stage
summed over the images (the last of ``--repeat`` passes, after the kernels are loaded). Not a test
(``tests/benchmarks`` only checks that it runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--sets", nargs="+", default=["Set5", "Set14", "BSD100", "Urban100"])
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--protocol", default="basicsr")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"
    sys.path.insert(0, str(ROOT))

    from hr_sets import hr_files

    from srbench_eval.allocator import keep_freed_memory
    from srbench_eval.data.degrade.bicubic import degrade
    from srbench_eval.data.io.images import decode_image
    from srbench_eval.data.pairs import image_batch, protocol_hr
    from srbench_eval.metrics import MetricSettings, get_metric
    from srbench_eval.metrics.sample import Sample
    from srbench_eval.models.loading import BicubicModel
    from srbench_eval.protocol import resolve

    keep_freed_memory()
    files = hr_files(args.root, args.sets)
    protocol = resolve(args.protocol, [])
    settings = MetricSettings(args.scale, protocol, "cpu")
    psnr, ssim = get_metric("psnr")(settings), get_metric("ssim")(settings)
    model = BicubicModel("bicubic", args.scale)
    rule = protocol.y if protocol.y != "float" else None  # the run's Samples share Y under this rule
    for _ in range(args.repeat):
        watch = Stopwatch()
        lap = watch.lap
        for path in files:
            watch.start()
            img = protocol_hr(decode_image(path), args.scale, protocol)
            lap("PNG decoding + mod-crop")
            hr = image_batch(img)
            lap("float batch")
            lr = degrade(hr, args.scale, protocol)
            lap("LR degradation")
            hr_sample = Sample(hr, rule, channels_last=True)
            hr_y = hr_sample.for_metric(psnr)
            lap("HR Y plane (shared)")
            psnr_ref, ssim_ref = psnr.reference(hr_y), ssim.reference(hr_sample.for_metric(ssim))
            lap("HR side of PSNR and SSIM")
            sr = model.sr_image(lr, hr, protocol, "-", path.stem)
            lap("bicubic upscaling")
            sr_y = Sample(sr, rule).for_metric(psnr)
            lap("SR Y plane (shared)")
            psnr.update(sr_y, hr_y, psnr_ref)
            lap("PSNR, SR side")
            ssim.update(sr_y, hr_y, ssim_ref)
            lap("SSIM, SR side")
    sets = ", ".join(args.sets)
    print(f"{len(files)} images of {sets}, x{args.scale}, protocol {args.protocol}, one thread:")
    for stage, seconds in watch.totals.items():
        print(f"  {stage:26s} {seconds:6.2f} CPU-s")
    print(f"  {'total':26s} {sum(watch.totals.values()):6.2f} CPU-s")
    return watch.totals


class Stopwatch:
    """CPU seconds (``time.process_time``) summed per stage: :meth:`lap` closes the stage that
    :meth:`start` or the previous lap opened."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._clock = time.process_time()

    def start(self) -> None:
        self._clock = time.process_time()

    def lap(self, stage: str) -> None:
        now = time.process_time()
        self.totals[stage] = self.totals.get(stage, 0.0) + now - self._clock
        self._clock = now


if __name__ == "__main__":
    main()
