"""What the evaluation loop needs from a model.

An :class:`SRModel` gives the SR image of one test image under a protocol: :meth:`SRModel.sr_image`
(``(1, C, H, W)`` 8-bit values, float, the HR's shape). Networks implement ``upscale(lr)``:
``(N, C, h, w)`` float32 RGB in [0, 1] on the evaluation device -> ``(N, C, s*h, s*w)`` float in
(about) [0, 1]; :meth:`SRModel.sr_image` feeds them what the protocol says they see and quantises
their output as the protocol's SR images are (:func:`protocol_sr`). A folder of SR images
(:class:`~srbench_eval.models.loading.FolderModel`) reads its image instead; its
:meth:`SRModel.prepare` finds every file before anything is computed.

A network declares its input: ``network_input`` ``"rgb"`` (the zoo's generators; learned RGB
networks get a grey LR image replicated to three channels and their output averaged back to grey)
or ``"y"`` (the classic Y-only networks: ``upscale_y`` maps the Y channel in [0, 1] to the SR Y),
and ``pre_upsampled`` (it takes the bicubic-upscaled LR, SRCNN and VDSR). A Y network with an RGB
conversion (``rgb_conversion``: its ``upscale`` takes RGB and brings Cb/Cr from bicubic,
:class:`~srbench_eval.models.published.build.YChannelModel`) also runs under RGB protocols; a bare one is
refused there in one line. ``bicubic`` accepts any ``C``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from srbench_eval.data.degrade.bicubic import round_uint8
from srbench_eval.errors import SrbenchError
from srbench_eval.models.feeding import model_input, model_output

if TYPE_CHECKING:
    import torch

    from srbench_eval.protocol import Protocol


@dataclass
class SRModel(ABC):
    """A named model at one scale, ready for inference."""

    name: str
    scale: int | float
    provenance: dict[str, Any] = field(default_factory=dict)
    accepts_grey: bool = False
    scale_range: tuple[float, float] | None = None
    """The scales the model takes at run time, ``(low, high)`` inclusive (bicubic: ``(1, inf)``; a
    ``LABEL=pkg.mod:factory`` network declares one with a ``scale_range`` attribute); ``None``: the
    integer ``scale`` it was built for only."""

    network_input: ClassVar[str] = "rgb"
    pre_upsampled: ClassVar[bool] = False
    rgb_conversion: ClassVar[bool] = False
    tiling: ClassVar[tuple[int, int]] = (0, 0)  # (tile, overlap) of --tile: see tiled()
    takes_arrays: ClassVar[bool] = False
    """Whether :meth:`sr_image` also takes the NumPy batches of the evaluation's CPU path (and then
    returns one); otherwise the evaluation hands it tensors (:func:`srbench_eval.compiled.as_tensor`)."""

    def run(self, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """``fn(x)`` (``upscale`` or ``upscale_y``), tile by tile when ``tiling`` says so (:func:`tiled`)."""
        tile, overlap = self.tiling
        return tiled(fn, x, tile, overlap) if tile > 0 else fn(x)

    @abstractmethod
    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        """``(N, C, h, w)`` in [0, 1] -> ``(N, C, scale*h, scale*w)``."""

    def upscale_y(self, y: torch.Tensor) -> torch.Tensor:
        """A Y network on ``(N, 1, h, w)`` Y in [0, 1] (pre-upsampled when it says so): the SR Y."""
        return self.upscale(y)

    def sr_values(self, lr: torch.Tensor) -> torch.Tensor:
        """The SR image as saved to an 8-bit file, float32 (see :func:`quantised_output`)."""
        return quantised_output(lambda x: self.run(self.upscale, x), lr, self.accepts_grey)

    def prepare(self, dataset: str, names: Sequence[str]) -> None:
        """Check, before anything is computed, that every image ``names`` of ``dataset`` can be
        served (networks: nothing to check; folders: each SR file found, one-line error)."""
        return None

    def check(self, protocol: Protocol) -> None:
        """``ValueError`` (one line) when the model cannot run under ``protocol`` (:func:`runs_as`),
        before anything is computed."""
        runs_as(self, protocol)

    def sr_image(
        self, lr: torch.Tensor, hr: torch.Tensor, protocol: Protocol, dataset: str, image: str
    ) -> torch.Tensor:
        """The SR image of ``dataset/image`` under ``protocol`` (``lr``: its LR input, ``hr``: what it is
        scored against): 8-bit values, float32 (float64 when the protocol keeps SR in float).
        Raises ``ValueError`` for an output that is not finite or has the wrong size."""
        if protocol.is_default and runs_as(self, protocol) == "rgb":
            return self.sr_values(lr)
        return protocol_sr(self, lr, protocol)


def runs_as(model: SRModel, protocol: Protocol) -> str:
    """How ``model`` runs under ``protocol``: ``"y"`` (fed the protocol's Y input), ``"rgb"``;
    ``ValueError`` (one line) where the protocol's ``network_input`` forbids the model's input."""
    takes = model.network_input
    if protocol.network_input == takes or (takes == "y" and model.rgb_conversion):
        return protocol.network_input
    raise ValueError(
        f"the network takes {takes.upper()} input but protocol {protocol.label} feeds networks "
        f"{protocol.network_input.upper()}; use a protocol with network_input={takes}"
    )


def check_model_scale(model: SRModel, scale: float) -> None:
    """A one-line :class:`SrbenchError` when ``model`` cannot run at ``scale`` (its ``scale_range``;
    without one, a non-integer scale: the model was built for one integer factor)."""
    if model.scale_range is None:
        if float(scale) != int(scale):
            raise SrbenchError(
                f"model '{model.name}' takes integer scales only, not x{scale} (it declares no scale_range)"
            )
        return
    low, high = model.scale_range
    if not low <= scale <= high:
        raise SrbenchError(f"model '{model.name}' takes scales x{low:g} to x{high:g}, not x{scale}")


def protocol_sr(model: SRModel, lr: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """A network's SR image under ``protocol``: fed what the protocol says it sees
    (:func:`.feeding.model_input`: RGB ``lr / 255``, or the Y channel, bicubic-upscaled in double for
    ``pre_upsampled`` networks), its output turned into the SR image the protocol scores
    (:func:`.feeding.model_output`: Cb/Cr from bicubic where the protocol scores RGB, quantised)."""
    import torch

    if runs_as(model, protocol) == "y":
        x = model_input(protocol, lr, scale=model.scale, pre_upsampled=model.pre_upsampled)
        out = model.run(model.upscale_y, x.to(torch.float32))
    else:
        grey_in = lr.shape[1] == 1 and not model.accepts_grey
        x = lr.to(torch.float32) / 255.0
        out = model.run(model.upscale, x.expand(-1, 3, -1, -1) if grey_in else x)
        out = out.mean(dim=1, keepdim=True) if grey_in else out
    if not torch.isfinite(out).all():
        raise ValueError("NaN or infinite values in the output")
    return model_output(protocol, out, lr, model.scale)


def tiled(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int, overlap: int
) -> torch.Tensor:
    """``fn(x)`` computed tile by tile, for large images on large networks.

    The input is cut into ``tile x tile`` cores (the last ones smaller); each core goes through
    ``fn`` with ``overlap`` extra input pixels on every side (fewer at the image border), and only
    the core's part of the output is kept (cropped, not blended)::

        out[s t : s b, s l : s r] = fn(x[t - o : b + o, l - o : r + o])[s o_t : s (o_t + b - t), ...]

    where ``s`` is the output/input size ratio of ``fn`` (read from the first tile) and ``o_t`` the
    overlap actually taken above the core. For a network whose output pixel depends on at most
    ``R`` input pixels on each side (its receptive radius), ``overlap >= R`` gives the untiled
    output (up to float rounding); a smaller overlap changes the pixels near the tile seams.
    """
    if tile < 1 or overlap < 0:
        raise ValueError(f"tile {tile} and overlap {overlap}: tile must be >= 1 and overlap >= 0")
    h, w = x.shape[-2:]
    if h <= tile and w <= tile:
        return fn(x)
    out: torch.Tensor | None = None
    s = 0
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(top + tile, h), min(left + tile, w)
            t0, l0 = max(top - overlap, 0), max(left - overlap, 0)
            y = fn(x[..., t0 : min(bottom + overlap, h), l0 : min(right + overlap, w)])
            if out is None:
                s = y.shape[-1] // (min(right + overlap, w) - l0)
                out = y.new_empty((*y.shape[:-2], h * s, w * s))
            core = y[..., (top - t0) * s : (bottom - t0) * s, (left - l0) * s : (right - l0) * s]
            out[..., top * s : bottom * s, left * s : right * s] = core
    assert out is not None
    return out


def quantised_output(
    upscale: Callable[[torch.Tensor], torch.Tensor], lr: torch.Tensor, accepts_grey: bool
) -> torch.Tensor:
    """``uint8(255 * upscale(lr / 255))`` as float32: the SR image as saved to an 8-bit file.

    ``lr`` holds 8-bit values 0..255. A grey image goes through an RGB-only network
    (``accepts_grey=False``) replicated to three channels and comes back as the mean of the output
    channels. The rounding is MATLAB's (half away from zero, saturated), computed in float64.
    Raises ``ValueError`` when the output holds NaN or infinite values.
    """
    import torch

    x = lr / 255.0
    grey_in = x.shape[1] == 1 and not accepts_grey
    out = upscale(x.expand(-1, 3, -1, -1) if grey_in else x)
    if grey_in:
        out = out.mean(dim=1, keepdim=True)
    lo, hi = torch.aminmax(out)  # NaN propagates into both; one pass, no mask
    if not (torch.isfinite(lo) and torch.isfinite(hi)):
        raise ValueError("NaN or infinite values in the output")
    return round_uint8(out.double().mul_(255.0)).float()
