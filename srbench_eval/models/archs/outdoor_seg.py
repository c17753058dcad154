"""OutdoorSceneSeg: the segmentation network whose probability maps condition SFTGAN (Wang, Yu, Dong,
Loy, "Recovering Realistic Texture in Image Super-resolution by Deep Spatial Feature Transform",
CVPR 2018), under the key names of the authors' PyTorch file (``OutdoorSceneSeg_bic.pth`` in BasicSR,
``segmentation_OST_bic.pth`` in xinntao/SFTGAN; converted from the Torch model
``OutdoorSceneSeg_bic_iter_30000.t7``, fine-tuned on bicubic-upsampled images).

A dilated ResNet-101 (DeepLab-style) on BGR images with the ImageNet mean removed::

    x    = 255 * bicubic_up_s(LR)[B, G, R] - (103.939, 116.779, 123.68)   # MATLAB imresize, unclipped
    f    = feature(x)                                  # /8: stride-2 conv, max pool, stride-2 block
    prob = softmax_c(deconv_x8(f))                     # 8 classes, 8 x the feature size

``feature`` (one flattened ``nn.Sequential``, keys ``feature.N``): three 3x3 conv+BN+ReLU (64, 64, 128
channels, the first with stride 2; ``feature.0``-``feature.8``), a 3x3/2 max pool with ``ceil_mode``
(``feature.9``), 33 bottleneck blocks ``Res131`` (``feature.10``-``feature.42``: 3 of 64->256, 4 of
128->512 the first with stride 2, 23 of 256->1024 dilation 2, 3 of 512->2048 dilation 4), a 3x3
conv+BN+ReLU to 512 (``feature.43``-``45``), dropout (``46``, off at test) and a 1x1 conv to the 8
classes with bias (``feature.47``). ``Res131``: ``relu(proj(x) + BN(1x1(relu(BN(3x3(relu(BN(1x1
x))))))))``, keys ``res.0,1 / res.3,4 / res.6,7`` (conv, BN) and ``proj.0,1`` where the channels
change; no conv has a bias. ``deconv``: a grouped (one per class) 16x16 transposed convolution,
stride 8, padding 4, no bias (the Torch model's bilinear up-sampling).

The 8 classes (``CLASSES``): background, sky, water, grass, mountain, building, plant, animal.
"""

from __future__ import annotations

import re

import torch
from torch import nn

#: The classes of the probability maps, in channel order (``test_segmentation.py``'s lookup table).
CLASSES = ("background", "sky", "water", "grass", "mountain", "building", "plant", "animal")
#: The mean removed from the ``[0, 255]`` B, G, R channels (the Caffe ImageNet mean).
BGR_MEAN = (103.939, 116.779, 123.68)
#: (mid, out, dilation, stride of the first, blocks) of the four Res131 stages, at width 1.
STAGES = ((64, 256, 1, 1, 3), (128, 512, 1, 2, 4), (256, 1024, 2, 1, 23), (512, 2048, 4, 1, 3))


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    """Conv (no bias, 'same' padding for the dilation) and BN, as the release's ``conv_block``."""
    pad = dilation * (k - 1) // 2
    return [nn.Conv2d(cin, cout, k, stride, pad, dilation, bias=False), nn.BatchNorm2d(cout)]


class Res131(nn.Module):
    """1x1 -> 3x3 (stride, dilation) -> 1x1 bottleneck with BN, summed with the input (or its 1x1
    projection where the channels change), then ReLU."""

    def __init__(self, cin: int, mid: int, cout: int, dilation: int = 1, stride: int = 1) -> None:
        super().__init__()
        layers = _conv_bn(cin, mid, 1) + [nn.ReLU(True)]
        layers += _conv_bn(mid, mid, 3, stride, dilation) + [nn.ReLU(True)]
        self.res = nn.Sequential(*layers, *_conv_bn(mid, cout, 1))
        self.proj = nn.Sequential(*_conv_bn(cin, cout, 1, stride)) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = self.res(x)
        return torch.relu((self.proj(x) if self.proj is not None else x) + res)


class OutdoorSceneSeg(nn.Module):
    """The segmentation network (module docstring) at ``1 / shrink`` of the release's widths (``shrink
    = 1``: the release; larger values give small stand-ins with the same keys)."""

    def __init__(self, shrink: int = 1, classes: int = len(CLASSES)) -> None:
        super().__init__()
        c = [64 // shrink, 128 // shrink, 512 // shrink]
        layers = _conv_bn(3, c[0], 3, 2) + [nn.ReLU(True)] + _conv_bn(c[0], c[0], 3) + [nn.ReLU(True)]
        layers += _conv_bn(c[0], c[1], 3) + [nn.ReLU(True), nn.MaxPool2d(3, 2, 0, ceil_mode=True)]
        cin = c[1]
        for mid, out, dilation, stride, blocks in STAGES:
            for b in range(blocks):
                layers.append(Res131(cin, mid // shrink, out // shrink, dilation, stride if b == 0 else 1))
                cin = out // shrink
        layers += _conv_bn(cin, c[2], 3) + [nn.ReLU(True), nn.Dropout(0.1), nn.Conv2d(c[2], classes, 1)]
        self.feature = nn.Sequential(*layers)
        self.deconv = nn.ConvTranspose2d(classes, classes, 16, 8, 4, groups=classes, bias=False)
        self.softmax = nn.Softmax(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(N, 8, 8 h', 8 w')`` of the mean-removed BGR ``x`` (``8 h' = H`` when
        ``H`` is a multiple of 8, else up to 7 rows more; :func:`segment` crops them)."""
        return self.softmax(self.deconv(self.feature(x)))


def network_input(up: torch.Tensor) -> torch.Tensor:
    """The network's input from the bicubic-upsampled RGB image ``up`` in [0, 1] (unclipped): B, G, R
    times 255 minus :data:`BGR_MEAN` (``test_segmentation.py``)."""
    mean = torch.tensor(BGR_MEAN, dtype=up.dtype, device=up.device).view(1, 3, 1, 1)
    return up.flip(1) * 255.0 - mean


def segment(net: OutdoorSceneSeg, up: torch.Tensor) -> torch.Tensor:
    """The probability maps of the upsampled RGB image ``up`` ``(N, 3, H, W)`` in [0, 1], at its size
    ``H x W``. The authors crop their HR images to multiples of 8 first; for other sizes the deconv's
    extra rows/columns past ``H x W`` (bottom, right: its output grid starts at the input's) are cut."""
    h, w = up.shape[-2:]
    return net(network_input(up))[..., :h, :w]


def is_outdoor_seg_state_dict(sd: dict[str, torch.Tensor]) -> bool:
    """The release's layout: ``feature.0`` (first conv), ``feature.10.res`` (first Res131),
    ``feature.47`` (the class conv, with bias), ``deconv.weight``."""
    keys = ("feature.0.weight", "feature.10.res.0.weight", "feature.47.bias", "deconv.weight")
    return all(k in sd for k in keys)


def from_state_dict(sd: dict[str, torch.Tensor]) -> OutdoorSceneSeg:
    """Build the network from its state dict (widths read off ``feature.0``, classes off
    ``feature.47``); every key must load. The release's file predates BatchNorm's
    ``num_batches_tracked`` counters: present or not, they are not needed at test time."""
    shrink = 64 // sd["feature.0.weight"].shape[0]
    net = OutdoorSceneSeg(shrink, sd["feature.47.weight"].shape[0])
    counters = re.compile(r"\.num_batches_tracked$")
    missing, unexpected = net.load_state_dict(
        {k: v for k, v in sd.items() if not counters.search(k)}, strict=False
    )
    missing = [k for k in missing if not counters.search(k)]
    if missing or unexpected:
        raise KeyError(f"missing keys {missing[:3]}, unexpected keys {unexpected[:3]}")
    return net
