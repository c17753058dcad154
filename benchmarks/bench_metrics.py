"""Time the metrics of issue 15 (MS-SSIM, IFC, VIF, NIQE, DISTS) per megapixel on the CPU, against the
reference implementations installable from the registries, and compare their values.

Every metric sees the same planes: the Y channel of HR images and of their bicubic x``scale``
down-/up-scalings (a stand-in SR model; timings do not depend on the values), MATLAB ``rgb2ycbcr``
of the uint8 images, rounded (so the planes hold integers and pyiqa's own rounding of its grey
plane changes nothing), border-cropped by the scale, passed as 1-channel images (``crop_border=0``
inside); a reference that takes RGB gets the plane in all three channels, whose grey (YIQ ``Y``,
weights summing to 1) is the plane again. DISTS takes the RGB images.

References (each one optional: left out when its package does not import):

* ``piq``: ``multi_scale_ssim``, against ``ms-ssim`` with ``method=product`` (piq's form; its
  downsampling pads odd sizes, a documented difference). piq's ``vif_p`` is the pixel-domain VIF,
  a different index, so it is not compared.
* ``pyiqa`` (install it in a separate environment that also sees this project's packages; it is
  not a dependency): its ``VIF`` (the wavelet-domain VIF), ``MS_SSIM`` (product form, the same
  odd-size padding as piq) and ``NIQE`` (the MATLAB release's algorithm; its pristine model is
  NIQE's registry file written as the ``.mat`` it loads, so nothing is downloaded). pyiqa's DISTS
  downloads its weights at run time and is not used: the DISTS reference is the authors' package.
* ``dists-pytorch``: the package's ``DISTS`` module, called per pair as its README does.
* IFC: no implementation outside MATLAB is published on the registries (pyiqa, piq: none); timed
  alone.

    python benchmarks/bench_metrics.py --hr-dir ../shared/benchmarks/Set14/HR --stand-in
    python benchmarks/bench_metrics.py --hr-dir DIR --limit 2 --repeat 1 --stand-in   # (the test)

``--stand-in`` writes seeded random VGG16 weights (DISTS) and, when ``--niqe-model`` is given, copies
NIQE's pristine model into a temporary TORCH_HOME: DISTS timings are then valid, its values are not
DISTS values of anything (both sides use the same weights).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

Pair = tuple[torch.Tensor, torch.Tensor]  # (SR, HR), (1, C, H, W) float32 0..255


def load_pairs(hr_dir: str, scale: int, limit: int | None) -> tuple[list[Pair], list[Pair]]:
    """RGB pairs and their cropped Y-plane pairs (1 channel)."""
    from srbench_eval.data.degrade.bicubic import imresize_uint8
    from srbench_eval.data.io.images import is_image_file, modcrop, read_image
    from srbench_eval.data.pairs import image_tensor
    from srbench_eval.metrics.luma import luma_planes

    files = sorted(p for p in Path(hr_dir).iterdir() if is_image_file(p))[:limit]
    rgb, planes = [], []
    for f in files:
        hr = image_tensor(modcrop(read_image(f), scale), torch.device("cpu"))
        if hr.shape[1] == 1:
            hr = hr.expand(-1, 3, -1, -1).contiguous()
        sr = imresize_uint8(imresize_uint8(hr, 1 / scale), scale)
        rgb.append((sr, hr))
        planes.append(tuple(luma_planes(t, scale, "rounded")[:, None].float() for t in (sr, hr)))  # type: ignore[misc]
    return rgb, planes


def timed(fn: Callable[[Pair], float], pairs: list[Pair], repeat: int) -> tuple[float, list[float]]:
    """Best-of-``repeat`` seconds for the whole list, and the values of the last pass."""
    best, values = math.inf, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        values = [fn(p) for p in pairs]
        best = min(best, time.perf_counter() - t0)
    return best, values


def ours(name: str, **options) -> Callable[[Pair], float]:
    """The registered metric fed one pair at a time, HR work included (a first model)."""
    from srbench_eval.metrics import MetricSettings, get_metric
    from srbench_eval.protocol import resolve

    metric = get_metric(name)(
        MetricSettings(scale=1, protocol=resolve("matlab", ["crop_border=0"])), **options
    )
    return lambda p: float(metric.update(*p)[0])


def ours_further_model(name: str, pairs: list[Pair]) -> Callable[[Pair], float] | None:
    """The metric as ``run`` feeds a further model: the HR side (:meth:`Metric.reference`) computed
    beforehand (by the read-ahead threads, once for all models), or None if it has none."""
    from srbench_eval.metrics import MetricSettings, get_metric
    from srbench_eval.protocol import resolve

    metric = get_metric(name)(MetricSettings(scale=1, protocol=resolve("matlab", ["crop_border=0"])))
    refs = {id(p): metric.reference(p[1]) for p in pairs}
    if all(r is None for r in refs.values()):
        return None
    return lambda p: float(metric.update(p[0], p[1], refs[id(p)])[0])


Reference = tuple[str, Callable[[Pair], float]]


def _rgb(x: torch.Tensor) -> torch.Tensor:
    """A 1-channel plane of 0..255 values as pyiqa's input: RGB in 0..1, the plane in each channel."""
    return x.expand(-1, 3, -1, -1) / 255


def pyiqa_references(tmp: str) -> dict[str, list[Reference]]:
    """pyiqa's VIF, MS-SSIM and NIQE (module docstring), or nothing when pyiqa does not import."""
    try:
        from pyiqa.archs.niqe_arch import NIQE
        from pyiqa.archs.ssim_arch import MS_SSIM
        from pyiqa.archs.vif_arch import VIF
    except ImportError:
        return {}
    from scipy.io import savemat

    from srbench_eval import weights

    refs: dict[str, list[Reference]] = {}
    vif, ms_ssim = VIF(), MS_SSIM(is_prod=True)
    refs["vif"] = [("pyiqa VIF", lambda p: float(vif(_rgb(p[0]), _rgb(p[1]))))]
    refs["ms-ssim"] = [("pyiqa MS_SSIM", lambda p: float(ms_ssim(_rgb(p[0]), _rgb(p[1]))))]
    if weights.is_genuine("niqe-pris"):
        params = np.load(weights.require("niqe-pris", "bench_metrics"))
        mat = os.path.join(tmp, "niqe_modelparameters.mat")
        savemat(mat, {"mu_prisparam": params["mu_pris_param"], "cov_prisparam": params["cov_pris_param"]})
        niqe = NIQE(pretrained_model_path=mat)
        refs["niqe"] = [("pyiqa NIQE", lambda p: float(niqe(_rgb(p[0]))))]
    return refs


def references(args: argparse.Namespace) -> dict[str, list[Reference]]:
    """metric -> [(label, function of a pair)] for the reference packages that import."""
    refs: dict[str, list[Reference]] = {}
    try:
        import piq

        refs["ms-ssim"] = [
            (
                "piq.multi_scale_ssim",
                lambda p: float(piq.multi_scale_ssim(p[0] / 255, p[1] / 255, data_range=1.0)),
            )
        ]
    except ImportError:
        pass
    for name, more in pyiqa_references(tempfile.mkdtemp(prefix="bench_metrics_pyiqa_")).items():
        refs.setdefault(name, []).extend(more)
    try:
        from srbench_eval.metrics.dists import _build_dists

        model = _build_dists().eval()

        def package_dists(p: Pair) -> float:
            with torch.no_grad():
                return float(model(p[0] / 255, p[1] / 255))

        refs["dists"] = [("DISTS_pytorch.DISTS", package_dists)]
    except Exception as e:  # missing package or weights
        print(f"dists reference unavailable: {e}")
    return refs


def write_stand_ins(niqe_model: str | None) -> str:
    """Seeded VGG16 (and NIQE's real model, if given) in a temporary TORCH_HOME."""
    from srbench_eval import weights
    from tests.conftest import STAND_IN_BUILDERS

    home = tempfile.mkdtemp(prefix="bench_metrics_")
    os.environ["TORCH_HOME"] = home
    os.environ[weights.ALLOW_STAND_INS_ENV] = "1"
    ckpt = weights.checkpoint_dir()
    ckpt.mkdir(parents=True, exist_ok=True)
    torch.save(STAND_IN_BUILDERS["vgg16"](), ckpt / weights.get("vgg16").filename)
    if niqe_model:
        shutil.copyfile(niqe_model, ckpt / weights.get("niqe-pris").filename)
    return home


def run(args: argparse.Namespace) -> list[dict[str, object]]:
    if args.threads:
        torch.set_num_threads(args.threads)
    rgb, planes = load_pairs(args.hr_dir, args.scale, args.limit)
    mpix_planes = sum(p[1].shape[-2] * p[1].shape[-1] for p in planes) / 1e6
    mpix_rgb = sum(p[1].shape[-2] * p[1].shape[-1] for p in rgb) / 1e6
    refs = references(args)
    rows = []
    for name in args.metrics.split(","):
        pairs, mpix = (rgb, mpix_rgb) if name == "dists" else (planes, mpix_planes)
        try:
            # piq computes the paper's product form: compare like with like
            options = {"method": "product"} if name == "ms-ssim" else {}
            t_ours, v_ours = timed(ours(name, **options), pairs, args.repeat)
        except Exception as e:  # e.g. NIQE without its model file
            print(f"{name}: skipped ({e})")
            continue
        row: dict[str, object] = {"metric": name, "ours_s_per_mpix": t_ours / mpix}
        further = ours_further_model(name, pairs)
        if further is not None:
            row["further_model_s_per_mpix"] = timed(further, pairs, args.repeat)[0] / mpix
        row["references"] = []
        for label, fn in refs.get(name, []):
            t_ref, v_ref = timed(fn, pairs, args.repeat)
            diff = np.abs(np.array(v_ours) - np.array(v_ref))
            row["references"].append(  # type: ignore[attr-defined]
                {
                    "reference": label,
                    "ref_s_per_mpix": t_ref / mpix,
                    "speedup": t_ref / t_ours,
                    "max_abs_diff": float(diff.max()),
                    "max_rel_diff": float((diff / np.maximum(np.abs(v_ref), 1e-12)).max()),
                }
            )
        rows.append(row)
        print(_fmt({k: v for k, v in row.items() if k != "references"}))
        for ref in row["references"] or [{"reference": "none"}]:  # type: ignore[attr-defined]
            print("    " + _fmt(ref))
    return rows


def _fmt(d: dict[str, object]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items())


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hr-dir", default=str(ROOT.parent / "shared" / "benchmarks" / "Set14" / "HR"))
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--metrics", default="ms-ssim,ifc,vif,niqe,dists")
    ap.add_argument("--stand-in", action="store_true", help="seeded VGG16 weights in a temporary TORCH_HOME")
    ap.add_argument("--niqe-model", default=None, help="NIQE's niqe_pris_params.npz to install (--stand-in)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    args = parse(argv)
    if args.stand_in:
        home = write_stand_ins(args.niqe_model)
        print(f"*** STAND-IN VGG16 in {home}: timings valid, DISTS values are NOT DISTS values ***")
    return run(args)


if __name__ == "__main__":
    main()
