"""The authors' MS-LapSRN files (phoenix104104/LapSRN ``pretrained_models/MSLapSRN_D5R{2,5,8}.mat``)
loaded into :class:`~srbench_eval.models.archs.mslapsrn.MSLapSRN`.

Each file is a MatConvNet DagNN (``net``: ``params``, ``layers``) holding the x2, x4 and x8 graphs
side by side (``x2SR_*``, ``x4SR_*``, ``x8SR_*``), which all read one set of shared parameters:
``input_conv_f/b``, ``conv1_f/b .. convD_f/b`` (the recursive block), ``upconv_f/b`` (feature
upsampling), ``residual_conv_f/b``, ``img_up_f`` (image upsampling, no bias). The depth ``D`` is the
number of ``conv*_f`` parameters, the recursions ``R`` the number of ``x?SR_level1_R*_output`` layers;
``<name>_opts.mat`` beside it (``opts.depth``, ``opts.recursive``), when present, must agree.

MatConvNet filters are ``H x W x in x out`` (``vl_nnconv``, a correlation, as ``nn.Conv2d``) and
``H x W x out x in`` for ``vl_nnconvt``; both become PyTorch's layouts by ``permute(3, 2, 0, 1)``
(``[out, in, H, W]`` for convolutions, ``[in, out, H, W]`` for transposed ones), as in
:mod:`srbench_eval.models.published.formats`.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from srbench_eval.errors import SrbenchError
from srbench_eval.models.archs.mslapsrn import MSLapSRN

_RECURSION = re.compile(r"^x\d+SR_level1_R(\d+)_output$")
REQUIRED = ("input_conv_f", "conv1_f", "upconv_f", "img_up_f", "residual_conv_f")


def _strings(a: object) -> list[str]:
    """The strings in a (nested) MATLAB cell/char array, in order."""
    arr = np.asarray(a)
    if arr.dtype.kind in "US":
        return [str(x) for x in arr.ravel()]
    return [s for x in arr.ravel() for s in _strings(x)]


def _load(path: Path) -> dict:
    import scipy.io
    from scipy.io.matlab import MatReadError

    try:
        return scipy.io.loadmat(str(path))
    except (ValueError, OSError, NotImplementedError, MatReadError, IndexError, EOFError, zlib.error) as e:
        raise SrbenchError(f"{path}: not a readable MATLAB .mat file ({e})") from None


def read_parameters(path: str | Path) -> tuple[dict[str, np.ndarray], int]:
    """The named parameters of an MS-LapSRN DagNN file and its recursion count ``R``."""
    path = Path(path)
    d = _load(path)
    if "net" not in d:
        raise SrbenchError(f"{path}: no DagNN struct 'net'; not an MS-LapSRN file")
    net = d["net"][0, 0]
    params = {_strings(p["name"])[0]: np.asarray(p["value"], np.float64) for p in net["params"].ravel()}
    names = {_strings(layer["name"])[0] for layer in net["layers"].ravel()}
    recursions = {int(m.group(1)) for n in names if (m := _RECURSION.match(n))}
    missing = [
        k for k in ("input_conv_f", "conv1_f", "upconv_f", "img_up_f", "residual_conv_f") if k not in params
    ]
    if missing or not recursions:
        what = f"parameter {missing[0]}" if missing else "layers x?SR_level1_R*_output"
        raise SrbenchError(f"{path}: no {what}; not an MS-LapSRN file")
    return params, max(recursions)


def _opts(path: Path) -> tuple[int, int] | None:
    """``(depth, recursive)`` of ``<name>_opts.mat`` beside ``path``, if there is one."""
    opts_path = path.with_name(path.stem + "_opts.mat")
    if not opts_path.is_file():
        return None
    opts = _load(opts_path)["opts"][0, 0]
    return int(np.ravel(opts["depth"])[0]), int(np.ravel(opts["recursive"])[0])


def _copy(module: nn.Conv2d | nn.ConvTranspose2d, f: np.ndarray, b: np.ndarray | None) -> None:
    f = f.reshape(*f.shape, *([1] * (4 - f.ndim)))  # MATLAB drops trailing singleton dimensions
    weight = torch.from_numpy(np.ascontiguousarray(f.transpose(3, 2, 0, 1), dtype=np.float32))
    if tuple(weight.shape) != tuple(module.weight.shape):
        raise ValueError(f"filter {tuple(f.shape)} does not fit {tuple(module.weight.shape)}")
    with torch.no_grad():
        module.weight.copy_(weight)
        if b is not None:
            assert module.bias is not None
            module.bias.copy_(torch.from_numpy(np.ascontiguousarray(b.ravel(), dtype=np.float32)))


def load_mslapsrn(path: str | Path, scale: int = 4) -> MSLapSRN:
    """The network of an ``MSLapSRN_D?R?.mat`` file, in eval mode, at default ``scale`` (2, 4 or 8)."""
    path = Path(path)
    params, recursions = read_parameters(path)
    depth = sum(1 for k in params if re.fullmatch(r"conv\d+_f", k))
    expected = _opts(path)
    if expected is not None and expected != (depth, recursions):
        raise SrbenchError(
            f"{path}: the graph has D{depth}R{recursions} but its _opts.mat says D{expected[0]}R{expected[1]}"
        )
    num_feat = params["input_conv_f"].shape[-1]
    net = MSLapSRN(depth, recursions, num_feat, scale)
    try:
        _copy(net.conv_in, params["input_conv_f"], params["input_conv_b"])
        for i, conv in enumerate(net.block, 1):
            _copy(conv, params[f"conv{i}_f"], params[f"conv{i}_b"])
        _copy(net.feature_up, params["upconv_f"], params["upconv_b"])
        _copy(net.residual, params["residual_conv_f"], params["residual_conv_b"])
        _copy(net.image_up, params["img_up_f"], None)
    except (KeyError, ValueError) as e:
        raise SrbenchError(f"{path}: parameters do not fit MS-LapSRN D{depth}R{recursions} ({e})") from None
    return net.eval()


__all__ = ["load_mslapsrn", "read_parameters"]
