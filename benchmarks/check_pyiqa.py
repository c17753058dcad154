"""The ``pyiqa`` and ``pyiqa-ycbcr`` profiles against pyiqa's own functions, per image.

    pip download pyiqa==0.1.16 --no-deps -d /tmp/pyiqa_whl && unzip -q /tmp/pyiqa_whl/*.whl -d /tmp/pyiqa
    python benchmarks/check_pyiqa.py /tmp/pyiqa                  # print the per-image differences
    python benchmarks/check_pyiqa.py /tmp/pyiqa --write tests/data/pyiqa_reference.json

pyiqa is not a dependency and is never imported as a package here: its ``archs/psnr_arch.py`` and
``archs/ssim_arch.py`` (with ``utils/color_util.py``, ``matlab_utils`` and ``archs/func_util.py``)
are loaded from the unzipped wheel under stub parent packages, so its ``__init__`` (which pulls in
every learned metric's dependencies) never runs. Each pair is scored as the Real-ESRGAN/diffusion SR
followers score it (OSEDiff ``test_metrics.py``, SinSR ``evaluate.py``): both files read as RGB,
``float32 / 255`` tensors (torchvision ``to_tensor``), the HR mod-cropped to the SR's size,
``PSNR(test_y_channel=True, color_space=cs)`` and ``SSIM(color_space=cs)``, on the CPU (and
``psnr64``: that PSNR of the tensors cast to float64, to tell pyiqa's float32 round-off). The same
pairs go through ``srbench-eval run --protocol pyiqa|pyiqa-ycbcr --models LABEL=DIR`` (or
``bicubic``, whose SR images ``--save-sr`` keeps for pyiqa), and the script prints every
difference and the largest per metric. Needs ``../shared``.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SET5 = SHARED / "benchmarks" / "Set5" / "HR"
SET14 = SHARED / "benchmarks" / "Set14" / "HR"
PUBLISHED = SHARED / "oracles" / "published_sr"
SET14_IMAGES = ("baboon", "bridge", "monarch", "zebra")  # bridge.png is grey: pyiqa reads it as RGB
PROFILES = {"pyiqa": "yiq", "pyiqa-ycbcr": "ycbcr"}


def load_pyiqa(root: Path) -> tuple[types.ModuleType, types.ModuleType, str]:
    """pyiqa's ``psnr_arch`` and ``ssim_arch`` modules and its version, from an unzipped wheel at
    ``root`` (the folder holding ``pyiqa/``), under stub parent packages."""
    for name in ("pyiqa", "pyiqa.archs", "pyiqa.utils"):
        stub = types.ModuleType(name)
        stub.__path__ = [str(root / name.replace(".", "/"))]
        sys.modules[name] = stub
    version: dict[str, str] = {}
    exec((root / "pyiqa" / "version.py").read_text(), version)
    psnr_arch = importlib.import_module("pyiqa.archs.psnr_arch")
    ssim_arch = importlib.import_module("pyiqa.archs.ssim_arch")
    return psnr_arch, ssim_arch, str(version.get("__version__", "?"))


def _rgb(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """The image as pyiqa's callers read it (RGB, grey replicated), cut to ``size`` (top-left)."""
    a = np.asarray(Image.open(path).convert("RGB"))
    return np.ascontiguousarray(a if size is None else a[: size[0], : size[1]])


def pyiqa_scores(pairs: dict[str, tuple[Path, Path]], modules: tuple, color_space: str) -> dict:
    """image -> {psnr, ssim} by pyiqa on float32 [0, 1] tensors of each (SR, HR) file pair."""
    import torch

    psnr_arch, ssim_arch, _ = modules
    psnr = psnr_arch.PSNR(test_y_channel=True, color_space=color_space)
    ssim = ssim_arch.SSIM(color_space=color_space)
    out = {}
    for image, (sr_path, hr_path) in pairs.items():
        sr = _rgb(sr_path)
        hr = _rgb(hr_path, sr.shape[:2])  # the mod-crop: SR images are of the mod-cropped HR's size
        x, y = (torch.from_numpy(a).permute(2, 0, 1)[None].float().div(255) for a in (sr, hr))
        with torch.no_grad():  # psnr64: pyiqa's PSNR of the same tensors cast to float64
            out[image] = {"psnr": float(psnr(x, y)), "ssim": float(ssim(x, y))}
            out[image]["psnr64"] = float(psnr(x.double(), y.double()))
    return out


def run(args: list[str], out: Path) -> dict[str, dict[str, float]]:
    """``srbench-eval run ARGS --out OUT``: image -> {metric: value} of its ``results.csv``."""
    cmd = [sys.executable, "-m", "srbench_eval.cli", "run", "--quiet", "--device", "cpu", "--out", str(out)]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_WAIT_POLICY": "PASSIVE"}
    subprocess.run(cmd + args, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)
    scores: dict[str, dict[str, float]] = {}
    with open(out / "results.csv", newline="") as f:
        for row in csv.DictReader(f):
            scores.setdefault(row["image"], {})[row["metric"]] = float(row["value"])
    return scores


def cases(tmp: Path) -> list[tuple[str, list[str], dict[str, tuple[Path, Path]]]]:
    """(name, ``run`` arguments, image -> (SR file, HR file)) of every case; the bicubic SR images
    are made by a first ``run --save-sr`` into ``tmp``."""
    out = []
    for model, scale in (("RCAN", 4), ("RDN-BD", 3)):
        folder = PUBLISHED / model / f"x{scale}"
        pairs = {p.stem: (p, SET5 / f"{p.stem.split('_')[0]}.png") for p in sorted(folder.glob("*.png"))}
        pairs = {k.split("_")[0]: v for k, v in pairs.items()}
        args = ["--models", f"{model}={folder}", "--datasets", str(SET5), "--scale", str(scale)]
        out.append((f"{model}/Set5/x{scale}", args, pairs))
    hr = tmp / "Set14" / "HR"
    hr.mkdir(parents=True)
    for name in SET14_IMAGES:
        shutil.copy(SET14 / f"{name}.png", hr / f"{name}.png")
    saved = tmp / "bicubic-run"
    run(["--models", "bicubic", "--datasets", str(hr), "--scale", "4", "--save-sr"], saved)
    sr_dir = next((saved / "sr").rglob("*.png")).parent  # sr/MODEL/DATASET/IMAGE.png
    pairs = {p.stem: (p, hr / f"{p.stem}.png") for p in sorted(sr_dir.glob("*.png"))}
    out.append(
        ("bicubic/Set14/x4", ["--models", f"bicubic={sr_dir}", "--datasets", str(hr), "--scale", "4"], pairs)
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyiqa_root", type=Path, help="the unzipped pyiqa wheel (the folder holding pyiqa/)")
    parser.add_argument("--write", type=Path, help="write pyiqa's per-image values to this JSON file")
    ns = parser.parse_args()
    modules = load_pyiqa(ns.pyiqa_root)
    reference: dict[str, dict[str, dict]] = {p: {} for p in PROFILES}
    worst: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, pairs in cases(Path(tmp)):
            for profile, color_space in PROFILES.items():
                theirs = pyiqa_scores(pairs, modules, color_space)
                ours = run([*args, "--protocol", profile], Path(tmp) / f"{name.replace('/', '-')}-{profile}")
                reference[profile][name] = theirs
                for image, values in theirs.items():
                    for metric, value in values.items():
                        diff = ours[image][metric.removesuffix("64")] - value
                        key = (profile, metric)
                        worst[key] = max(worst.get(key, 0.0), abs(diff))
                        print(
                            f"{profile:12s} {name:18s} {image:10s} {metric:6s} pyiqa {value:.10f} "
                            f"ours {ours[image][metric.removesuffix('64')]:.10f} diff {diff:+.2e}"
                        )
    for (profile, metric), diff in sorted(worst.items()):
        print(f"max |ours - pyiqa| {profile} {metric}: {diff:.2e}")
    if ns.write:
        import torch

        data = {
            "source": f"pyiqa {modules[2]} (chaofengc/IQA-PyTorch), archs/psnr_arch.py "
            "PSNR(test_y_channel=True, color_space=cs) and archs/ssim_arch.py SSIM(color_space=cs) "
            "(psnr64: that PSNR of the tensors cast to float64), float32 [0, 1] tensors of the "
            "RGB files (HR mod-cropped to the SR size), CPU, by benchmarks/check_pyiqa.py",
            "pyiqa_version": modules[2],
            "torch_version": torch.__version__,
            "color_space": PROFILES,
            "values": reference,
        }
        ns.write.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"wrote {ns.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
