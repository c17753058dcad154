"""Training throughput of ``srbench-eval train`` against a plain hand-written PyTorch loop.

Both train the same small RRDBNet (L1 loss, Adam, MultiStepLR: the ``rrdb`` recipe) on the same
batches of the same patch stream (:class:`srbench_eval.data.patches.PatchDataset`, aligned MATLAB
bicubic pairs) in one process. The harness runs through :func:`srbench_eval.training.train` with
validation off and a single checkpoint at the end (checkpoint and validation time are not loop
time); the plain loop is ``next(batch) -> net(lr) -> l1 -> backward -> step -> scheduler``. The
runs alternate ``--repeat`` times and the best of each is reported: iterations/s, images/s and the
ratio harness / plain (target: at least 0.9 on CPU).

    .venv/bin/python benchmarks/bench_train.py [--device cpu|cuda] [--threads 2] [--iterations 30]

Training images: ``../shared/benchmarks/SunHays80/HR`` when present (``--data``), else synthetic
ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "SunHays80" / "HR"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of HR training images")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--patch", type=int, default=64, help="HR patch (LR patch = patch / 4)")
    parser.add_argument("--num-feat", type=int, default=32)
    parser.add_argument("--num-block", type=int, default=2)
    parser.add_argument("--num-grow-ch", type=int, default=16)
    parser.add_argument("--amp", choices=("auto", "bf16", "off"), default="auto", help="both loops alike")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs; the best of each is kept")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see benchmarks/bench_bicubic.py
    sys.path.insert(0, str(ROOT))

    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader

    from srbench_eval.data.patches import PatchDataset, StreamSampler, pairs_from_folder
    from srbench_eval.models.archs.rrdbnet import RRDBNet
    from srbench_eval.models.recipes.named import get_recipe
    from srbench_eval.training import TrainConfig, train
    from srbench_eval.training.state import make_optimizer, make_scheduler

    torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    amp = args.amp == "bf16" or (args.amp == "auto" and device.type == "cuda")
    scale, n, b, p = 4, args.iterations, args.batch_size, args.patch
    size = {"num_feat": args.num_feat, "num_block": args.num_block, "num_grow_ch": args.num_grow_ch}
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    os.environ.setdefault("SRBENCH_DATA", str(tmp / "data"))
    data = args.data
    if not data.is_dir():
        data = synthetic_images(tmp / "hr")

    pairs = pairs_from_folder(data, scale, preload=True)
    spec = get_recipe("rrdb").train

    def plain() -> float:
        """The hand-written loop; returns its seconds for ``n`` iterations."""
        torch.manual_seed(0)
        net = RRDBNet(scale, **size).to(device).train()
        opt = make_optimizer(net, spec, spec.lr)  # torch.optim.Adam(lr=2e-4, betas=(0.9, 0.99))
        sched = make_scheduler(opt, spec)
        loader = DataLoader(PatchDataset(pairs, scale, p), batch_size=b, sampler=StreamSampler(b))
        batches = iter(loader)
        start = time.perf_counter()
        for _ in range(n):
            lr, hr = (t.to(device, non_blocking=True) for t in next(batches))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = F.l1_loss(net(lr), hr)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        loss.item()  # wait for the device
        return time.perf_counter() - start

    def harness(run: int) -> float:
        config = TrainConfig(
            model="rrdb",
            preset="paper",
            data=str(data),
            val="none",
            iterations=n,
            batch_size=b,
            hr_patch=p,
            overrides=tuple(f"arch.{k}={v}" for k, v in size.items()),
            checkpoints=str(tmp / f"ckpt{run}"),
            log_every=n,
            save_every=n,
            device=str(device),
            amp="bf16" if amp else "off",
            workers=0,
            preload=True,
            progress=False,
        )
        return train(config).timing["seconds"]

    plain_s, harness_s = [], []
    for run in range(args.repeat):  # alternate, and swap who goes first, against drifts of the machine
        if run % 2:
            harness_s.append(harness(run))
            plain_s.append(plain())
        else:
            plain_s.append(plain())
            harness_s.append(harness(run))
    best_plain, best_harness = min(plain_s), min(harness_s)
    median = statistics.median(p / h for p, h in zip(plain_s, harness_s, strict=True))
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} threads"
    print(f"device {device} ({where}), amp {'bf16' if amp else 'off'}")
    print(f"rrdb {size}, x{scale}, batch {b}, HR patch {p}, {n} iterations, best of {args.repeat}")
    for name, s in (("plain PyTorch loop", best_plain), ("srbench-eval train", best_harness)):
        print(f"  {name:20s} {n / s:8.2f} it/s {n * b / s:9.1f} images/s   ({s:.2f} s)")
    ratio = best_plain / best_harness
    print(
        f"  ratio harness/plain: {ratio:.3f} of the best runs, {median:.3f} median of pairs (target >= 0.9)"
    )
    print(
        f"  all runs (s): plain {[round(s, 2) for s in plain_s]}, harness {[round(s, 2) for s in harness_s]}"
    )


def synthetic_images(folder: Path, n: int = 8) -> Path:
    import numpy as np

    from srbench_eval.data.io.images import write_image

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:256, 0:256]
    for i in range(n):
        img = np.stack([127 + 90 * np.sin(x / (3 + i + c) + y / (5 + c)) for c in range(3)], axis=2)
        write_image(folder / f"{i}.png", np.clip(img + rng.normal(0, 10, img.shape), 0, 255).astype(np.uint8))
    return folder


if __name__ == "__main__":
    main()
