"""Published network files, loaded by their format (not by the model's name).

:func:`load_network` reads a file and returns a :class:`LoadedNetwork`: the ``nn.Module`` plus the
facts the evaluation needs (architecture, scale, channels, whether it takes a pre-upsampled input,
parameter count). Formats:

* ``matlab``: the ``.mat`` files of the SRCNN-era MATLAB test code, recognised by their variables:
  ``weights_conv1..3``/``biases_conv1..3`` (SRCNN: ``SRCNN.m``), cells ``weights_conv``/
  ``biases_conv``/``prelu_conv`` (FSRCNN: ``FSRCNN.m``), a struct ``model`` with cells ``weight``/
  ``bias`` (VDSR: ``VDSR_Matconvnet.m``);
* ``dagnn``: a MatConvNet DagNN struct ``net`` (``layers``, ``params``, ``vars``), e.g. LapSRN;
* ``mslapsrn``: the MS-LapSRN DagNN files (``MSLapSRN_D5R{2,5,8}.mat``: the x2/x4/x8 graphs side by
  side over one set of shared parameters), loaded by
  :func:`~srbench_eval.models.published.mslapsrn_mat.load_mslapsrn` and run at one scale
  (:class:`~srbench_eval.models.archs.mslapsrn.FixedScale`, as ``evaluate_MSLapSRN_dataset.m``
  builds it); a ``dagnn`` file whose layers are ``x2SR_*`` is loaded this way too;
* ``pytorch``: a PyTorch state dict (``.pth``/``.pt``/``.safetensors``), architecture detected by
  ``spandrel`` (ESRGAN old and new key layouts, Real-ESRGAN, SwinIR, HAT, RCAN, ...), plus the
  EDSR-PyTorch layout (:mod:`srbench_eval.models.archs.edsr`) and DRN's release
  (:mod:`srbench_eval.models.archs.drn`), which spandrel does not know;
* ``sftgan``: SFTGAN's generator and its segmentation network, two PyTorch state dicts loaded
  together (:mod:`srbench_eval.models.published.sftgan_pth`; option ``segmentation``: the second file).

MATLAB weight layouts: SRCNN/FSRCNN store each kernel as a flattened column-major ``k*k`` vector
(``reshape(w, k, k)``), so ``kernel[r, c] = w[r + k c]``, with arrays indexed ``[in, k*k, out]``;
MatConvNet stores ``H x W x in x out`` (``ConvTranspose``: ``H x W x out x in``). Both are used as
correlations, exactly as ``imfilter`` and ``vl_nnconv`` apply them: no kernel flip.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from srbench_eval.errors import SrbenchError
from srbench_eval.models.archs import drn, edsr, outdoor_seg, sftgan
from srbench_eval.models.archs.dagnn import DagLayer, DagNN
from srbench_eval.models.archs.mslapsrn import FixedScale, pyramid_scale
from srbench_eval.models.archs.ychannel import FSRCNN, SRCNNY, VDSR
from srbench_eval.models.checkpoints import (
    build_from_state_dict,
    load_problem,
    quiet_load,
    state_dict_problem,
)
from srbench_eval.models.published.mslapsrn_mat import load_mslapsrn
from srbench_eval.models.published.sftgan_pth import load_sftgan

#: format name -> what it is (the one-line error for an unknown format lists these).
FORMATS = {
    "matlab": "MATLAB .mat of SRCNN / FSRCNN / VDSR test code",
    "dagnn": "MatConvNet DagNN .mat (LapSRN)",
    "mslapsrn": "MatConvNet DagNN .mat of MS-LapSRN (one network for x2/x4/x8)",
    "pytorch": "PyTorch state dict .pth/.pt/.safetensors, architecture detected by spandrel (or EDSR, DRN)",
    "sftgan": "SFTGAN_torch.pth with its OutdoorSceneSeg_bic.pth (sftgan@pub)",
}
PYTORCH_SUFFIXES = (".pth", ".pt", ".safetensors", ".ckpt")


@dataclass
class LoadedNetwork:
    """A published network ready to run, and what it expects.

    ``channels`` is ``"y"`` (one luma channel in [0, 1]) or ``"rgb"`` (RGB in [0, 1]);
    ``upsampled_input``: the network takes the bicubic-upscaled image (SRCNN, VDSR) instead of
    the LR one.
    """

    module: nn.Module
    format: str
    architecture: str
    scale: int
    channels: str
    upsampled_input: bool

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.module.parameters())


def supported() -> str:
    return "; ".join(f"{k} ({v})" for k, v in FORMATS.items())


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def column_major_kernels(w: np.ndarray) -> np.ndarray:
    """``[in, k*k, out]`` flattened MATLAB kernels -> ``[out, in, k, k]`` with ``[r, c] = w[r + k c]``."""
    cin, kk, cout = w.shape
    k = int(round(kk**0.5))
    if k * k != kk:
        raise ValueError(f"kernel of {kk} taps is not square")
    return w.transpose(2, 0, 1).reshape(cout, cin, k, k).transpose(0, 1, 3, 2)


def _mat_errors() -> tuple[type[BaseException], ...]:
    """What scipy raises on a truncated or corrupt ``.mat``: ``MatReadError`` for a short header,
    ``IndexError``/``EOFError``/``zlib.error`` for a file cut inside its header or a compressed block."""
    from scipy.io.matlab import MatReadError

    return (ValueError, OSError, NotImplementedError, MatReadError, IndexError, EOFError, zlib.error)


def _load_mat(path: Path) -> dict:
    import scipy.io

    try:
        return scipy.io.loadmat(str(path))
    except _mat_errors() as e:
        raise SrbenchError(f"{path}: not a readable MATLAB .mat file ({e})") from None


def _srcnn(d: dict, scale: int) -> SRCNNY:
    w1 = d["weights_conv1"]
    w1 = w1.reshape(w1.shape[0], 1, w1.shape[1]).transpose(1, 0, 2)  # [1, k*k, out]
    w2, w3 = d["weights_conv2"], d["weights_conv3"]
    if w2.ndim == 2:  # 9-1-5: [in, out]
        w2 = w2[:, None, :]
    w3 = w3[:, :, None]  # [in, k*k, 1]
    k1, k2, k3 = (column_major_kernels(w) for w in (w1, w2, w3))
    net = SRCNNY(scale, k1.shape[0], k2.shape[0], (k1.shape[-1], k2.shape[-1], k3.shape[-1]))
    with torch.no_grad():
        for conv, k, b in zip(
            (net.conv1, net.conv2, net.conv3),
            (k1, k2, k3),
            ("biases_conv1", "biases_conv2", "biases_conv3"),
            strict=True,
        ):
            conv.weight.copy_(_t(k))
            conv.bias.copy_(_t(d[b].ravel()))
    return net


def _fsrcnn(d: dict, scale: int, deconv_padding: int | None = None) -> FSRCNN:
    ws = [np.asarray(w, dtype=np.float64) for w in d["weights_conv"].ravel()]
    bs = [np.asarray(b).ravel() for b in d["biases_conv"].ravel()]
    alphas = [np.asarray(a).ravel() for a in d["prelu_conv"].ravel()]
    convs, deconv = ws[:-1], ws[-1]
    dim, shrink = convs[0].shape[2], convs[1].shape[2]
    k = int(round(deconv.shape[1] ** 0.5))
    net = FSRCNN(scale, d=dim, s=shrink, m=len(convs) - 3, deconv_size=k, deconv_padding=deconv_padding)
    with torch.no_grad():
        for conv, act, w, b, a in zip(net.convs, net.prelus, convs, bs, alphas, strict=False):
            conv.weight.copy_(_t(column_major_kernels(w)))
            conv.bias.copy_(_t(b))
            act.weight.copy_(_t(a))
        # deconv [1, k*k, d]: kernel of channel j = reshape(w(1, :, j), k, k); ConvTranspose2d [in, out, k, k]
        net.deconv.weight.copy_(_t(column_major_kernels(deconv.transpose(2, 1, 0)).transpose(1, 0, 2, 3)))
        net.deconv.bias.copy_(_t(bs[-1]))
    return net


def _vdsr(d: dict, scale: int) -> VDSR:
    model = d["model"][0, 0]
    ws = [np.asarray(w) for w in model["weight"].ravel()]
    bs = [np.asarray(b).ravel() for b in model["bias"].ravel()]
    net = VDSR(scale, num_feat=ws[0].shape[3], depth=len(ws))
    with torch.no_grad():
        for conv, w, b in zip(net.convs, ws, bs, strict=True):
            w = w if w.ndim == 4 else w[..., None]
            conv.weight.copy_(_t(w.transpose(3, 2, 0, 1)))
            conv.bias.copy_(_t(b))
    return net


def _strings(a: object) -> list[str]:
    """The strings in a (nested) MATLAB cell/char array, in order."""
    arr = np.asarray(a)
    if arr.dtype.kind in "US":
        return [str(x) for x in arr.ravel()]
    return [s for x in arr.ravel() for s in _strings(x)]


def _str(a: object) -> str:
    return _strings(a)[0]


def _block(layer: np.void, key: str, default: object = None) -> np.ndarray | object:
    block = layer["block"]
    if block.dtype.names is None or key not in block.dtype.names:
        return default
    return np.asarray(block[0, 0][key]).ravel()


def _dagnn(d: dict, path: Path) -> tuple[DagNN, int]:
    net = d["net"][0, 0]
    params = {_str(p["name"]): np.asarray(p["value"]) for p in net["params"].ravel()}
    raw = list(net["layers"].ravel())
    kinds = {"dagnn.Conv": "conv", "dagnn.ConvTranspose": "convt", "dagnn.ReLU": "relu", "dagnn.Sum": "sum"}
    layers: list[DagLayer] = []
    modules: dict[str, nn.Module] = {}
    dropped: dict[str, str] = {}  # output variable -> "layer (type)" of blocks not run
    for layer in raw:
        name, typ = _str(layer["name"]), _str(layer["type"])
        inputs, output = tuple(_strings(layer["inputs"])), _str(layer["outputs"])
        if typ not in kinds:
            dropped[output] = f"{name} ({typ})"  # losses: checked below that nothing needs them
            continue
        kind = kinds[typ]
        pnames = _strings(layer["params"])
        spec = DagLayer(name, kind, inputs, output)
        if kind in ("conv", "convt"):
            f = params[pnames[0]]
            f = f.reshape(*f.shape, *([1] * (4 - f.ndim)))
            bias = params[pnames[1]].ravel() if len(pnames) > 1 else None
            if kind == "conv":
                stride = tuple(int(s) for s in np.ravel(_block(layer, "stride", [1, 1])))
                pad = tuple(int(p) for p in np.ravel(_block(layer, "pad", [0, 0, 0, 0])))
                m: nn.Module = nn.Conv2d(
                    f.shape[2], f.shape[3], f.shape[:2], stride=stride, bias=bias is not None
                )
                weight = f.transpose(3, 2, 0, 1)
            else:
                up = tuple(int(s) for s in np.ravel(_block(layer, "upsample", [1, 1])))
                pad = tuple(int(p) for p in np.ravel(_block(layer, "crop", [0, 0, 0, 0])))
                groups = int(np.ravel(_block(layer, "numGroups", [1]))[0])
                if groups != 1:
                    raise SrbenchError(f"{path}: layer {name}: grouped ConvTranspose is not supported")
                m = nn.ConvTranspose2d(f.shape[3], f.shape[2], f.shape[:2], stride=up, bias=bias is not None)
                weight = f.transpose(3, 2, 0, 1)
            pad = pad * (4 // len(pad)) if len(pad) in (1, 2) else pad
            with torch.no_grad():
                m.weight.copy_(_t(weight))
                if bias is not None:
                    m.bias.copy_(_t(bias))
            modules[name] = m
            spec = DagLayer(name, kind, inputs, output, pad=pad)  # type: ignore[arg-type]
        elif kind == "relu":
            spec = DagLayer(name, kind, inputs, output, leak=float(np.ravel(_block(layer, "leak", [0.0]))[0]))
        layers.append(spec)
    produced = {layer.output for layer in layers}
    consumed = {v for layer in layers for v in layer.inputs}
    needed = sorted(dropped[v] for v in consumed & set(dropped))
    if needed:
        raise SrbenchError(
            f"{path}: unsupported DagNN block {needed[0]}; supported: dagnn.Conv, dagnn.ConvTranspose, "
            f"dagnn.ReLU, dagnn.Sum"
        )
    sources = consumed - produced
    sinks = produced - consumed
    if len(sources) != 1 or len(sinks) != 1:
        raise SrbenchError(
            f"{path}: DagNN with inputs {sorted(sources)} and outputs {sorted(sinks)}; "
            f"expected one image in and one image out"
        )
    dag = DagNN(layers, modules, sources.pop(), sinks.pop())
    with torch.no_grad():
        probe = dag(torch.zeros(1, 1, 8, 8))
    return dag, probe.shape[-1] // 8


def detect_format(path: Path) -> str:
    """``matlab``, ``dagnn`` or ``pytorch`` from the file name and, for ``.mat``, its variables."""
    suffix = path.suffix.lower()
    if suffix == ".mat":
        import scipy.io

        try:
            names = {n for n, *_ in scipy.io.whosmat(str(path))}
        except _mat_errors() as e:
            raise SrbenchError(f"{path}: not a readable MATLAB .mat file ({e})") from None
        if "net" in names:
            return "dagnn"
        if names & {"weights_conv1", "weights_conv", "model"}:
            return "matlab"
        raise SrbenchError(
            f"{path}: unknown .mat layout (variables {', '.join(sorted(names))}); supported: {supported()}"
        )
    if suffix in PYTORCH_SUFFIXES:
        return "pytorch"
    raise SrbenchError(f"{path}: unknown weights format '{suffix or path.name}'; supported: {supported()}")


def load_network(
    path: str | Path, scale: int | None = None, fmt: str | None = None, options: dict | None = None
) -> LoadedNetwork:
    """Load ``path`` (format detected unless ``fmt`` is given) for ``scale``.

    ``options``: facts the file does not store, from the registry (FSRCNN: ``deconv_padding``).
    ``scale`` is needed where the file does not determine it (the SRCNN/VDSR ``.mat`` files are
    scale-agnostic, FSRCNN's deconvolution stride is not stored); where the file determines it
    (DagNN, spandrel) a different ``scale`` is a one-line error.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt == "pytorch":
        return _pytorch(path, scale)
    if fmt == "sftgan":
        net = load_sftgan(path, (options or {}).get("segmentation"), scale)
        return LoadedNetwork(net, fmt, "SFTGAN (SFT_Net_torch + OutdoorSceneSeg)", net.scale, "rgb", False)
    if fmt not in FORMATS:
        raise SrbenchError(f"{path}: unknown weights format '{fmt}'; supported: {supported()}")
    if fmt == "mslapsrn":
        return _mslapsrn(path, scale)
    d = _load_mat(path)
    if fmt == "dagnn" and _is_mslapsrn(d):
        return _mslapsrn(path, scale)
    if fmt == "dagnn":
        dag, found = _dagnn(d, path)
        _check_scale(path, found, scale)
        return LoadedNetwork(dag.eval(), fmt, "dagnn", found, "y", False)
    if scale is None:
        raise SrbenchError(f"{path}: this MATLAB network file does not record its scale; give --scale")
    if "weights_conv1" in d:
        net: nn.Module = _srcnn(d, scale)
        arch = "srcnn-" + "-".join(str(c.kernel_size[0]) for c in (net.conv1, net.conv2, net.conv3))
    elif "weights_conv" in d:
        net, arch = _fsrcnn(d, scale, (options or {}).get("deconv_padding")), "fsrcnn"
    elif "model" in d:
        net, arch = _vdsr(d, scale), "vdsr"
    else:
        raise SrbenchError(f"{path}: unknown .mat layout; supported: {supported()}")
    return LoadedNetwork(net.eval(), fmt, arch, scale, "y", bool(net.upsampled_input))


def _is_mslapsrn(d: dict) -> bool:
    """Whether a DagNN struct holds MS-LapSRN's side-by-side ``x2SR_*`` .. ``x8SR_*`` graphs."""
    layers = d["net"][0, 0]["layers"].ravel()
    return any(_str(layer["name"]).startswith("x2SR_") for layer in layers)


def _mslapsrn(path: Path, scale: int | None) -> LoadedNetwork:
    """An MS-LapSRN file at ``scale``: its x2/x4/x8 pyramid, or at x3, x5-x7 the next level up resized
    to the scale with bicubic, as ``SR_MSLapSRN.m`` does (:class:`FixedScale`)."""
    if scale is None:
        raise SrbenchError(f"{path}: MS-LapSRN serves x2 to x8; give --scale")
    try:
        level = pyramid_scale(scale)
    except ValueError as e:
        raise SrbenchError(f"{path}: {e}") from None
    net = load_mslapsrn(path, level)
    arch = f"mslapsrn D{net.depth}R{net.recursions}"
    if level != scale:
        arch += f" (x{level} pyramid, bicubic to x{scale})"
    return LoadedNetwork(FixedScale(net, scale).eval(), "mslapsrn", arch, scale, "y", False)


def _check_scale(path: Path, found: int, wanted: int | None) -> None:
    if wanted is not None and found != wanted:
        raise SrbenchError(f"{path}: this network upscales x{found}, not --scale {wanted}")


OWN_ARCHITECTURES = (
    ("EDSR", edsr.is_edsr_state_dict, edsr.from_state_dict),  # EDSR-PyTorch's layout
    ("DRN", drn.is_drn_state_dict, drn.from_state_dict),  # guoyongcs/DRN's release
)
"""PyTorch state dicts of single RGB networks that our code builds: (name, recognises, build)."""


def _pytorch(path: Path, scale: int | None) -> LoadedNetwork:
    try:
        from spandrel import ModelLoader, UnsupportedModelError, canonicalize_state_dict
    except ImportError:  # pragma: no cover - spandrel is a dependency
        raise SrbenchError(f"{path}: loading PyTorch SR checkpoints needs 'pip install spandrel'") from None
    loader = ModelLoader()
    try:
        if path.suffix.lower() in (".pt", ".pth"):  # spandrel would try TorchScript first for .pt
            state = quiet_load(path)
        else:
            state = loader.load_state_dict_from_file(str(path))
        if not isinstance(state, dict):
            raise TypeError(f"holds a {type(state).__name__}, not a state dict")
    except Exception as e:  # unreadable / truncated files: torch and safetensors raise many types
        raise SrbenchError(f"{path}: cannot read PyTorch weights ({load_problem(e)})") from None
    canonical = canonicalize_state_dict(dict(state))
    for arch, recognises, build in OWN_ARCHITECTURES:  # layouts spandrel does not know
        if recognises(canonical):
            net = build_from_state_dict(path, arch, build, canonical)
            _check_scale(path, net.scale, scale)
            return LoadedNetwork(net.eval(), "pytorch", arch, net.scale, "rgb", False)
    if sftgan.is_sftgan_state_dict(canonical) or outdoor_seg.is_outdoor_seg_state_dict(canonical):
        raise SrbenchError(f"{path}: one of SFTGAN's two networks; it runs with the other as sftgan@pub")
    try:
        desc = loader.load_from_state_dict(state)
    except UnsupportedModelError:
        raise SrbenchError(
            f"{path}: spandrel does not recognise this state dict's architecture; supported: {supported()}"
        ) from None
    except Exception as e:  # a known architecture whose tensors do not fit it
        raise SrbenchError(f"{path}: cannot build the network ({state_dict_problem(e)})") from None
    if desc.purpose != "SR" and desc.scale == 1:
        raise SrbenchError(
            f"{path}: {desc.architecture.name} is a {desc.purpose} network, not super-resolution"
        )
    _check_scale(path, desc.scale, scale)
    channels = "rgb" if desc.input_channels == 3 else "y" if desc.input_channels == 1 else ""
    if not channels:
        raise SrbenchError(f"{path}: {desc.input_channels}-channel input networks are not supported")
    net = SpandrelNet(desc).eval()
    return LoadedNetwork(net, "pytorch", desc.architecture.id, desc.scale, channels, False)


class SpandrelNet(nn.Module):
    """A spandrel model called the way spandrel calls it: the input padded to the architecture's
    size requirements (window multiples of SwinIR, HAT, ...) and the output cropped back and
    clamped to [0, 1]; ``net`` is the architecture's own module."""

    def __init__(self, descriptor: object) -> None:
        super().__init__()
        self.net = descriptor.model  # type: ignore[attr-defined]
        self._descriptor = descriptor

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self._descriptor(lr)  # type: ignore[operator]
