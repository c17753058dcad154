"""Validation during training, under the evaluation protocol of ``srbench-eval run``.

For every image of the validation set: ``HR = modcrop(HR, s)``, ``LR = uint8(imresize(HR, 1/s))``
(MATLAB bicubic), ``SR = round(clip(255 * net(LR / 255)))``, then PSNR and SSIM on the Y channel
with a border of ``s`` pixels cropped (:mod:`srbench_eval.metrics.fidelity`). A grey image is fed
replicated to RGB and its output averaged back to grey, as in the evaluation loop. The numbers are
therefore the ones ``run`` reports for the same checkpoint. The bicubic baseline of the same set is
computed once, so every validation record shows the margin over bicubic.
"""

from __future__ import annotations

import torch
from torch import nn

from srbench_eval.data.datasets import open_dataset
from srbench_eval.data.pairs import make_pair
from srbench_eval.metrics import MetricSettings, get_metric
from srbench_eval.models.archs.bicubic import Bicubic
from srbench_eval.models.base import quantised_output


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
        pairs = [make_pair(path, scale, scale, device) for path in paths]
        self.items = [(pair.lr, pair.hr) for pair in pairs]
        self.settings = MetricSettings(scale=scale, crop_border=scale, device=device)
        self.bicubic = self.score(Bicubic(scale).to(device), accepts_grey=True)

    @torch.no_grad()
    def score(self, net: nn.Module, accepts_grey: bool = False) -> dict[str, float]:
        """Mean PSNR and SSIM of ``net`` (eval mode for the duration, restored after); NaN when the
        network produces a non-finite value."""
        was_training = net.training
        net.eval()
        metrics = {name: get_metric(name)(self.settings) for name in ("psnr", "ssim")}
        try:
            for lr, hr in self.items:
                try:
                    sr = quantised_output(net, lr, accepts_grey)
                except ValueError:
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
