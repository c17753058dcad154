"""A MatConvNet DagNN network (``dagnn.DagNN.saveobj`` struct) run in PyTorch, layer by layer.

The graph is data: each layer names its input and output variables, so any DagNN made of the
supported blocks runs without a per-model class (LapSRN x2/x4/x8 are such graphs: Lai et al.,
CVPR 2017, ``SR_LapSRN.m``). Supported blocks and their MatConvNet semantics:

* ``dagnn.Conv``: ``vl_nnconv`` = correlation, zero padding ``pad = [top bottom left right]``,
  ``stride``; filters ``H x W x in x out``.
* ``dagnn.ConvTranspose``: ``vl_nnconvt`` = the transpose of that correlation with ``upsample``
  as stride, then ``crop = [top bottom left right]`` rows/columns removed; output size
  ``(h - 1) * up + k - crop_top - crop_bottom``; filters ``H x W x out x in``.
* ``dagnn.ReLU`` with ``leak`` (``max(x, 0) + leak * min(x, 0)``), ``dagnn.Sum``.

Loss layers (anything else whose output feeds nothing) are dropped when loading. The network takes
the graph's single input variable and returns the one output variable that no kept layer consumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DagLayer:
    """One kept layer: its block type, variables, and the padding/cropping/leak it needs."""

    name: str
    kind: str  # "conv", "convt", "relu", "sum"
    inputs: tuple[str, ...]
    output: str
    pad: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, bottom, left, right
    leak: float = 0.0


class DagNN(nn.Module):
    """Runs ``layers`` in order; ``modules`` holds the conv/convt of each such layer, by layer name."""

    def __init__(
        self, layers: list[DagLayer], modules: dict[str, nn.Module], input_var: str, output_var: str
    ):
        super().__init__()
        self.layers = layers
        self.blocks = nn.ModuleDict(modules)
        self.input_var = input_var
        self.output_var = output_var

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {self.input_var: x}
        for layer in self.layers:
            args = [values[v] for v in layer.inputs]
            if layer.kind == "conv":
                t, b, left, right = layer.pad
                y = self.blocks[layer.name](F.pad(args[0], (left, right, t, b)))
            elif layer.kind == "convt":
                t, b, left, right = layer.pad
                y = self.blocks[layer.name](args[0])
                y = y[..., t : y.shape[-2] - b, left : y.shape[-1] - right]
            elif layer.kind == "relu":
                y = F.leaky_relu(args[0], layer.leak) if layer.leak else F.relu(args[0])
            else:  # sum
                y = args[0]
                for a in args[1:]:
                    y = y + a
            values[layer.output] = y
        return values[self.output_var]
