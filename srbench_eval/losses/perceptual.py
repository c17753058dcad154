"""Perceptual losses on frozen ImageNet features (see :mod:`srbench_eval.losses.features`).

* VGG (Johnson et al. 2016; SRGAN; ESRGAN): ``l_VGG = D(s * phi(sr), s * phi(hr))`` with ``phi`` a
  VGG19 layer, ``D`` the mean L1 or mean squared distance and ``s`` a feature scale.
  ESRGAN: ``conv5_4`` *before* activation, L1, ``s = 1``. SRGAN: ``phi_5,4`` *after* activation
  (``relu5_4``), MSE, ``s = 1/12.75`` (the paper's rescaling, i.e. the loss times ~0.006).
* ResNet: ``l_RES = mean |beta_{m,n}(sr) - beta_{m,n}(hr)|`` on a ResNet-50 bottleneck output.
* Dual perceptual (Song et al., "Dual Perceptual Loss for Single Image Super-Resolution Using
  ESRGAN", 2022)::

      l_DP = l_VGG + (1 / mu) * zeta * l_RES,     zeta = sg[(l_VGG + c) / (l_RES + c)]

  ``sg`` stops the gradient (``zeta`` is a detached number) and ``c`` is a tiny constant guarding
  the division. In value the weighted ResNet term equals ``(1 / mu) * l_VGG`` (up to ``c``), while
  its gradient is ``(zeta / mu) * grad l_RES``: it keeps the direction of the ResNet loss at the
  magnitude of the VGG loss. Defaults: ``mu = 0.5``, ``beta_3,6``, VGG ``conv5_4`` before
  activation, both L1.
* Gram texture (Gatys et al. 2016; EnhanceNet, Sajjadi et al. ICCV 2017): for each layer ``l`` with
  features ``F`` of shape ``(C, H*W)``, ``G = F F^T / (C H W)`` and
  ``l_T = sum_l mean (G_l(sr) - G_l(hr))^2`` (or L1). EnhanceNet computes it on 16x16 patches; this
  version uses the whole image.

Features of ``hr`` are computed without gradient.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch

from srbench_eval.losses.base import LossTerm, distance
from srbench_eval.losses.features import VGG19_LAYERS, ResNetFeatures, VGGFeatures, parse_beta


def _bind(cls: type, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` completed with the constructor defaults (``TypeError`` on unknown names)."""
    bound = inspect.signature(cls).bind(**params)
    bound.apply_defaults()
    return dict(bound.arguments)


def _check_vgg_layers(layers: Sequence[str]) -> None:
    bad = [layer for layer in layers if layer not in VGG19_LAYERS]
    if bad or not layers:
        raise ValueError(f"unknown VGG19 layer(s) {bad or list(layers)}: use conv5_4, relu5_4, relu2_2, ...")


class VGGPerceptualLoss(LossTerm):
    """``D(s * phi_layer(sr), s * phi_layer(hr))`` on VGG19; ``layer`` ``conv5_4`` is before activation."""

    def __init__(
        self,
        layer: str = "conv5_4",
        criterion: str = "l1",
        feature_scale: float = 1.0,
        extractor: VGGFeatures | None = None,
        user: str = "loss vgg",
    ) -> None:
        super().__init__()
        self.layer = layer
        self.distance = distance(criterion)
        self.feature_scale = feature_scale
        if extractor is not None and layer not in extractor.layers:
            raise ValueError(f"the VGG extractor given does not compute {layer}")
        self.vgg = extractor if extractor is not None else VGGFeatures([layer], user=user)

    @classmethod
    def check(cls, **params: Any) -> None:
        bound = _bind(cls, params)
        _check_vgg_layers([bound["layer"]])
        distance(bound["criterion"])

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        f_sr = self.vgg(sr)[self.layer]
        with torch.no_grad():
            f_hr = self.vgg(hr.detach())[self.layer]
        s = self.feature_scale
        return self.distance(f_sr * s, f_hr * s)


class ResNetPerceptualLoss(LossTerm):
    """``D(beta_{m,n}(sr), beta_{m,n}(hr))`` on ResNet-50, ``beta`` written ``"m.n"`` (default ``"3.6"``)."""

    def __init__(
        self,
        beta: str = "3.6",
        criterion: str = "l1",
        extractor: ResNetFeatures | None = None,
        user: str = "loss resnet",
    ) -> None:
        super().__init__()
        self.distance = distance(criterion)
        self.resnet = extractor if extractor is not None else ResNetFeatures(beta, user=user)

    @classmethod
    def check(cls, **params: Any) -> None:
        bound = _bind(cls, params)
        parse_beta(bound["beta"])
        distance(bound["criterion"])

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        f_sr = self.resnet(sr)
        with torch.no_grad():
            f_hr = self.resnet(hr.detach())
        return self.distance(f_sr, f_hr)


class DualPerceptualLoss(LossTerm):
    """``l_VGG + (1/mu) * zeta * l_RES`` with ``zeta = sg[(l_VGG + c) / (l_RES + c)]``.

    ``detailed`` returns the parts ``l_vgg``, ``l_res``, ``zeta`` and ``res_weight = zeta / mu``.
    """

    def __init__(
        self,
        mu: float = 0.5,
        beta: str = "3.6",
        vgg_layer: str = "conv5_4",
        vgg_criterion: str = "l1",
        vgg_feature_scale: float = 1.0,
        res_criterion: str = "l1",
        c: float = 1e-8,
        vgg: VGGFeatures | None = None,
        resnet: ResNetFeatures | None = None,
    ) -> None:
        super().__init__()
        if mu <= 0:
            raise ValueError(f"DP mu must be positive, got {mu}")
        self.mu = mu
        self.c = c
        self.vgg = VGGPerceptualLoss(vgg_layer, vgg_criterion, vgg_feature_scale, vgg, user="loss dp")
        self.res = ResNetPerceptualLoss(beta, res_criterion, resnet, user="loss dp")

    @classmethod
    def check(cls, **params: Any) -> None:
        bound = _bind(cls, params)
        if bound["mu"] <= 0:
            raise ValueError(f"DP mu must be positive, got {bound['mu']}")
        parse_beta(bound["beta"])
        _check_vgg_layers([bound["vgg_layer"]])
        distance(bound["vgg_criterion"])
        distance(bound["res_criterion"])

    def detailed(self, sr: torch.Tensor, hr: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        l_vgg = self.vgg(sr, hr)
        l_res = self.res(sr, hr)
        zeta = ((l_vgg.detach() + self.c) / (l_res.detach() + self.c)).detach()
        total = l_vgg + (zeta / self.mu) * l_res
        parts = {"l_vgg": l_vgg.detach(), "l_res": l_res.detach(), "zeta": zeta, "res_weight": zeta / self.mu}
        return total, parts

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return self.detailed(sr, hr)[0]


def gram_matrix(f: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` -> ``(N, C, C)``: ``F F^T / (C H W)``."""
    n, c, h, w = f.shape
    flat = f.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


class GramTextureLoss(LossTerm):
    """``sum_l D(G(phi_l(sr)), G(phi_l(hr)))`` over VGG19 layers, ``G`` the normalised Gram matrix."""

    def __init__(
        self,
        layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1"),
        criterion: str = "l2",
        extractor: VGGFeatures | None = None,
    ) -> None:
        super().__init__()
        self.layers = tuple(layers)
        self.distance = distance(criterion)
        self.vgg = extractor if extractor is not None else VGGFeatures(self.layers, user="loss vgg")

    @classmethod
    def check(cls, **params: Any) -> None:
        bound = _bind(cls, params)
        _check_vgg_layers(bound["layers"])
        distance(bound["criterion"])

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        f_sr = self.vgg(sr)
        with torch.no_grad():
            f_hr = self.vgg(hr.detach())
        return sum(
            (self.distance(gram_matrix(f_sr[k]), gram_matrix(f_hr[k])) for k in self.layers),
            start=torch.zeros((), device=sr.device),
        )
