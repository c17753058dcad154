"""SFTGAN: X. Wang, K. Yu, C. Dong, C. C. Loy, "Recovering Realistic Texture in Image Super-resolution
by Deep Spatial Feature Transform", CVPR 2018; the generator of the paper (the Torch model, converted
by the authors to ``SFTGAN_torch.pth``: ``SFT_Net_torch`` of xinntao/SFTGAN ``pytorch_test``), under
that file's key names, and :class:`SFTGAN`, which runs it the way the authors' test code does.

Conditioned on the segmentation probability maps ``P`` (8 classes, HR size) of
:mod:`~srbench_eval.models.archs.outdoor_seg`::

    c   = CondNet(P)                       # 4x4 conv stride 4 (8 -> 128), three 1x1 (128), 1x1 -> 32,
                                           # LeakyReLU(0.1) between: the LR grid
    SFT(f, c) = f * gamma(c) + beta(c)     # gamma, beta: 1x1 (32 -> 32), LeakyReLU(0.01), 1x1 (32 -> 64)
    f0  = conv0(LR)                        # 3 -> 64
    b   = f0; 16 x: b = b + conv1(relu(SFT1(conv0(relu(SFT0(b, c))), c)))
    f   = f0 + conv(SFT(b, c))
    SR  = conv(relu(conv(relu(conv(up2(relu(conv(up2(f)))))))))   # up2: nearest, x2

The paper's Torch version has no ``+ 1`` in the SFT scale (the PyTorch-trained
``SFTGAN_noBN_OST_bg.pth`` has, and other layers; it is not built here). Keys: ``conv0``,
``sft_branch.0``-``15`` (``sft0``, ``conv0``, ``sft1``, ``conv1``; each SFT layer
``SFT_scale_conv0/1``, ``SFT_shift_conv0/1``), ``sft_branch.16`` (SFT), ``sft_branch.17`` (conv),
``HR_branch.1/4/6/8`` (convs after the nearest up-samplings 0, 3), ``CondNet.0/2/4/6/8``.

Test procedure (``test_segmentation.py``, ``test_sftgan.py``; :class:`SFTGAN`): the LR image, RGB in
[0, 1], is upscaled x4 with MATLAB's bicubic ``imresize`` (unclipped) for the segmentation network
(BGR, [0, 255], mean removed); its softmax probabilities at the HR size condition the generator,
which takes the LR image itself, RGB in [0, 1]; the output is clamped to [0, 1] (``tensor2img``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from srbench_eval.data.degrade.bicubic import imresize
from srbench_eval.models.archs.outdoor_seg import OutdoorSceneSeg, segment


class SFTLayer(nn.Module):
    """``f * gamma(c) + beta(c)``; ``gamma``, ``beta``: 1x1 conv, LeakyReLU(0.01), 1x1 conv."""

    def __init__(self, feats: int = 64, cond: int = 32) -> None:
        super().__init__()
        self.SFT_scale_conv0 = nn.Conv2d(cond, cond, 1)
        self.SFT_scale_conv1 = nn.Conv2d(cond, feats, 1)
        self.SFT_shift_conv0 = nn.Conv2d(cond, cond, 1)
        self.SFT_shift_conv1 = nn.Conv2d(cond, feats, 1)

    def forward(self, fea: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale = self.SFT_scale_conv1(F.leaky_relu(self.SFT_scale_conv0(cond), 0.01))
        shift = self.SFT_shift_conv1(F.leaky_relu(self.SFT_shift_conv0(cond), 0.01))
        return fea * scale + shift


class ResBlockSFT(nn.Module):
    """``f + conv1(relu(SFT1(conv0(relu(SFT0(f, c))), c)))``."""

    def __init__(self, feats: int = 64, cond: int = 32) -> None:
        super().__init__()
        self.sft0 = SFTLayer(feats, cond)
        self.conv0 = nn.Conv2d(feats, feats, 3, 1, 1)
        self.sft1 = SFTLayer(feats, cond)
        self.conv1 = nn.Conv2d(feats, feats, 3, 1, 1)

    def forward(self, fea: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        out = self.conv0(torch.relu(self.sft0(fea, cond)))
        return fea + self.conv1(torch.relu(self.sft1(out, cond)))


class SFTNet(nn.Module):
    """The generator (module docstring), x4: ``feats`` features, ``cond`` condition channels,
    ``hidden`` CondNet channels, ``blocks`` SFT residual blocks (release: 64, 32, 128, 16)."""

    scale = 4

    def __init__(self, feats: int = 64, cond: int = 32, hidden: int = 128, blocks: int = 16) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(3, feats, 3, 1, 1)
        branch: list[nn.Module] = [ResBlockSFT(feats, cond) for _ in range(blocks)]
        self.sft_branch = nn.Sequential(*branch, SFTLayer(feats, cond), nn.Conv2d(feats, feats, 3, 1, 1))

        def up() -> list[nn.Module]:
            conv = nn.Conv2d(feats, feats, 3, 1, 1)
            return [nn.Upsample(scale_factor=2, mode="nearest"), conv, nn.ReLU(True)]

        tail = [nn.Conv2d(feats, feats, 3, 1, 1), nn.ReLU(True), nn.Conv2d(feats, 3, 3, 1, 1)]
        self.HR_branch = nn.Sequential(*up(), *up(), *tail)
        cond_net: list[nn.Module] = [nn.Conv2d(8, hidden, 4, 4)]
        for cout in (hidden, hidden, hidden, cond):
            cond_net += [nn.LeakyReLU(0.1, True), nn.Conv2d(hidden, cout, 1)]
        self.CondNet = nn.Sequential(*cond_net)

    def forward(self, lr: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        """SR ``(N, 3, 4h, 4w)`` (unclamped) of ``lr`` ``(N, 3, h, w)`` and ``seg`` ``(N, 8, 4h, 4w)``."""
        cond = self.CondNet(seg)
        fea = self.conv0(lr)
        res = fea
        for block in self.sft_branch[:-2]:
            res = block(res, cond)
        res = self.sft_branch[-1](self.sft_branch[-2](res, cond))
        return self.HR_branch(fea + res)


def is_sftgan_state_dict(sd: dict[str, torch.Tensor]) -> bool:
    """The release's generator layout: ``CondNet``, ``sft_branch.N.sft0.SFT_scale_conv0``, ``HR_branch``."""
    keys = ("conv0.weight", "CondNet.0.weight", "sft_branch.0.sft0.SFT_scale_conv0.weight")
    return all(k in sd for k in keys) and any(k.startswith("HR_branch.") for k in sd)


def generator_from_state_dict(sd: dict[str, torch.Tensor]) -> SFTNet:
    """Build :class:`SFTNet` from its state dict (widths and blocks read off the tensors); every key
    must load (``strict``: the PyTorch-trained variant's ``HR_branch.0`` does not)."""
    blocks = len({k.split(".")[1] for k in sd if k.startswith("sft_branch.") and ".sft0." in k})
    feats, cond = sd["conv0.weight"].shape[0], sd["CondNet.8.weight"].shape[0]
    net = SFTNet(feats, cond, sd["CondNet.0.weight"].shape[0], blocks)
    net.load_state_dict(sd, strict=True)
    return net


class SFTGAN(nn.Module):
    """LR RGB in [0, 1] -> SR RGB in [0, 1]: segmentation of the bicubic x4 image, then the generator,
    as the authors' test code runs them (module docstring)."""

    scale = 4

    def __init__(self, generator: SFTNet, segmentation: OutdoorSceneSeg) -> None:
        super().__init__()
        self.generator = generator
        self.segmentation = segmentation

    def probabilities(self, lr: torch.Tensor) -> torch.Tensor:
        """The class probabilities ``(N, 8, 4h, 4w)`` that condition the generator."""
        up = imresize(lr, float(self.scale))
        return segment(self.segmentation, up)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.generator(lr, self.probabilities(lr)).clamp(0.0, 1.0)
