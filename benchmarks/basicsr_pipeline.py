"""BasicSR's bicubic evaluation pipeline as a process of its own, for ``bench_run.py``.

For each HR file of each folder: ``cv2.imread`` (BGR; a grey file as three channels), mod-crop,
``imresize(., 1/s)`` rounded once, ``imresize(., s)`` rounded once, then ``calculate_psnr`` and
``calculate_ssim`` on the Y channel with ``crop_border = s``, image by image, single process, as
BasicSR's own test script does. The steps are the NumPy transcription of ``tests/basicsr_reference.py``
(BasicSR is not a dependency). Writes ``dataset,image,psnr,ssim`` rows as CSV.

    python benchmarks/basicsr_pipeline.py --scale 4 --out values.csv FOLDER [FOLDER ...]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUFFIXES = {".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="Folders of HR images (one per dataset).")
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--out", type=Path, required=True, help="CSV of per-image values.")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    import cv2

    from tests import basicsr_reference as ref

    s = args.scale
    with open(args.out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["dataset", "image", "psnr", "ssim"])
        for folder in args.folders:
            label = folder.parent.name if folder.name == "HR" else folder.name  # Set5/HR -> Set5
            for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES):
                hr = cv2.imread(str(path))
                h, w = hr.shape[:2]
                hr = hr[: h - h % s, : w - w % s]
                lr = ref.to_uint8(ref.imresize(hr, 1 / s))
                sr = ref.to_uint8(ref.imresize(lr, s))
                psnr, ssim = ref.calculate_psnr(sr, hr, s), ref.calculate_ssim(sr, hr, s)
                writer.writerow([label, path.stem, repr(psnr), repr(ssim)])


if __name__ == "__main__":
    main()
