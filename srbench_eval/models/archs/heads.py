"""The fine-grained dynamic (FDL) output head: regression turned into classification first.

The head replaces a network's last convolution. For every pixel and channel it predicts ``K = 2^n``
bin logits ``z_1..z_K`` over the value range ``[v_min, v_max]`` (bin ``k`` covers
``[v_min + k*w, v_min + (k+1)*w)``, ``w = (v_max - v_min) / K``) and one regression value ``t``.
The final value is regressed only inside a *dynamic anchor area* around the predicted bin:

    b     = argmax_k z_k                               (predicted bin, 0-based)
    p     = softmax(z)
    r     = min { r >= 0 : sum_{k=max(0,b-r)}^{min(K-1,b+r)} p_k >= tau }     (r = K-1 at worst)
    lo    = v_min + max(0, b - r) * w  - m * w
    hi    = v_min + (min(K-1, b + r) + 1) * w  + m * w
    value = offset + lo + sigmoid(t) * (hi - lo)

``centre`` (optional, e.g. 0 for a residual head): the bins are shifted by less than one width so
that this value is the middle of a bin rather than an edge, and the head is initialised to output
it (that bin's logit biased to hold mass > tau, the regression weights zero).

``m`` (``margin``, in bin widths, default 0) widens the anchor area on both sides: with ``m = 0``
(the paper's area) a value on a bin edge needs a saturated sigmoid and a pixel classified one bin
off can never be corrected; with ``m = 0.5`` the regression reaches half a bin into the
neighbours (see :mod:`srbench_eval.losses.fine_grained` for the measured effect).

``b`` and ``r`` are computed without gradient: the classifier is trained by the cross-entropy term
of :class:`~srbench_eval.losses.fine_grained.FineGrainedLoss`, the regressor by its L1 term through
``sigmoid(t)``. A confident classifier (mass concentrated on the predicted bin) gets ``r = 0`` and
regresses inside one bin; an unsure one regresses over a wider area. Inference computes the same
``value`` (one convolution, a softmax and a cumulative sum over ``K`` bins: no extra network).

``offset`` is an optional per-pixel base the head predicts relative to: ``None`` for networks that
predict the image itself (SRCNN, range [0, 1]); LapSRN predicts the sub-band residual over
``[-1, 1]`` added to its upsampled image, so the classes are residual bins there.

Defaults: ``n = 4`` (16 bins), ``tau = 0.9`` (the area must hold 90% of the probability mass).
These are this harness's choices (the issue fixes ``n = 4``); sweep them with
``--set arch.fdl.tau=...``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_BINS_LOG2 = 4
DEFAULT_TAU = 0.9


@dataclass
class FineGrainedOutput:
    """Everything the FDL loss needs from one head.

    ``logits``: ``(N, C, K, H, W)``; ``reg``: raw regression ``t``, ``(N, C, H, W)``; ``value``: the
    final output ``(N, C, H, W)`` (differentiable w.r.t. ``reg`` and ``offset``); ``bin`` and
    ``radius``: predicted bin ``b`` and anchor radius ``r`` (int64, no gradient); ``offset``: the base
    the value is relative to, or ``None``; ``v_min``/``v_max``: the binned range.
    """

    logits: torch.Tensor
    reg: torch.Tensor
    value: torch.Tensor
    bin: torch.Tensor
    radius: torch.Tensor
    offset: torch.Tensor | None
    v_min: float
    v_max: float

    @property
    def bins(self) -> int:
        return self.logits.shape[2]

    def target_bins(self, target: torch.Tensor) -> torch.Tensor:
        """Ground-truth class of every element: ``floor((y - offset - v_min) / w)`` clamped to 0..K-1."""
        rel = target if self.offset is None else target - self.offset.detach()
        k = torch.floor((rel - self.v_min) / (self.v_max - self.v_min) * self.bins)
        return k.clamp_(0, self.bins - 1).long()


@torch.no_grad()
def anchor_radius(probs: torch.Tensor, bin: torch.Tensor, tau: float) -> torch.Tensor:
    """Smallest ``r`` whose window ``[b-r, b+r]`` (clipped to the bins) holds softmax mass ``>= tau``.

    ``probs`` is ``(N, C, K, H, W)``, ``bin`` ``(N, C, H, W)``; returns int64 ``(N, C, H, W)``. The
    window covering every bin (``r = K - 1``) always qualifies, whatever the rounding.
    """
    k = probs.shape[2]
    # cdf0[..., j, ...] = mass of bins 0..j-1, so the window [a, c] holds cdf0[c + 1] - cdf0[a].
    cdf0 = F.pad(torch.cumsum(probs, dim=2), (0, 0, 0, 0, 1, 0))
    r = torch.arange(k, device=probs.device).view(1, 1, k, 1, 1)
    b = bin.unsqueeze(2)
    mass = torch.gather(cdf0, 2, (b + r).clamp(max=k - 1) + 1) - torch.gather(cdf0, 2, (b - r).clamp(min=0))
    enough = mass >= tau  # dim 2 now indexes r
    enough[:, :, -1] = True
    return enough.to(torch.uint8).argmax(dim=2)


def decode(
    logits: torch.Tensor,
    reg: torch.Tensor,
    tau: float,
    v_min: float = 0.0,
    v_max: float = 1.0,
    offset: torch.Tensor | None = None,
    margin: float = 0.0,
) -> FineGrainedOutput:
    """Turn bin logits ``(N, C, K, H, W)`` and regression ``(N, C, H, W)`` into the final value."""
    k = logits.shape[2]
    with torch.no_grad():
        probs = F.softmax(logits.detach().float(), dim=2)
        b = probs.argmax(dim=2)
        r = anchor_radius(probs, b, tau)
        width = (v_max - v_min) / k
        lo = v_min + ((b - r).clamp(min=0).to(reg.dtype) - margin) * width
        hi = v_min + ((b + r).clamp(max=k - 1) + 1 + margin).to(reg.dtype) * width
    value = lo + torch.sigmoid(reg) * (hi - lo)
    if offset is not None:
        value = value + offset
    return FineGrainedOutput(logits, reg, value, b, r, offset, v_min, v_max)


class FineGrainedHead(nn.Module):
    """A convolution predicting ``K = 2^n`` bin logits and one regression value per output channel.

    ``forward(features, offset=None)`` returns a :class:`FineGrainedOutput`; its ``value`` is the
    network's output. See the module docstring for the equations.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 3,
        bins_log2: int = DEFAULT_BINS_LOG2,
        tau: float = DEFAULT_TAU,
        kernel_size: int = 3,
        v_min: float = 0.0,
        v_max: float = 1.0,
        margin: float = 0.0,
        centre: float | None = None,
    ) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.margin = margin
        if not 1 <= bins_log2 <= 10:
            raise ValueError(f"bins_log2 must be in 1..10, got {bins_log2}")
        if not 0.0 < tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {tau}")
        self.out_channels = out_channels
        self.bins = 2**bins_log2
        self.tau = tau
        self.v_min, self.v_max = v_min, v_max
        self.conv = nn.Conv2d(
            in_channels, out_channels * (self.bins + 1), kernel_size, padding=kernel_size // 2
        )
        if centre is not None:
            self._centre_on(centre)

    def _centre_on(self, centre: float) -> None:
        """Shift the bins so that ``centre`` is the middle of one (not an edge), and start there:
        that bin's logit biased so that it holds mass ``> tau`` (``r = 0``), the regression
        weights zero (``sigmoid(0)``: the middle of the area). A residual head starts as the
        identity on its ``offset`` (e.g. bicubic for SRCNN)."""
        width = (self.v_max - self.v_min) / self.bins
        shift = (((centre - self.v_min) / width) % 1.0 - 0.5) * width
        self.v_min, self.v_max = self.v_min + shift, self.v_max + shift
        k = min(self.bins - 1, max(0, int((centre - self.v_min) // width)))
        tau = min(self.tau, 0.999)
        bias = math.log(tau / (1 - tau) * (self.bins - 1)) + 1.0
        with torch.no_grad():
            w = self.conv.weight.view(self.out_channels, self.bins + 1, *self.conv.weight.shape[1:])
            b = self.conv.bias.view(self.out_channels, self.bins + 1)
            w[:, self.bins].zero_()
            b[:, self.bins].zero_()
            b[:, : self.bins].zero_()
            b[:, k] = bias

    def forward(self, features: torch.Tensor, offset: torch.Tensor | None = None) -> FineGrainedOutput:
        y = self.conv(features)
        n, _, h, w = y.shape
        y = y.view(n, self.out_channels, self.bins + 1, h, w)
        return decode(
            y[:, :, : self.bins], y[:, :, self.bins], self.tau, self.v_min, self.v_max, offset, self.margin
        )
