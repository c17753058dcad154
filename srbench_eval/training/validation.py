"""Validation during training, under the evaluation protocol of ``srbench-eval run``.

The :class:`~srbench_eval.protocol.Protocol` object is the one ``run`` takes (``train --protocol``);
under the default ``matlab``, for every image of the validation set: ``HR = modcrop(HR, s)``, ``LR =
uint8(imresize(HR, 1/s))`` (MATLAB bicubic), ``SR = round(clip(255 * net(LR / 255)))``, then PSNR
and SSIM on the Y channel with the protocol's border crop (:mod:`srbench_eval.metrics.fidelity`). A
grey image is fed replicated to RGB and its output averaged back to grey, as in the evaluation loop.
The numbers are therefore the ones ``run`` reports for the same checkpoint. The bicubic baseline of
the same set is computed once, so every validation record shows the margin over bicubic.
"""

from __future__ import annotations

import torch
from torch import nn

from srbench_eval.data.datasets.registry import open_dataset
from srbench_eval.data.degrade.bicubic import bicubic_sr, quantise_sr
from srbench_eval.data.pairs import make_pair
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics import MetricSettings, get_metric
from srbench_eval.models.archs.bicubic import Bicubic
from srbench_eval.models.base import quantised_output
from srbench_eval.models.feeding import model_input
from srbench_eval.protocol import DEFAULT, Protocol


def protocol_output(net: nn.Module, lr: torch.Tensor, protocol: Protocol, accepts_grey: bool) -> torch.Tensor:
    """``net``'s SR image of ``lr`` (0..255) as the protocol scores it: :func:`quantised_output` under
    the default; otherwise the bicubic baseline with the protocol's arithmetic, or the network's
    ``255 * net(lr / 255)`` (:func:`model_input`, RGB) quantised as the protocol says (``round`` /
    ``truncate`` / ``none``)."""
    if protocol.is_default:
        return quantised_output(net, lr, accepts_grey)
    if isinstance(net, Bicubic):
        return bicubic_sr(lr, net.scale, protocol)

    def values(x: torch.Tensor) -> torch.Tensor:
        return net(x.to(torch.float32))

    x = model_input(protocol, lr)
    grey_in = x.shape[1] == 1 and not accepts_grey
    out = values(x.expand(-1, 3, -1, -1) if grey_in else x)
    out = out.mean(dim=1, keepdim=True) if grey_in else out
    if not torch.isfinite(out).all():
        raise ValueError("NaN or infinite values in the output")
    return quantise_sr(out.double() * 255.0, protocol)


class Validator:
    """PSNR / SSIM of a generator on a benchmark under ``protocol``, as ``run`` computes them."""

    def __init__(
        self,
        spec: str,
        scale: int,
        device: torch.device,
        mirror: str | None = None,
        max_images: int = 0,
        protocol: Protocol = DEFAULT,
    ) -> None:
        if protocol.network_input != "rgb":
            raise SrbenchError(
                f"protocol {protocol.label} feeds networks the Y channel; training validation runs "
                "the RGB generators of the recipes: use --protocol matlab (or another RGB protocol)"
            )
        dataset = open_dataset(spec, mirror=mirror)
        self.name = dataset.name
        self.scale = scale
        self.device = device
        self.protocol = protocol
        paths = dataset.images[:max_images] if max_images else dataset.images
        pairs = [make_pair(path, scale, protocol, device) for path in paths]
        self.items = [(pair.lr, pair.hr) for pair in pairs]
        self.settings = MetricSettings(scale, protocol, device)
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
                    sr = protocol_output(net, lr, self.protocol, accepts_grey)
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
