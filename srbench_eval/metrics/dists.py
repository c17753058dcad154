"""DISTS, Deep Image Structure and Texture Similarity (Ding et al., TPAMI 2020), lower is better.

The network is the ``dists-pytorch`` package's ``DISTS`` module: torchvision's VGG16 trunk (weights
``vgg16-397923af.pth`` from the torch hub cache, through :mod:`srbench_eval.weights`) with its max
pools replaced by L2 pooling (Hanning 5x5, stride 2), and the learned per-channel weights ``alpha``,
``beta`` of the package's own ``weights.pt`` (shipped inside its wheel). With ``f_k`` the stage
activations (``k = 0`` is the input image itself, then relu1_2, relu2_2, relu3_3, relu4_3, relu5_3)
of ``x`` (SR) and ``y`` (HR), per channel ``i`` global means ``mu``, variances ``sigma^2`` and
covariance ``sigma_xy`` over positions::

    S1 = (2 mu_x mu_y + c1) / (mu_x^2 + mu_y^2 + c1)         (texture)
    S2 = (2 sigma_xy + c2) / (sigma_x^2 + sigma_y^2 + c2)    (structure),   c1 = c2 = 1e-6
    DISTS = 1 - sum_{k,i} (alpha_ki S1_ki + beta_ki S2_ki) / (sum alpha + sum beta)

* Inputs: RGB in ``[0, 1]`` (``x / 255``, as the package's ``prepare_image``), ImageNet
  normalisation inside the network; grey images are replicated to RGB; no resizing.
* Whole image by default (the protocol's ``perceptual_crop`` as for LPIPS); at least 31x31 pixels (four L2
  poolings); NaN, infinite or out-of-range values are refused
  (:func:`~srbench_eval.metrics.lpips_metric.checked_rgb`).
* The HR activations are the metric's :meth:`DISTS.reference`, computed once per HR image for all models.
  Statistics are computed in float32, in the package's order of operations.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import ClassVar

import torch

from srbench_eval import weights
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import register
from srbench_eval.metrics.base import MetricSettings, PerImageMetric
from srbench_eval.metrics.lpips_metric import checked_rgb, exact_fp32

C1 = C2 = 1e-6


def package_weights_file() -> Path:
    """The ``alpha``/``beta`` file inside the installed ``dists-pytorch`` package."""
    import DISTS_pytorch

    return Path(DISTS_pytorch.__file__).parent / "weights.pt"


def _build_dists() -> torch.nn.Module:
    """``DISTS_pytorch.DISTS()`` as the package builds it (VGG16 through torchvision's pretrained
    path, which reads the hub cache), with ``alpha``/``beta`` read from the package's folder (the
    package itself looks for them under ``sys.prefix``, where only some installs put a copy)."""
    from DISTS_pytorch import DISTS

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torchvision\.models\._utils")
        model = DISTS(load_weights=False)
    ab = torch.load(package_weights_file(), map_location="cpu", weights_only=True)
    model.alpha.data = ab["alpha"]
    model.beta.data = ab["beta"]
    return model


def dists_from_features(
    model: torch.nn.Module, fx: list[torch.Tensor], fy: list[torch.Tensor]
) -> torch.Tensor:
    """DISTS ``(N,)`` from the stage activations of both images (the module docstring's formula)."""
    w_sum = model.alpha.sum() + model.beta.sum()
    alphas = torch.split(model.alpha / w_sum, model.chns, dim=1)
    betas = torch.split(model.beta / w_sum, model.chns, dim=1)
    texture = structure = 0
    for a, b, x, y in zip(alphas, betas, fx, fy, strict=True):
        mx, my = x.mean(dim=(2, 3), keepdim=True), y.mean(dim=(2, 3), keepdim=True)
        vx = ((x - mx) ** 2).mean(dim=(2, 3), keepdim=True)
        vy = ((y - my) ** 2).mean(dim=(2, 3), keepdim=True)
        cxy = (x * y).mean(dim=(2, 3), keepdim=True) - mx * my
        s1 = (2 * mx * my + C1) / (mx * mx + my * my + C1)
        s2 = (2 * cxy + C2) / (vx + vy + C2)
        texture = texture + (a * s1).sum(dim=1)
        structure = structure + (b * s2).sum(dim=1)
    return 1 - (texture + structure).flatten()


@register
class DISTS(PerImageMetric, facts="dists"):
    """DISTS on the whole RGB image, or without the protocol's border under ``perceptual_crop``."""

    min_side: ClassVar[int] = 31

    def __init__(self, settings: MetricSettings) -> None:
        super().__init__(settings)
        self.crop_border = settings.perceptual_crop
        self.model = weights.load_network(
            "dists", "vgg16", f"metric {self.name}", settings.device, _build_dists
        )

    def _prepared(self, x: torch.Tensor, what: str) -> torch.Tensor:
        c = self.crop_border
        if c:
            x = x[..., c:-c, c:-c]
        return checked_rgb(x.to(self.settings.device, torch.float32), self.name, what, self.min_side) / 255

    def reference(self, hr: torch.Tensor) -> list[list[torch.Tensor]]:
        try:
            y = self._prepared(hr, "HR")
        except SrbenchError as e:  # the read-ahead (data/pairs.make_pair) names the image of a ValueError
            raise ValueError(str(e).removeprefix(f"{self.name}: ")) from None
        with torch.inference_mode(), exact_fp32(self.settings.device):
            return [self.model.forward_once(y[i : i + 1]) for i in range(y.shape[0])]

    def score(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        x = self._prepared(sr, "SR")
        refs = ref if ref is not None else self.reference(hr)
        with torch.inference_mode(), exact_fp32(self.settings.device):
            values = torch.cat(
                [
                    dists_from_features(self.model, self.model.forward_once(x[i : i + 1]), refs[i])  # type: ignore[index]
                    for i in range(x.shape[0])
                ]
            )
        if not torch.isfinite(values).all():
            raise SrbenchError(f"{self.name}: the network returned a non-finite value")
        return values.double().cpu()


__all__ = ["DISTS", "dists_from_features", "package_weights_file"]
