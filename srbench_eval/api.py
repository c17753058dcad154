"""Python API: evaluate any network (an ``nn.Module`` or a plain callable) under the protocol of
``srbench-eval run``, and ``--models LABEL=package.module:factory`` for networks in the user's code.

    >>> import srbench_eval
    >>> summary = srbench_eval.evaluate(my_net, scale=4, datasets=["set5"])   # doctest: +SKIP

The network maps an RGB LR batch ``(N, 3, h, w)`` in [0, 1] to ``(N, 3, s*h, s*w)`` (the zoo's
contract, :mod:`srbench_eval.models.base`); the evaluation loop rounds and scores it exactly as for
every other model. :func:`evaluate` goes through :func:`srbench_eval.evaluation.run_evaluation`, so it
writes the same run folder (``results.csv``, ``summary.json``, tables) and returns the same
:class:`~srbench_eval.runs.results.Summary`.

A factory spec ``pkg.mod:attr`` names an ``nn.Module``, a callable network, or a function that
returns one; a function whose signature has a ``scale`` parameter is called with the run's scale.
The provenance records the spec, the class, the parameter count and, for modules, the SHA-256 of
the parameters and buffers (in ``state_dict`` order), so two runs of the same weights are
recognisable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models.base import SRModel
from srbench_eval.names import FACTORY as FACTORY  # re-exported

_registered: dict[str, object] = {}
_counter = itertools.count(1)


@dataclass
class CallableModel(SRModel):
    """Any ``lr -> sr`` callable (an ``nn.Module`` run in eval mode without gradients)."""

    fn: Callable[[torch.Tensor], torch.Tensor] | None = None

    @torch.no_grad()
    def upscale(self, lr: torch.Tensor) -> torch.Tensor:
        assert self.fn is not None
        out = self.fn(lr)
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


def wrap(label: str, obj: object, scale: int, device: torch.device, source: str) -> CallableModel:
    """``obj`` (module or callable) as a model in column ``label``, moved to ``device``."""
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
    return CallableModel(label, scale, provenance, fn=obj)  # type: ignore[arg-type]


def from_factory(label: str, spec: str, scale: int, device: torch.device) -> CallableModel:
    """``--models LABEL=pkg.mod:attr``: import ``pkg.mod``, take ``attr`` (see the module docstring)."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise SrbenchError(f"--models {label}={spec}: cannot import {module_name} ({e})") from None
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise SrbenchError(f"--models {label}={spec}: {module_name} has no attribute {attr}") from None
    if inspect.isclass(obj) or (inspect.isfunction(obj) and _is_factory(obj)):
        params = inspect.signature(obj).parameters
        try:
            obj = obj(scale=scale) if "scale" in params else obj()
        except Exception as e:  # noqa: BLE001 - the user's code: report it in one line
            raise SrbenchError(
                f"--models {label}={spec}: the factory failed ({type(e).__name__}: {e})"
            ) from None
    return wrap(label, obj, scale, device, spec)


def _is_factory(fn: Callable[..., object]) -> bool:
    """A function whose only required parameter (if any) is ``scale`` builds the network; one that
    requires anything else (``lr``) is the network."""
    required = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    return set(required) <= {"scale"}


def __getattr__(name: str) -> object:  # PEP 562: objects handed to evaluate(), found by their spec
    try:
        return _registered[name]
    except KeyError:
        raise AttributeError(name) from None


def evaluate(
    model: torch.nn.Module | Callable[[torch.Tensor], torch.Tensor],
    *,
    scale: int = 4,
    datasets: Sequence[str] = ("set5",),
    protocol: str | None = None,
    metrics: Iterable[str] = ("psnr", "ssim"),
    name: str = "model",
    out: str | Path | None = None,
    device: str = "auto",
    mirror: str | None = None,
    progress: bool = False,
) -> Any:
    """Score ``model`` on ``datasets`` at ``scale``; returns the run's Summary (see module docstring).

    ``out``: the run folder (default ``results/runs/<timestamp>``); ``protocol``: a protocol profile
    name where this version supports them (issue 11), else ``None`` for the default protocol.
    """
    from srbench_eval.evaluation import RunConfig, default_out_dir, run_evaluation

    token = f"_model_{next(_counter)}"
    _registered[token] = model
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    extra: dict[str, Any] = {}
    if protocol is not None:
        if "protocol" not in fields:
            raise SrbenchError(f"protocol '{protocol}': protocol profiles are not available in this version")
        extra["protocol"] = protocol
    try:
        config = RunConfig(
            models=(f"{name}={__name__}:{token}",),
            scale=scale,
            datasets=tuple(datasets),
            metrics=tuple(metrics),
            device=device,
            mirror=mirror,
            **extra,
        )
        return run_evaluation(config, Path(out) if out is not None else default_out_dir(), progress=progress)
    finally:
        _registered.pop(token, None)
