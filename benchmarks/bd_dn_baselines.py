"""The Bicubic rows of RDN's BD and DN tables, measured, and RDN's released BD/DN SR images re-scored.

    PYTHONPATH=. python benchmarks/bd_dn_baselines.py [--root ../shared/benchmarks]
        [--oracles ../shared/oracles] [--sets Set5,Set14,BSD100,Urban100]

1. **BD** (x3): for every HR image of each set, ``LR = degrade_bd(HR, 3)``
   (:mod:`srbench_eval.data.degrade.blur`, RDN's ``imresize_BD``), the Bicubic SR
   ``bicubic_sr(LR, 3, matlab)`` (MATLAB ``imresize(LR, 3, 'bicubic')`` on uint8), scored against
   ``modcrop(HR, 3)`` with crop 3 and Wang's SSIM, mean PSNR/SSIM per set, under two Y rules:
   ``float`` (:func:`srbench_eval.metrics.fidelity.psnr`: ``Y = rgb2ycbcr(im2double)``, grey images
   replicated to RGB as the script does) and ``rounded`` (Y of the uint8 image rounded, as
   ``compute_difference.m`` scores; a grey HR image scored on its grey values).
2. **DN** (x3, Set5): the Bicubic SR of the released LRDN files (RDN's and SRFBN's) and of ours
   (:func:`srbench_eval.data.degrade.noise.degrade_dn`, equal to them pixel for pixel), same scores.
3. RDN's released SR images (``published_sr/RDN-BD``, ``RDN-DN``) scored with the float rule against
   ``rdn_bd_dn_logs.json`` (its ``Evaluate_PSNR_SSIM.m``): the largest per-image difference.

Published Bicubic rows (RDN, CVPR 2018, Table 3; ``../shared/oracles/README.md``) are printed next to
each cell. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from srbench_eval.data.degrade.bicubic import bicubic_sr
from srbench_eval.data.degrade.blur import degrade_bd
from srbench_eval.data.degrade.noise import degrade_dn
from srbench_eval.data.io.images import is_image_file, modcrop, read_image
from srbench_eval.metrics.fidelity import luma, psnr, ssim
from srbench_eval.protocol import PROFILES

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SCALE = 3
PUBLISHED_BD = {"Set5": (28.78, 0.8308), "Set14": (26.38, 0.7271), "BSD100": (26.33, 0.6918)}
PUBLISHED_BD |= {"Urban100": (23.52, 0.6862), "Manga109": (25.46, 0.8149)}
PUBLISHED_DN = {"Set5": (24.01, 0.5369)}
SET5 = ("baby", "bird", "butterfly", "head", "woman")


def batch(img: np.ndarray) -> np.ndarray:
    """``(H, W)`` or ``(H, W, C)`` 0..255 -> ``(1, C, H, W)`` float64."""
    planes = img[None] if img.ndim == 2 else img.transpose(2, 0, 1)
    return np.ascontiguousarray(planes[None].astype(np.float64))


def scores(sr: np.ndarray, hr: np.ndarray, grey: bool) -> dict[str, tuple[float, float]]:
    """PSNR/SSIM (crop 3) of ``(1, 3, H, W)`` batches under the ``float`` and ``rounded`` Y rules;
    ``grey``: the HR was one grey plane (replicated), scored on that plane under ``rounded``."""
    out = {"float": (float(psnr(sr, hr, SCALE)[0]), float(ssim(sr, hr, SCALE)[0]))}
    ys, yh = (x[:, :1] for x in (sr, hr)) if grey else (luma(sr, "rounded"), luma(hr, "rounded"))
    out["rounded"] = (float(psnr(ys, yh, SCALE)[0]), float(ssim(ys, yh, SCALE)[0]))
    return out


def rgb_hr(path: Path) -> tuple[np.ndarray, bool]:
    """``modcrop(HR, 3)`` with a grey image replicated to RGB (RDN's script), and whether it was grey."""
    img = read_image(path)
    grey = img.ndim == 2
    if grey:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return modcrop(img, SCALE), grey


def mean_scores(rows: list[dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    return {k: tuple(float(np.mean([r[k][i] for r in rows])) for i in (0, 1)) for k in rows[0]}


def bd_row(root: Path, name: str) -> dict[str, tuple[float, float]]:
    """Mean Bicubic scores of one set under BD."""
    rows = []
    for path in sorted(p for p in (root / name / "HR").iterdir() if is_image_file(p)):
        hr, grey = rgb_hr(path)
        lr = degrade_bd(hr, SCALE)
        sr = bicubic_sr(batch(lr), SCALE, PROFILES["matlab"])
        rows.append(scores(sr, batch(hr), grey))
    return mean_scores(rows)


def dn_row(root: Path, folder: Path | None, pattern: str) -> dict[str, tuple[float, float]]:
    """Mean Bicubic scores of Set5 from released LRDN files ``folder/pattern.format(name)``, or from
    :func:`degrade_dn` with border ``pattern`` when ``folder`` is ``None``."""
    rows = []
    for name in SET5:
        hr, grey = rgb_hr(root / "Set5" / "HR" / f"{name}.png")
        lr = (
            degrade_dn(hr, SCALE, border=pattern)
            if folder is None
            else read_image(folder / pattern.format(name))
        )
        sr = bicubic_sr(batch(lr), SCALE, PROFILES["matlab"])
        rows.append(scores(sr, batch(hr), grey))
    return mean_scores(rows)


def rescore_rdn(root: Path, oracles: Path) -> list[str]:
    """Per-image |ours - RDN's log| for RDN's released BD and DN SR images (float Y, crop 3)."""
    logs = json.loads((oracles / "published_sr" / "rdn_bd_dn_logs.json").read_text())
    lines = []
    for kind in ("RDN-BD", "RDN-DN"):
        log = logs[f"{kind}/Set5/x3"]
        dp, ds = [], []
        for name in SET5:
            hr, _ = rgb_hr(root / "Set5" / "HR" / f"{name}.png")
            sr = read_image(oracles / "published_sr" / kind / "x3" / f"{name}_RDN_x3.png")
            p, s = scores(batch(sr), batch(hr), False)["float"]
            dp.append(abs(p - log[name]["psnr"]))
            ds.append(abs(s - log[name]["ssim"]))
        lines.append(f"| {kind} | {max(dp):.2e} | {max(ds):.2e} |")
    return lines


def cell(measured: tuple[float, float], published: tuple[float, float]) -> str:
    return f"{measured[0]:.4f} / {measured[1]:.4f} ({measured[0] - published[0]:+.4f} dB)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=SHARED / "benchmarks", help="folder of SET/HR")
    parser.add_argument("--oracles", type=Path, default=SHARED / "oracles")
    parser.add_argument("--sets", default="Set5,Set14,BSD100,Urban100")
    args = parser.parse_args()
    print("| BD x3 Bicubic | published | float Y | rounded Y (grey on grey) |\n|---|---|---|---|")
    for name in args.sets.split(","):
        if not (args.root / name / "HR").is_dir():
            print(f"| {name} | {PUBLISHED_BD.get(name)} | absent | absent |")
            continue
        row, pub = bd_row(args.root, name), PUBLISHED_BD[name]
        print(f"| {name} | {pub[0]} / {pub[1]} | {cell(row['float'], pub)} | {cell(row['rounded'], pub)} |")
    print("\n| DN x3 Bicubic, Set5, LRDN | published | float Y | rounded Y |\n|---|---|---|---|")
    lr = args.oracles / "lr"
    for label, folder, pattern in (
        ("RDN (lr/rdn-dn)", lr / "rdn-dn/Set5/x3", "{}_LRDN_x3.png"),
        ("SRFBN (lr/srfbn-bi-dn)", lr / "srfbn-bi-dn/Set5/x3/LRDN", "{}_LRDN_x3.png"),
        ("ours: degrade_dn(HR, 3), symmetric", None, "symmetric"),
        ("ours: degrade_dn(HR, 3), clamp", None, "clamp"),
    ):
        row, pub = dn_row(args.root, folder, pattern), PUBLISHED_DN["Set5"]
        print(f"| {label} | {pub[0]} / {pub[1]} | {cell(row['float'], pub)} | {cell(row['rounded'], pub)} |")
    print("\n| RDN's released SR vs its log | max abs dPSNR | max abs dSSIM |\n|---|---|---|")
    print("\n".join(rescore_rdn(args.root, args.oracles)))


if __name__ == "__main__":
    main()
