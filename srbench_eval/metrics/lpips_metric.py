"""LPIPS, the Learned Perceptual Image Patch Similarity (Zhang et al., CVPR 2018), lower is better.

Computed by the ``lpips`` package (v0.1 linear layers, shipped inside its wheel) on an ImageNet trunk
loaded through torchvision's own path from the torch hub cache (see :mod:`srbench_eval.weights`)::

    d(x, y) = sum_l  1 / (H_l W_l)  sum_{h,w}  || w_l * (f_l(x)[h,w] - f_l(y)[h,w]) ||_2^2

where ``f_l`` are the activations of trunk layer ``l`` unit-normalised over channels
(``lpips.normalize_tensor``) and ``w_l`` the learned non-negative per-channel weights of layer ``l``
(the package's 1x1 convolutions ``lins``), averaged over positions (``lpips.spatial_average``).

* ``lpips``: AlexNet trunk, the default of the SR papers; ``lpips-vgg``: VGG16 trunk.
* Inputs are the 8-bit RGB values mapped to ``[-1, 1]`` (``x / 127.5 - 1``), the range LPIPS was
  trained on; feeding ``[0, 1]`` silently gives wrong values (the package's ``normalize=True`` pitfall).
* Grey images (one channel) are replicated to three identical RGB channels, as PIL's
  ``convert("RGB")`` does in the package's own loaders.
* By default the whole image is compared (no border crop), as the SR papers compute LPIPS; the
  protocol field ``perceptual_crop`` (``--protocol-set perceptual_crop=true``) drops the protocol's
  crop border first, as PSNR does (:attr:`MetricSettings.perceptual_crop`).
* Refused with a one-line error rather than a silent wrong number: NaN or infinite values, values
  outside 0..255, images smaller than the trunk needs after cropping (31 px for AlexNet, 16 for VGG16).

Speed, with values equal to the package's to float rounding (channels-last convolutions reorder
sums; the tests hold them to 1e-6): the network is loaded once per process and device and kept in
channels-last layout (oneDNN's native one on CPUs); the SR and HR images of a pair go through the
trunk as one batch; the normalised HR features, identical for every model of a dataset, are
computed once: in ``srbench-eval run`` as the metric's :meth:`LPIPS.reference`, by the evaluation
loop's read-ahead threads, for all the models of the run; for direct callers of ``update`` they are
cached per process (:data:`HR_FEATURES`, filled up to its byte budget, keyed by a hash of the
image), so a further model of the dataset runs the trunk on its SR images only. On CUDA,
convolutions run in full fp32 (no TF32) while the metric computes, so values do not depend on batch
composition.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import torch

from srbench_eval import weights
from srbench_eval.digests import sha256_bytes
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import register
from srbench_eval.metrics.base import MetricSettings, PerImageMetric

# ------------------------------------------------------------------ helpers shared with metrics/fid.py


def checked_rgb(x: torch.Tensor, metric: str, what: str, min_side: int = 1) -> torch.Tensor:
    """Check an ``(N, C, H, W)`` batch of 0..255 values for a perceptual metric and return it as RGB.

    Raises a one-line :class:`SrbenchError` for NaN/infinite values, values outside 0..255 and
    images smaller than ``min_side`` pixels; replicates a grey (one-channel) batch to 3 channels.
    """
    lo, hi = (float(v) for v in torch.aminmax(x))  # one pass; NaN propagates to both
    if math.isnan(lo) or math.isnan(hi):
        raise SrbenchError(f"{metric}: the {what} image has NaN values")
    if not (lo >= 0 and hi <= 255):  # also catches infinities
        raise SrbenchError(
            f"{metric}: {what} values span {lo:g}..{hi:g}, outside 0..255; metrics take 8-bit values "
            f"(round and clip the output first)"
        )
    h, w = x.shape[-2:]
    if min(h, w) < min_side:
        raise SrbenchError(
            f"{metric}: the {what} image is {h}x{w} pixels; it needs at least {min_side}x{min_side}"
        )
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def image_digest(x: torch.Tensor) -> str:
    """A hash of an image tensor's shape and values: the key of cached HR features (SHA-256, about
    1.5 ms for a 500x480 RGB image)."""
    data = x.detach().to("cpu", torch.float32).contiguous().numpy()
    return sha256_bytes(str(data.shape).encode() + data.tobytes())


class FeatureCache:
    """Network features of HR images, which every model of a dataset shares, kept per process.

    Filled until ``max_bytes`` and never evicted: every model walks a dataset in the same order, so
    evicting the oldest entries would throw away exactly what the next model needs first.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._store: dict[tuple[object, ...], list[torch.Tensor]] = {}

    def get(self, key: tuple[object, ...]) -> list[torch.Tensor] | None:
        return self._store.get(key)

    def put(self, key: tuple[object, ...], feats: list[torch.Tensor]) -> None:
        size = sum(f.numel() * f.element_size() for f in feats)
        if key not in self._store and self.bytes + size <= self.max_bytes:
            self._store[key] = feats
            self.bytes += size

    def clear(self) -> None:
        self._store.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._store)


_FP32_LOCK = threading.Lock()
_fp32_users = 0
_fp32_saved = True


@contextmanager
def exact_fp32(device: torch.device) -> Iterator[None]:
    """Full-precision fp32 convolutions on CUDA (cuDNN TF32 off), restoring the setting after.

    The flag is process-wide and the evaluation loop's read-ahead threads run networks too, so
    entries are counted: the first one saves the setting and turns TF32 off, the last one out
    restores it, and no thread can switch TF32 back on under another one's convolutions.
    """
    global _fp32_users, _fp32_saved
    if torch.device(device).type != "cuda":
        yield
        return
    with _FP32_LOCK:
        if _fp32_users == 0:
            _fp32_saved = torch.backends.cudnn.allow_tf32
            torch.backends.cudnn.allow_tf32 = False
        _fp32_users += 1
    try:
        yield
    finally:
        with _FP32_LOCK:
            _fp32_users -= 1
            if _fp32_users == 0:
                torch.backends.cudnn.allow_tf32 = _fp32_saved


# ------------------------------------------------------------------ LPIPS

HR_FEATURES = FeatureCache(512 << 20)
"""Normalised trunk features of HR images, per process (512 MiB: all of Set5/Set14/BSD100 with
AlexNet; Urban100's images take about 30 MB each)."""


def _build_lpips(net: str) -> torch.nn.Module:
    """``lpips.LPIPS(net=...)`` as the package builds it: torchvision trunk from the hub cache,
    v0.1 linear layers from the wheel. torchvision >= 0.13 maps the package's ``pretrained=True``
    to the ``IMAGENET1K_V1`` weights (the same file names) with a deprecation warning, silenced here;
    no shim is needed while torchvision keeps that legacy argument (0.29 does)."""
    import lpips

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torchvision\.models\._utils")
        model = lpips.LPIPS(net=net, version="0.1", verbose=False)
    return model.to(memory_format=torch.channels_last)


def lpips_features(model: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Unit-normalised trunk activations ``f_l`` of a batch in ``[-1, 1]`` (version 0.1 scaling)."""
    import lpips

    x = model.scaling_layer(x).contiguous(memory_format=torch.channels_last)
    return [lpips.normalize_tensor(f) for f in model.net(x)]


def lpips_from_features(
    model: torch.nn.Module, f0: list[torch.Tensor], f1: list[torch.Tensor]
) -> torch.Tensor:
    """``sum_l spatial_average(lin_l((f0_l - f1_l)^2))``, shape ``(N,)``."""
    import lpips

    total = 0
    for lin, a, b in zip(model.lins, f0, f1, strict=True):
        total = total + lpips.spatial_average(lin((a - b) ** 2))
    return total.flatten()


def lpips_distance(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """LPIPS between two ``(N, 3, H, W)`` batches in ``[-1, 1]``, shape ``(N,)``: the computation of
    ``lpips.LPIPS.forward(x, y)`` (version 0.1, spatial average), both sent through the trunk at once."""
    n = x.shape[0]
    feats = lpips_features(model, torch.cat([x, y]))
    return lpips_from_features(model, [f[:n] for f in feats], [f[n:] for f in feats])


@register
class LPIPS(PerImageMetric, facts="lpips"):
    """LPIPS with the AlexNet trunk (``lpips``), per image on the full image (or without the
    protocol's border when its ``perceptual_crop`` is on); see the module doc."""

    trunk: ClassVar[str] = "alex"
    weights_key: ClassVar[str] = "alexnet"
    min_side: ClassVar[int] = 31  # AlexNet's conv1 (11x11/4) and two 3x3/2 max-pools before relu5

    def __init__(self, settings: MetricSettings) -> None:
        super().__init__(settings)
        self.crop_border = settings.perceptual_crop
        self.model = weights.load_network(
            f"lpips-{self.trunk}",
            self.weights_key,
            f"metric {self.name}",
            settings.device,
            lambda: _build_lpips(self.trunk),
        )
        self._scope = (
            self.name,
            str(settings.device),
            self.crop_border,
            *weights.file_identity(self.weights_key),
        )

    def _prepared(self, x: torch.Tensor, what: str) -> torch.Tensor:
        """The cropped batch in ``[-1, 1]`` on the metric's device, checked (see :func:`checked_rgb`)."""
        c = self.crop_border
        if c:
            x = x[..., c:-c, c:-c]
        x = checked_rgb(x.to(self.settings.device, torch.float32), self.name, what, self.min_side)
        return x / 127.5 - 1

    def reference(self, hr: torch.Tensor) -> list[list[torch.Tensor]]:
        """The normalised trunk features of every HR image: the HR half of the work, the same for
        every model. The evaluation loop computes it once per image for all the models of a run, so
        it bypasses :data:`HR_FEATURES` (no hashing, no copy to the host)."""
        x = self._prepared(hr, "HR")
        with torch.inference_mode(), exact_fp32(self.settings.device):
            return [lpips_features(self.model, x[i : i + 1]) for i in range(x.shape[0])]

    def score(self, sr: torch.Tensor, hr: torch.Tensor, ref: object = None) -> torch.Tensor:
        x = self._prepared(sr, "SR")
        if ref is None:
            y = self._prepared(hr, "HR")
        out = []
        with torch.inference_mode(), exact_fp32(self.settings.device):
            for i in range(x.shape[0]):
                if ref is not None:
                    f_sr, f_hr = lpips_features(self.model, x[i : i + 1]), ref[i]  # type: ignore[index]
                else:
                    key = (*self._scope, image_digest(y[i]))
                    f_hr = HR_FEATURES.get(key)
                    if f_hr is None:  # SR and HR through the trunk as one batch
                        feats = lpips_features(self.model, torch.cat([x[i : i + 1], y[i : i + 1]]))
                        f_sr, f_hr = [f[:1] for f in feats], [f[1:].clone() for f in feats]
                        HR_FEATURES.put(key, f_hr)
                    else:
                        f_sr = lpips_features(self.model, x[i : i + 1])
                out.append(lpips_from_features(self.model, f_sr, f_hr))
        values = torch.cat(out)
        if not torch.isfinite(values).all():  # cannot happen on checked input; never report it silently
            raise SrbenchError(f"{self.name}: the network returned a non-finite value")
        return values


@register
class LPIPSVGG(LPIPS, facts="lpips-vgg"):
    """LPIPS with the VGG16 trunk (``lpips-vgg``); same option as :class:`LPIPS`."""

    trunk = "vgg"
    weights_key = "vgg16"
    min_side = 16  # four 2x2 max-pools before relu5_3


__all__ = [
    "HR_FEATURES",
    "LPIPS",
    "LPIPSVGG",
    "FeatureCache",
    "checked_rgb",
    "exact_fp32",
    "image_digest",
    "lpips_distance",
    "lpips_features",
    "lpips_from_features",
]
