"""Which evaluation convention the DP paper's bicubic row (Table 5) is consistent with.

The paper states x4, PSNR and SSIM on Y, a 4-pixel border removed (``matlab`` with ``crop_border=4``
here), which gives 28.43 dB on Set5 for bicubic; its Table 5 prints 26.69 / 0.7736. This script runs
the bicubic column on Set5, Set14, BSD100 and Urban100 at x4 under

* every protocol profile of :mod:`srbench_eval.protocol` with the stated 4-pixel crop, and
* every single-field variant of the stated protocol (one field of ``matlab, crop_border=4`` changed
  to each of its other values; ``network_input`` and ``perceptual_crop`` do not move a bicubic PSNR or
  SSIM, and ``modcrop=false`` cannot run on sets with sizes that are not multiples of 4: left out),

and, outside the protocol record, with PSNR and SSIM on RGB instead of Y (MATLAB bicubic of the
uint8 image, crop 4 and 0: PSNR of one MSE over the three channels, SSIM the mean of the channels'
Wang et al. SSIM by ``skimage``), and records, per dataset and metric, the candidates whose mean
rounds to the printed cell (at the printed precision). The result is stored with the paper data,
``srbench_eval/papers/dp_loss_quirks.yaml``, which the study table prints as a footnote
(:mod:`srbench_eval.papers.quirks`); ``tests/papers/test_quirks.py`` recomputes Set5 from it.

    PYTHONPATH=$PWD python benchmarks/dp_bicubic_quirks.py [--root ../shared/benchmarks] [--write]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from skimage.metrics import structural_similarity

from srbench_eval import protocol as protocols
from srbench_eval.data.degrade.bicubic import degrade_bicubic, imresize_uint8
from srbench_eval.data.io.images import modcrop, read_image
from srbench_eval.evaluation import RunConfig, run_evaluation
from srbench_eval.papers import load
from srbench_eval.papers.quirks import QUIRKS_FILE, Candidate, Quirks, consistent, dump
from srbench_eval.runs.results import read_csv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hr_sets import hr_files  # noqa: E402

ROOT = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
DATASETS = ("set5", "set14", "bsd100", "urban100")
STATED = ("matlab", ("crop_border=4",))
_SKIP_FIELDS = ("network_input", "perceptual_crop", "modcrop", "lr_source", "size_rule", "average")
"""Not conventions of a bicubic row: what a network sees, the perceptual crop, another degradation
(``lr_source``: BD, DN, given files), Meta-SR's size rule for non-integer scales, RealSR's patch
averaging (``average``: images over 1200 px, none in these sets)."""
_SKIP_PROFILES = ("rdn-bddn", "metasr", "realsr")
"""``rdn-bddn`` at the stated crop is the ``y=rounded`` variant (kept under that name), ``metasr`` the
stated protocol with Meta-SR's size rule, ``realsr`` scores captured LR files (``lr_source=given``)."""
_CROPS = ("0", "2", "6", "8")


def candidates() -> list[tuple[str, tuple[str, ...]]]:
    """The stated protocol, every other profile with the stated crop, and every single-field
    variant of the stated protocol (distinct conventions only)."""
    out = [STATED]
    out += [
        (name, ("crop_border=4",))
        for name in protocols.PROFILES
        if name != STATED[0] and name not in _SKIP_PROFILES
    ]
    stated = protocols.resolve(*STATED)
    for field in protocols.FIELDS:
        if field in _SKIP_FIELDS:
            continue
        if field == "crop_border":
            values: tuple[str, ...] = _CROPS
        else:
            values = tuple(str(v) for v in protocols._CHOICES[field] if v != getattr(stated, field))
        base = () if field == "crop_border" else ("crop_border=4",)
        out += [(STATED[0], (*base, f"{field}={v}")) for v in values]
    seen, unique = set(), []
    for name, sets in out:
        key = tuple(sorted(protocols.resolve(name, sets).fields().items()))
        if key not in seen:
            seen.add(key)
            unique.append((name, sets))
    return unique


def measure(name: str, sets: tuple[str, ...], root: Path, datasets: tuple[str, ...]) -> Candidate:
    """The bicubic column's means per dataset and metric under one convention."""
    with tempfile.TemporaryDirectory() as tmp:
        config = RunConfig(
            models=("bicubic",),
            scale=4,
            datasets=datasets,
            metrics=("psnr", "ssim"),
            device="cpu",
            mirror=str(root),
            protocol=name,
            protocol_set=sets,
        )
        run_evaluation(config, Path(tmp) / "run", progress=False)
        rows = read_csv(Path(tmp) / "run" / "results.csv")
    groups: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r.dataset, r.metric), []).append(r.value)
    values = {d: {m: float(np.mean(groups[(d, m)])) for m in ("psnr", "ssim")} for d in datasets}
    return Candidate(name, sets, values)


FOLDERS = {"set5": "Set5", "set14": "Set14", "bsd100": "BSD100", "urban100": "Urban100"}


def measure_rgb(crop: int, root: Path, datasets: tuple[str, ...]) -> Candidate:
    """The bicubic column's PSNR and SSIM on RGB (see the module docstring), crop ``crop``."""
    values = {}
    for d in datasets:
        psnrs, ssims = [], []
        for path in hr_files(root, [FOLDERS[d]]):
            hr = modcrop(read_image(path), 4)
            lr = degrade_bicubic(hr, 4)
            lr_t = torch.from_numpy(lr).float()
            lr_t = (lr_t[None] if lr.ndim == 2 else lr_t.permute(2, 0, 1))[None]
            sr = imresize_uint8(lr_t, 4)[0].numpy().astype(np.float64)
            ref = hr.astype(np.float64)
            ref = ref[None] if ref.ndim == 2 else ref.transpose(2, 0, 1)
            sr, ref = (np.repeat(x, 3, 0) if x.shape[0] == 1 else x for x in (sr, ref))
            if crop:
                sr, ref = sr[:, crop:-crop, crop:-crop], ref[:, crop:-crop, crop:-crop]
            psnrs.append(10 * np.log10(255**2 / np.mean((sr - ref) ** 2)))
            ssims.append(
                structural_similarity(
                    sr, ref, data_range=255, gaussian_weights=True, sigma=1.5,
                    use_sample_covariance=False, channel_axis=0,
                )
            )  # fmt: skip
        values[d] = {"psnr": float(np.mean(psnrs)), "ssim": float(np.mean(ssims))}
    return Candidate("matlab", (f"crop_border={crop}",), values, "rgb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="HR mirror (ROOT/Set5/HR, ...)")
    parser.add_argument("--write", action="store_true", help=f"write {QUIRKS_FILE.name}")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"{args.root}: not found; pass --root pointing at the HR mirror", file=sys.stderr)
        return 2
    measured = []
    runs = [lambda n=n, s=s: measure(n, s, args.root, DATASETS) for n, s in candidates()]
    runs += [lambda c=c: measure_rgb(c, args.root, DATASETS) for c in (4, 0)]
    for run in runs:
        c = run()
        measured.append(c)
        cells = "  ".join(f"{d} {c.values[d]['psnr']:.2f}/{c.values[d]['ssim']:.4f}" for d in DATASETS)
        print(f"{c.label:<45} {cells}", flush=True)
    row = load("dp_loss").table("table5").row("bicubic")
    quirks = Quirks("dp_loss", "table5", "bicubic", STATED[0], STATED[1], tuple(measured))
    for d in DATASETS:
        for m in ("psnr", "ssim"):
            found = consistent(quirks, row.cell(d, m), d, m)
            print(f"{d} {m} printed {row.cell(d, m).text}: {', '.join(found) or 'no candidate'}")
    if args.write:
        QUIRKS_FILE.write_text(dump(quirks), encoding="utf-8")
        print(f"wrote {QUIRKS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
