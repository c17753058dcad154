"""The values a restructure must not move: SHA-256 of ``results.csv`` of a fixed set of runs.

    python benchmarks/values_snapshot.py OUT.json           # run everything, write the digests
    python benchmarks/values_snapshot.py OUT.json --compare BEFORE.json

Runs (every protocol profile at x2-x4 on Set5+Set14; the four sets at x4 for ``matlab`` and
``basicsr``; the zoo models with LPIPS, FID, MS-SSIM and VIF on stand-in weights; the published Y
networks under their authors' protocols) with the CLI, each into a fresh folder, and records the
digest of each ``results.csv``. Needs ``../shared``. ``SNAPSHOT_ONLY=PREFIX`` runs only the runs
whose name starts with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MIRROR = str(SHARED / "benchmarks")
PROFILES = ("matlab", "matlab-legacy", "matlab-double", "selfexsr", "srcnn", "lapsrn", "basicsr")

RUNS: dict[str, list[str]] = {}
for _p in PROFILES:
    RUNS[f"bicubic-{_p}-x234"] = [
        "--models",
        "bicubic",
        "--datasets",
        "set5,set14",
        "--scale",
        "2,3,4",
        "--protocol",
        _p,
        "--mirror",
        MIRROR,
    ]
for _p in ("matlab", "basicsr"):
    RUNS[f"bicubic-{_p}-four-x4"] = [
        "--models",
        "bicubic",
        "--datasets",
        "set5,set14,bsd100,urban100",
        "--scale",
        "4",
        "--protocol",
        _p,
        "--mirror",
        MIRROR,
    ]
RUNS["zoo-demo-set5-x4"] = [
    "--models",
    "bicubic,srcnn,lapsrn-fdl,rrdb,rrdb-sog",
    "--checkpoints",
    "zoo",
    "--datasets",
    "demo,set5",
    "--scale",
    "4",
    "--mirror",
    MIRROR,
    "--metrics",
    "psnr,ssim,lpips,lpips-vgg,fid,ms-ssim,vif",
]
_FOLDERS = f"s5={MIRROR}/Set5/HR,s14={MIRROR}/Set14/HR"
_ORACLES = str(SHARED / "oracles")
RUNS["published-srcnn-x3"] = [
    "--models",
    "bicubic,srcnn-955@pub,fsrcnn@pub,vdsr@pub",
    "--protocol",
    "srcnn",
    "--scale",
    "3",
    "--datasets",
    _FOLDERS,
    "--mirror",
    _ORACLES,
]
RUNS["published-lapsrn-x4"] = [
    "--models",
    "lapsrn@pub",
    "--protocol",
    "lapsrn",
    "--scale",
    "4",
    "--datasets",
    _FOLDERS,
    "--mirror",
    _ORACLES,
]


def _stand_ins(home: Path) -> None:
    sys.path.insert(0, str(ROOT))
    import torch

    from srbench_eval import weights  # noqa: PLC0415 - after the path is set
    from tests.conftest import STAND_IN_BUILDERS

    os.environ["TORCH_HOME"] = str(home)
    ckpt = weights.checkpoint_dir()
    ckpt.mkdir(parents=True, exist_ok=True)
    for key in ("alexnet", "vgg16", "inception-fid"):
        torch.save(STAND_IN_BUILDERS[key](), ckpt / weights.get(key).filename)


def main() -> None:
    out = Path(sys.argv[1])
    work = Path(tempfile.mkdtemp(prefix="snapshot-"))
    _stand_ins(work / "torch_home")
    env = {
        **os.environ,
        "TORCH_HOME": str(work / "torch_home"),
        "SRBENCH_DATA": str(work / "data"),
        "SRBENCH_OFFLINE": "1",
    }
    from srbench_eval import weights

    env[weights.ALLOW_STAND_INS_ENV] = "1"
    cli = [sys.executable, "-m", "srbench_eval.cli"]
    digests: dict[str, str] = {}
    only = os.environ.get("SNAPSHOT_ONLY", "")
    for name, args in RUNS.items():
        if only and not name.startswith(only):
            continue
        run = work / name
        done = subprocess.run(
            [*cli, "run", *args, "--out", str(run)], env=env, capture_output=True, text=True
        )
        if done.returncode:
            digests[name] = f"FAILED: {done.stderr.strip().splitlines()[-1:]}"
        else:
            for csv in sorted(run.rglob("results.csv")):
                key = f"{name}/{csv.parent.relative_to(run)}"
                digests[key] = hashlib.sha256(csv.read_bytes()).hexdigest()
        print(name, "done", flush=True)
    out.write_text(json.dumps(digests, indent=1) + "\n")
    if "--compare" in sys.argv:
        before = json.loads(Path(sys.argv[sys.argv.index("--compare") + 1]).read_text())
        keys = (before.keys() | digests.keys()) if not only else digests.keys()
        moved = {k for k in keys if before.get(k) != digests.get(k)}
        for k in sorted(moved):
            print("MOVED", k, before.get(k), digests.get(k))
        print(f"{len(digests) - len(moved)} of {len(digests)} results.csv identical")
        sys.exit(1 if moved else 0)


if __name__ == "__main__":
    main()
