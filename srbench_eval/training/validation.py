"""Validation during training, under the evaluation protocol of ``srbench-eval run``.

For every image of the validation set: ``HR = modcrop(HR, s)``, ``LR = uint8(imresize(HR, 1/s))``
(MATLAB bicubic), ``SR = round(clip(255 * net(LR / 255)))``, then PSNR and SSIM on the Y channel
with a border of ``s`` pixels cropped (:mod:`srbench_eval.metrics.fidelity`). A grey image is fed
replicated to RGB and its output averaged back to grey, as in the evaluation loop. The numbers are
therefore the ones ``run`` reports for the same checkpoint. The bicubic baseline of the same set is
computed once, so every validation record shows the margin over bicubic.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from srbench_eval.data.datasets import open_dataset
from srbench_eval.data.degrade import degrade_bicubic
from srbench_eval.data.images import modcrop, read_image
from srbench_eval.metrics import MetricSettings, get_metric
from srbench_eval.models.archs.bicubic import Bicubic


def _tensor(img: np.ndarray, device: torch.device) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(img)).to(device=device, dtype=torch.float32)
    return (t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)).unsqueeze(0)


class Validator:
    """PSNR / SSIM (Y, border = scale) of a generator on a benchmark, as ``run`` computes them."""

    def __init__(
        self, spec: str, scale: int, device: torch.device, mirror: str | None = None, max_images: int = 0
    ) -> None:
        dataset = open_dataset(spec, mirror=mirror)
        self.name = dataset.name
        self.scale = scale
        self.device = device
        paths = dataset.images[:max_images] if max_images else dataset.images
        self.items: list[tuple[torch.Tensor, torch.Tensor]] = []
        for path in paths:
            hr = modcrop(read_image(path), scale)
            self.items.append((_tensor(degrade_bicubic(hr, scale), device), _tensor(hr, device)))
        self.settings = MetricSettings(scale=scale, crop_border=scale, device=device)
        self.bicubic = self.score(Bicubic(scale).to(device), accepts_grey=True)

    @torch.no_grad()
    def score(self, net: nn.Module, accepts_grey: bool = False) -> dict[str, float]:
        """``{"psnr": ..., "ssim": ...}`` of ``net`` (run in eval mode, float32, mode restored)."""
        was_training = net.training
        net.eval()
        metrics = {name: get_metric(name)(self.settings) for name in ("psnr", "ssim")}
        try:
            for lr, hr in self.items:
                x = lr / 255.0
                grey = x.shape[1] == 1 and not accepts_grey
                out = net(x.expand(-1, 3, -1, -1) if grey else x)
                if grey:
                    out = out.mean(dim=1, keepdim=True)
                sr = (out.double() * 255.0).clamp(0, 255).round().float()
                if not torch.isfinite(sr).all():
                    return {"psnr": float("nan"), "ssim": float("nan")}
                for m in metrics.values():
                    m.update(sr, hr)
        finally:
            net.train(was_training)
        return {name: m.compute().value for name, m in metrics.items()}

    def __call__(self, net: nn.Module) -> dict[str, float]:
        """The scores of ``net`` and the bicubic ones: ``psnr, ssim, bicubic_psnr, bicubic_ssim``."""
        scores = self.score(net)
        scores.update({f"bicubic_{k}": v for k, v in self.bicubic.items()})
        return scores
