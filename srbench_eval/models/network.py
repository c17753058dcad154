"""Models that are networks: a module of the package's checkpoints or released weights
(:class:`NetworkModel`), and any network of the user's code (:class:`CallableModel`: an ``nn.Module``
or a plain ``lr -> sr`` callable, from the Python API :func:`srbench_eval.evaluate` or a
``--models LABEL=package.module:factory`` spec).

A factory spec ``pkg.mod:attr`` names an ``nn.Module``, a callable network, or a function that
returns one; a function whose signature has a ``scale`` parameter is called with the run's scale.
A network that takes a scale at run time (arbitrary-scale networks: Meta-SR, LIIF) says so with a
``scale_range = (low, high)`` attribute on the factory or on what it returns; without one a network
runs at integer scales only (a non-integer ``--scale`` is a one-line error before it is built).

Whatever the user's code raises (on import, in the factory, in ``forward``; ``sys.exit()`` too) is
one line naming the spec, the model and the image.
The provenance records the spec, the class, the parameter count and, for modules, the SHA-256 of
the parameters and buffers (in ``state_dict`` order), so two runs of the same weights are
recognisable. torch is imported only when a network runs or is wrapped.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from srbench_eval.errors import SrbenchError
from srbench_eval.models.base import SRModel

if TYPE_CHECKING:
    import torch


@dataclass
class NetworkModel(SRModel):
    """An ``nn.Module`` at a fixed scale, run in eval mode without gradients."""

    network: torch.nn.Module | None = None

    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        import torch

        assert self.network is not None
        with torch.no_grad():
            return self.network(lr)


@dataclass
class CallableModel(SRModel):
    """Any ``lr -> sr`` callable (an ``nn.Module`` run in eval mode without gradients)."""

    fn: Callable[[torch.Tensor], torch.Tensor] | None = None

    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        import torch

        assert self.fn is not None
        try:
            with torch.no_grad():
                out = self.fn(lr)
        except (Exception, SystemExit) as e:  # the user's code, sys.exit() included: one line
            raise ValueError(f"the network raised {one_line(e)}") from None
        if not isinstance(out, torch.Tensor):
            raise ValueError(f"the network returned a {type(out).__name__}, not a tensor")
        return out


def state_sha256(module: torch.nn.Module) -> str:
    """SHA-256 over the names, shapes and bytes of ``module.state_dict()``."""
    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}\n".encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def declared_range(obj: object, source: str) -> tuple[float, float] | None:
    """``obj.scale_range`` as ``(low, high)`` with ``1 <= low <= high``, ``None`` when absent; a
    malformed one is a one-line error naming ``source``."""
    raw = getattr(obj, "scale_range", None)
    if raw is None:
        return None
    try:
        low, high = (float(v) for v in raw)
    except (TypeError, ValueError):
        raise SrbenchError(f"{source}: scale_range {raw!r} is not a (low, high) pair of numbers") from None
    if not 1.0 <= low <= high:
        raise SrbenchError(f"{source}: scale_range {raw!r} needs 1 <= low <= high")
    return (low, high)


def wrap(
    label: str, obj: object, scale: float, device: torch.device | str, source: str, scales: object = None
) -> CallableModel:
    """``obj`` (module or callable) as a model in column ``label``, moved to ``device``; its scale
    range is ``obj.scale_range``, else that of ``scales`` (the factory that made it), if any."""
    import torch

    if isinstance(obj, torch.nn.Module):
        obj = obj.to(device).eval()
        provenance: dict[str, Any] = {
            "kind": "python",
            "source": source,
            "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "parameters": sum(p.numel() for p in obj.parameters()),
            "state_sha256": state_sha256(obj),
        }
    elif callable(obj):
        provenance = {"kind": "python", "source": source, "callable": getattr(obj, "__qualname__", repr(obj))}
    else:
        raise SrbenchError(f"{source}: {type(obj).__name__} is neither an nn.Module nor a callable")
    span = declared_range(obj, source) or declared_range(scales, source)
    if span is not None:
        provenance["scale_range"] = list(span)
    return CallableModel(label, scale, provenance, fn=obj, scale_range=span)  # type: ignore[arg-type]


def from_factory(label: str, spec: str, scale: float, device: torch.device | str) -> CallableModel:
    """``--models LABEL=pkg.mod:attr``: import ``pkg.mod``, take ``attr`` (see the module docstring)."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise SrbenchError(f"--models {label}={spec}: cannot import {module_name} ({e})") from None
    except (Exception, SystemExit) as e:  # the module's own code failed (a SyntaxError included)
        raise SrbenchError(f"--models {label}={spec}: importing {module_name} raised {one_line(e)}") from None
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise SrbenchError(f"--models {label}={spec}: {module_name} has no attribute {attr}") from None
    factory = obj
    span = declared_range(obj, f"--models {label}={spec}")
    if float(scale) != int(scale) and span is None:
        raise SrbenchError(
            f"--models {label}={spec}: x{scale} is not an integer and {attr} declares no scale_range; "
            f"set {attr}.scale_range = (low, high) for a network that takes any scale in that range"
        )
    if inspect.isclass(obj) or (inspect.isfunction(obj) and _is_factory(obj)):
        try:
            params = inspect.signature(obj).parameters
            obj = obj(scale=scale) if "scale" in params else obj()
        except (Exception, SystemExit) as e:  # the user's code: report it in one line
            raise SrbenchError(f"--models {label}={spec}: the factory failed ({one_line(e)})") from None
    return wrap(label, obj, scale, device, spec, factory)


def one_line(error: BaseException) -> str:
    """``Type: message`` of an exception of the user's code, on one line (``SystemExit(0)`` says so)."""
    if isinstance(error, SystemExit):
        return f"SystemExit({error.code!r}): the code called sys.exit()"
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} ({error.filename}, line {error.lineno})"
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def receptive_radius(module: torch.nn.Module) -> int:
    """How many input pixels on each side a network's output pixel depends on, as its convolutions
    say: ``sum(dilation * (k - 1) // 2)`` over the ``Conv2d`` layers in order, each divided by the
    upscaling done before it (``PixelShuffle``, ``Upsample``). Exact for plain convolutional
    networks (SRCNN 9-5-5: 4 + 2 + 2 = 8); a lower bound for networks with attention."""
    import torch

    radius, factor = 0.0, 1.0
    for layer in module.modules():
        if isinstance(layer, torch.nn.Conv2d):
            k, d = layer.kernel_size[0], layer.dilation[0]
            radius += d * ((k - 1) // 2) / factor
        elif isinstance(layer, torch.nn.PixelShuffle):
            factor *= layer.upscale_factor
        elif isinstance(layer, torch.nn.Upsample) and isinstance(layer.scale_factor, int | float):
            factor *= float(layer.scale_factor)
    return math.ceil(radius - 1e-9)


def apply_tiling(model: SRModel, tile: int, overlap: int) -> str | None:
    """Run ``model`` on ``tile x tile`` input tiles with ``overlap`` (``--tile``, ``--tile-overlap``):
    recorded in its provenance (``tiling``), since it may change the numbers; a warning when the
    overlap is below the network's :func:`receptive_radius`, where the seams change the output."""
    import torch

    model.tiling = (tile, overlap)  # type: ignore[misc]  # an instance value over the class default
    if getattr(model, "folder", None) is not None:
        return None  # SR images made elsewhere: nothing runs here
    model.provenance = {**model.provenance, "tiling": {"tile": tile, "overlap": overlap}}
    net = getattr(model, "network", None) or getattr(model, "fn", None)
    radius = receptive_radius(net) if isinstance(net, torch.nn.Module) else 0
    if overlap < radius:
        return (
            f"model '{model.name}': --tile-overlap {overlap} is below the network's receptive radius "
            f"({radius} input pixels): the output near the tile seams differs from untiled inference"
        )
    return None


def _is_factory(fn: Callable[..., object]) -> bool:
    """A function whose only required parameter (if any) is ``scale`` builds the network; one that
    requires anything else (``lr``) is the network."""
    required = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    return set(required) <= {"scale"}


__all__ = [
    "CallableModel",
    "NetworkModel",
    "apply_tiling",
    "declared_range",
    "from_factory",
    "one_line",
    "receptive_radius",
    "state_sha256",
    "wrap",
]
