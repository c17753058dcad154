"""Frozen ImageNet feature networks for the perceptual losses: VGG19 and ResNet-50.

Both load torchvision's ImageNet weights through torchvision's own path after
:func:`srbench_eval.weights.require` has checked the file (``vgg19-dcbb9e9d.pth``,
``resnet50-0676ba61.pth`` in the torch hub cache; ``srbench-eval weights list`` shows them), so a
missing file is a one-line error instead of a download attempt. Inputs are RGB in [0, 1] and are
normalised with the ImageNet mean and standard deviation first.

The networks are truncated after the deepest layer a loss needs, their parameters are frozen, and
they stay in eval mode (batch-norm statistics fixed) even when the criterion holding them is put in
training mode. The loaded network is cached per process by :func:`srbench_eval.weights.load_network`
(keyed by the weights file) and each extractor deep-copies the layers it needs, so recipes with
several perceptual terms load each file once and moving one criterion to a device moves no other.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

import torch
from torch import nn

from srbench_eval import weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# torchvision's vgg19.features: convolutions per block, each followed by ReLU, a max-pool after each.
_VGG19_BLOCKS = (2, 2, 4, 4, 4)


def _vgg19_layer_names() -> list[str]:
    names = []
    for b, n in enumerate(_VGG19_BLOCKS, start=1):
        for i in range(1, n + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


VGG19_LAYERS: tuple[str, ...] = tuple(_vgg19_layer_names())

#: ResNet-50 bottlenecks per stage: beta_{m,n} exists for n <= RESNET50_BLOCKS[m - 1].
RESNET50_BLOCKS = (3, 4, 6, 3)


def parse_beta(beta: str | float | tuple[int, int]) -> tuple[int, int]:
    """``"3.6"``, ``3.6``, ``"3,6"`` or ``(3, 6)`` -> ``(3, 6)``: stage ``m`` and bottleneck ``n``."""
    if isinstance(beta, tuple):
        m, n = beta
    else:
        match = re.fullmatch(r"\s*(\d)\s*[.,_]\s*(\d)\s*", str(beta))
        if not match:
            raise ValueError(f"ResNet layer beta must look like '3.6' (stage.bottleneck), got {beta!r}")
        m, n = int(match[1]), int(match[2])
    if not 1 <= m <= 4 or not 1 <= n <= RESNET50_BLOCKS[m - 1]:
        raise ValueError(
            f"ResNet-50 has no bottleneck beta_{m},{n}: stages 1-4 have {RESNET50_BLOCKS} blocks"
        )
    return m, n


class _Frozen(nn.Module):
    """A frozen feature network that normalises its RGB [0, 1] input and never leaves eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _freeze(self) -> None:
        for p in self.parameters():
            p.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> _Frozen:
        return super().train(False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _vgg19_trunk(user: str) -> nn.Sequential:
    """torchvision's ``vgg19(weights=IMAGENET1K_V1).features`` on the CPU, loaded once per process."""

    def build() -> nn.Sequential:
        from torchvision.models import VGG19_Weights, vgg19

        return vgg19(weights=VGG19_Weights.IMAGENET1K_V1).features

    return weights.load_network("vgg19-features", "vgg19", user, "cpu", build)


def _resnet50_trunk(user: str) -> nn.Module:
    """torchvision's ``resnet50(weights=IMAGENET1K_V1)`` on the CPU, loaded once per process."""

    def build() -> nn.Module:
        from torchvision.models import ResNet50_Weights, resnet50

        return resnet50(weights=ResNet50_Weights.IMAGENET1K_V1)

    return weights.load_network("resnet50", "resnet50", user, "cpu", build)


class VGGFeatures(_Frozen):
    """VGG19 features at named layers: ``conv{b}_{i}`` (before activation), ``relu{b}_{i}`` (after),
    ``pool{b}``; ``forward`` returns ``{layer: feature}`` for the layers asked for."""

    def __init__(self, layers: Sequence[str], user: str = "loss vgg") -> None:
        super().__init__()
        unknown = [name for name in layers if name not in VGG19_LAYERS]
        if unknown or not layers:
            raise ValueError(f"unknown VGG19 layer(s) {unknown or list(layers)}: use conv5_4, relu5_4, ...")
        self.layers = tuple(layers)
        self._index = {VGG19_LAYERS.index(name): name for name in self.layers}
        trunk = _vgg19_trunk(user)
        body = copy.deepcopy(trunk[: max(self._index) + 1])
        for m in body.modules():
            if isinstance(m, nn.ReLU):
                m.inplace = False  # a pre-activation feature must not be overwritten by the next ReLU
        self.body = body
        self._freeze()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        x = self.normalize(x)
        for i, layer in enumerate(self.body):
            x = layer(x)
            if i in self._index:
                out[self._index[i]] = x
        return out


class ResNetFeatures(_Frozen):
    """ResNet-50 feature ``beta_{m,n}``: the output (after its final ReLU) of the ``n``-th bottleneck
    of stage ``m`` (torchvision's ``layer{m}[n-1]``). The last bottleneck of each stage is
    ``beta_1,3``, ``beta_2,4``, ``beta_3,6``, ``beta_4,3``."""

    def __init__(self, beta: str | float | tuple[int, int] = "3.6", user: str = "loss resnet") -> None:
        super().__init__()
        self.beta = parse_beta(beta)
        m, n = self.beta
        net = _resnet50_trunk(user)
        stages = [net.layer1, net.layer2, net.layer3, net.layer4]
        parts: list[nn.Module] = [
            net.conv1,
            net.bn1,
            net.relu,
            net.maxpool,
            *stages[: m - 1],
            stages[m - 1][:n],
        ]
        self.body = copy.deepcopy(nn.Sequential(*parts))
        self._freeze()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.normalize(x))
