"""The facts of every metric, as data: what tables, regression checks and ``srbench-eval metrics``
need to know about a metric without computing it (and without importing torch).

Each metric class takes its facts from here by name (``class PSNR(PerImageMetric, facts="psnr")``,
:meth:`srbench_eval.metrics.base.Metric.__init_subclass__` copies them onto the class), so the class
still answers ``PSNR.higher_is_better`` and this table is the only place the fact is written.
``implementation`` says which class computes it (``module:Class``); the registry imports that
module only when the metric is used (:func:`srbench_eval.metrics.get_metric`). The order of the
table is the order of ``srbench-eval metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricFacts:
    """What a metric is, independent of any image.

    ``inputs``: ``"Y"`` (the protocol's border-cropped luma plane) or ``"RGB"`` (the whole image);
    ``full_reference``: whether the HR image is used; ``reference_impl``: the published code its
    values are checked against; ``decimals``: display precision in tables."""

    name: str
    label: str
    higher_is_better: bool
    per_image: bool
    decimals: int
    inputs: str
    reference_impl: str
    implementation: str
    full_reference: bool = True

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


_LPIPS_IMPL = "lpips package (Zhang et al.), v0.1 linear layers"
_FID_IMPL = "pytorch-fid (TF FID Inception port), calculate_frechet_distance"

METRIC_FACTS: dict[str, MetricFacts] = {
    f.name: f
    for f in (
        MetricFacts("lpips", "LPIPS", False, True, 4, "RGB", _LPIPS_IMPL, "lpips_metric:LPIPS"),
        MetricFacts("lpips-vgg", "LPIPS-VGG", False, True, 4, "RGB", _LPIPS_IMPL, "lpips_metric:LPIPSVGG"),
        MetricFacts(
            "dists",
            "DISTS",
            False,
            True,
            4,
            "RGB",
            "dists-pytorch (DISTS_pytorch.DISTS, the authors' package)",
            "dists:DISTS",
        ),
        MetricFacts("fid", "FID", False, False, 2, "RGB", _FID_IMPL, "fid:FID"),
        MetricFacts("fid-patch", "FID-patch", False, False, 2, "RGB", _FID_IMPL, "fid:PatchFID"),
        MetricFacts(
            "psnr",
            "PSNR",
            True,
            True,
            2,
            "Y",
            "MATLAB, as RCAN/EDSR Evaluate_PSNR_SSIM.m and BasicSR",
            "fidelity:PSNR",
        ),
        MetricFacts(
            "ssim", "SSIM", True, True, 4, "Y", "Wang et al.'s MATLAB ssim_index.m (2004)", "fidelity:SSIM"
        ),
        MetricFacts(
            "ifc",
            "IFC",
            True,
            True,
            3,
            "Y",
            "Sheikh's MATLAB ifcvec.m (as in SelfExSR quant_eval) + matlabPyrTools",
            "information:IFC",
        ),
        MetricFacts(
            "vif",
            "VIF",
            True,
            True,
            4,
            "Y",
            "Sheikh's MATLAB vifvec.m (LIVE release) + matlabPyrTools",
            "information:VIF",
        ),
        MetricFacts(
            "ms-ssim",
            "MS-SSIM",
            True,
            True,
            4,
            "Y",
            "Wang's MATLAB msssim.m + ssim_index_new.m (2003)",
            "ms_ssim:MSSSIM",
        ),
        MetricFacts(
            "niqe",
            "NIQE",
            False,
            True,
            2,
            "Y",
            "Mittal et al.'s MATLAB release niqe.m/computequality.m (2013); "
            "flat areas: within 0.03 (measured)",
            "niqe:NIQE",
            full_reference=False,
        ),
    )
}
"""Every metric's facts, by registered name (lower case). ``implementation`` is relative to
``srbench_eval.metrics``."""

CLASS_FACTS = (
    "name",
    "label",
    "higher_is_better",
    "per_image",
    "decimals",
    "inputs",
    "full_reference",
    "reference_impl",
)
"""The facts a metric class carries as class attributes (copied from its :class:`MetricFacts`)."""
