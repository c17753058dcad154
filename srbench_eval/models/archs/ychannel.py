"""The classic Y-channel networks exactly as their authors' MATLAB test code runs them.

These take and return ONE channel, the luma Y in [0, 1] (MATLAB ``rgb2ycbcr`` / 255), unlike the
RGB generators of the zoo (:mod:`srbench_eval.models.archs.srcnn` is an RGB, zero-padded SRCNN for
our own training recipes). Their weights come from the published ``.mat`` files
(:mod:`srbench_eval.models.published.formats`); every layer below mirrors one line of the released test code:

* :class:`SRCNNY` (Dong et al., ECCV 2014 / TPAMI 2016, ``SRCNN.m``): input = the bicubic-upscaled
  Y; three convolutions, each ``imfilter(x, w, 'same', 'replicate')`` (correlation, edge
  replication), ReLU after the first two::

      F1 = max(0, W1 * Y + B1),  F2 = max(0, W2 * F1 + B2),  F = W3 * F2 + B3

* :class:`FSRCNN` (Dong, Loy, Tang, ECCV 2016, ``FSRCNN.m`` + ``deconv.m``): input = the LR Y;
  ``imfilter`` convolutions with edge replication and PReLU (one slope per layer), then a
  ``stride = scale`` deconvolution of the LR features padded by one replicated pixel, cropped to
  ``scale * (h, w)`` starting ``(k + 1) / 2 + scale`` (1-based) into the full output (``k`` = 9),
  i.e. ``out[s i + t - p] += w[t] x[i]`` with ``p = (k - 1) / 2``. The released x3 model needs
  ``p = 3`` (one pixel earlier; copies of the test code crop at offset 6, not 7): with ``p = 4`` its
  Set5 PSNR drops from 33.16 to 26.31 dB. ``deconv_padding`` sets ``p`` (registry file option).
* :class:`VDSR` (Kim, Lee, Lee, CVPR 2016, ``VDSR_Matconvnet.m``): input = the bicubic-upscaled Y;
  20 ``vl_nnconv`` 3x3 convolutions with zero padding 1, ReLU between them, global residual::

      Y_SR = Y_up + f(Y_up)

All convolutions are correlations, as ``imfilter`` and ``vl_nnconv`` compute them, so the kernels
are used without flipping.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _same_replicate(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``imfilter(x, w, 'same', 'replicate')`` for every (out, in) channel pair, summed, plus bias."""
    kh, kw = conv.kernel_size
    if kh > 1 or kw > 1:
        x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2), mode="replicate")
    return conv(x)


class SRCNNY(nn.Module):
    """SRCNN on the bicubic-upscaled Y channel; ``kernel_sizes`` (9, 1, 5) or (9, 5, 5)."""

    upsampled_input = True

    def __init__(
        self, scale: int, num_feat: int = 64, num_feat2: int = 32, kernel_sizes: tuple[int, ...] = (9, 5, 5)
    ) -> None:
        super().__init__()
        self.scale = scale
        k1, k2, k3 = kernel_sizes
        self.conv1 = nn.Conv2d(1, num_feat, k1)
        self.conv2 = nn.Conv2d(num_feat, num_feat2, k2)
        self.conv3 = nn.Conv2d(num_feat2, 1, k3)

    def forward(self, y_up: torch.Tensor) -> torch.Tensor:
        x = F.relu(_same_replicate(y_up, self.conv1))
        x = F.relu(_same_replicate(x, self.conv2))
        return _same_replicate(x, self.conv3)


class FSRCNN(nn.Module):
    """FSRCNN(d, s, m) on the LR Y channel: 5x5 feature extraction (d), 1x1 shrinking (s), m 3x3
    mappings, 1x1 expanding (d), each with a single-slope PReLU, then a ``k x k`` deconvolution."""

    upsampled_input = False

    def __init__(
        self,
        scale: int,
        d: int = 56,
        s: int = 12,
        m: int = 4,
        deconv_size: int = 9,
        border: int = 1,
        deconv_padding: int | None = None,
    ) -> None:
        super().__init__()
        self.scale = scale
        self.border = border
        self.deconv_padding = (deconv_size - 1) // 2 if deconv_padding is None else deconv_padding
        sizes = [(1, d, 5), (d, s, 1)] + [(s, s, 3)] * m + [(s, d, 1)]
        self.convs = nn.ModuleList(nn.Conv2d(i, o, k) for i, o, k in sizes)
        self.prelus = nn.ModuleList(nn.PReLU(1) for _ in sizes)
        self.deconv = nn.ConvTranspose2d(d, 1, deconv_size, stride=scale)

    def forward(self, y_lr: torch.Tensor) -> torch.Tensor:
        x = y_lr
        for conv, act in zip(self.convs, self.prelus, strict=True):
            x = act(_same_replicate(x, conv))
        h, w = x.shape[-2:]
        x = F.pad(x, (self.border,) * 4, mode="replicate")
        full = self.deconv(x)
        start = self.deconv_padding + self.scale * self.border  # 0-based
        return full[..., start : start + self.scale * h, start : start + self.scale * w]


class VDSR(nn.Module):
    """VDSR: ``depth`` 3x3 zero-padded convolutions with ReLU between them and a global residual."""

    upsampled_input = True

    def __init__(self, scale: int, num_feat: int = 64, depth: int = 20) -> None:
        super().__init__()
        self.scale = scale
        chans = [1] + [num_feat] * (depth - 1) + [1]
        self.convs = nn.ModuleList(
            nn.Conv2d(i, o, 3, padding=1) for i, o in zip(chans, chans[1:], strict=False)
        )

    def forward(self, y_up: torch.Tensor) -> torch.Tensor:
        x = self.convs[0](y_up)
        for conv in self.convs[1:]:
            x = conv(F.relu(x))
        return y_up + x
