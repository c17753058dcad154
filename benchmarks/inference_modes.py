"""PSNR/SSIM per inference mode (fp32, bf16, self-ensemble) of the four zoo models (srbench_eval/zoo),
or of the published Y networks under their authors' protocol:

    PYTHONPATH=. python benchmarks/inference_modes.py [--datasets set5] [--mirror ../shared/benchmarks]
    PYTHONPATH=. python benchmarks/inference_modes.py --published --datasets s5=../shared/benchmarks/Set5/HR \
        --mirror ../shared/oracles

Prints a Markdown table of the means and the deltas against plain fp32 (the README's table), and
how long each mode took. CPU only (bf16 by torch.autocast on the CPU).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from srbench_eval.cli import main

MODELS = ("srcnn", "lapsrn-fdl", "rrdb", "rrdb-sog")
PUBLISHED = ("srcnn-955@pub", "fsrcnn@pub", "vdsr@pub")
"""The published Y networks under ``--protocol srcnn`` at x3 (their authors' test code)."""
MODES = {"fp32": [], "bf16": ["--precision", "bf16"], "fp32+": ["--self-ensemble"]}


def _means(out: Path) -> dict[tuple[str, str], float]:
    summary = json.loads((out / "summary.json").read_text())
    return {(e["model"].split("+")[0].split(" [")[0], e["metric"]): e["value"] for e in summary["results"]}


def main_(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="set5")
    ap.add_argument("--mirror", default=None)
    ap.add_argument("--published", action="store_true", help="the published Y networks (srcnn protocol, x3)")
    args = ap.parse_args(argv)
    if args.published:
        base = ["run", "--quiet", "--models", ",".join(PUBLISHED), "--protocol", "srcnn", "--scale", "3"]
    else:
        base = ["run", "--quiet", "--models", ",".join(MODELS), "--checkpoints", "zoo", "--scale", "4"]
    base += ["--datasets", args.datasets, "--metrics", "psnr,ssim", "--device", "cpu", "--no-cache"]
    base += ["--mirror", args.mirror] if args.mirror else []
    values, seconds = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode, extra in MODES.items():
            start = time.perf_counter()
            assert main([*base, "--out", f"{tmp}/{mode}", *extra]) == 0
            seconds[mode] = time.perf_counter() - start
            values[mode] = _means(Path(tmp) / mode)
    print(f"{args.datasets} x{3 if args.published else 4}, Y PSNR / SSIM")
    print("| model | fp32 PSNR / SSIM | bf16 ΔPSNR / ΔSSIM | self-ensemble ΔPSNR / ΔSSIM |")
    print("|:--|--:|--:|--:|")
    for name in sorted({k[0] for k in values["fp32"]}):
        p, s = values["fp32"][(name, "psnr")], values["fp32"][(name, "ssim")]
        cells = [f"{p:.4f} / {s:.5f}"]
        for mode in ("bf16", "fp32+"):
            dp, ds = values[mode][(name, "psnr")] - p, values[mode][(name, "ssim")] - s
            cells.append(f"{dp:+.4f} / {ds:+.5f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("seconds (CPU): " + ", ".join(f"{m} {t:.1f}" for m, t in seconds.items()))


if __name__ == "__main__":
    main_()
