"""The fields of a checkpoint (listed in :mod:`srbench_eval.models.checkpoints`) and their checks.

A checkpoint read for ``run``, ``--init``, ``--resume`` or an export whose field is missing or of
the wrong type is a one-line :class:`SrbenchError` naming the file and the field, never a
``KeyError`` or ``TypeError`` from deep inside: :func:`check_fields` when any checkpoint is read,
:func:`check_training_fields` for what a resumed run reads in addition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from srbench_eval.errors import SrbenchError

PRESETS = ("paper", "smoke")


#: The fields every checkpoint has: name -> (accepted types, what the error calls them).
_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "recipe": ((dict,), "a dict"),
    "label": ((str,), "a string"),
    "preset": ((str,), "a string"),
    "scale": ((int,), "an integer"),
    "step": ((int,), "an integer"),
    "arch": ((dict,), "a dict"),
    "generator": ((dict,), "a dict of tensors"),
}
#: Fields that may be absent (or None where None is listed).
_OPTIONAL_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "kind": ((str,), "a string"),
    "iterations": ((int,), "an integer"),
    "generator_ema": ((dict, type(None)), "a dict of tensors or None"),
}
#: The fields a training checkpoint adds for resuming.
_TRAINING_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "optimizers": ((dict,), "a dict"),
    "schedulers": ((dict,), "a dict"),
    "discriminator": ((dict, type(None)), "a dict of tensors or None"),
    "rng": ((list, type(None)), "a list"),
}


def field_error(path: Path, name: str, problem: str) -> SrbenchError:
    return SrbenchError(
        f"{path}: field '{name}' {problem} (a damaged or edited checkpoint; train or export it again)"
    )


def _check_types(
    ckpt: dict[str, Any], path: Path, fields: dict[str, tuple[tuple[type, ...], str]], required: bool
) -> None:
    for name, (types, expected) in fields.items():
        if name not in ckpt:
            if required:
                raise field_error(path, name, "is missing")
            continue
        value = ckpt[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise field_error(path, name, f"is {type(value).__name__}, expected {expected}")


def _check_state(ckpt: dict[str, Any], path: Path, name: str) -> None:
    """``ckpt[name]`` is None or a state dict: string keys, tensor values."""
    state = ckpt.get(name)
    if state is None:
        return
    import torch  # loaded already: the checkpoint was read with torch.load

    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise field_error(path, name, f"holds {type(value).__name__} at {key!r}, expected tensors")


def check_fields(ckpt: dict[str, Any], path: Path) -> None:
    """One-line :class:`SrbenchError` naming ``path`` and the field for a checkpoint whose fields
    (see the module docstring) are missing or of the wrong type; the training fields are checked
    by :func:`check_training_fields` when a run resumes."""
    _check_types(ckpt, path, _FIELDS, required=True)
    _check_types(ckpt, path, _OPTIONAL_FIELDS, required=False)
    if ckpt.get("kind", "training") not in ("training", "generator"):
        raise field_error(path, "kind", f"is {ckpt['kind']!r}, expected 'training' or 'generator'")
    if ckpt["preset"] not in PRESETS:
        raise field_error(path, "preset", f"is {ckpt['preset']!r}, expected one of {', '.join(PRESETS)}")
    if ckpt["scale"] < 1 or ckpt["step"] < 0:
        name = "scale" if ckpt["scale"] < 1 else "step"
        raise field_error(path, name, f"is {ckpt[name]}, out of range")
    if not isinstance(ckpt["recipe"].get("name"), str):
        raise field_error(path, "recipe.name", "is missing or not a string")
    if not isinstance(ckpt["recipe"].get("train"), dict):
        raise field_error(path, "recipe.train", "is missing or not a dict")
    arch = ckpt["arch"]
    if not isinstance(arch.get("name"), str) or not isinstance(arch.get("params", {}), dict):
        raise field_error(path, "arch", "needs a string 'name' and a dict 'params'")
    _check_state(ckpt, path, "generator")
    _check_state(ckpt, path, "generator_ema")


def check_training_fields(ckpt: dict[str, Any], path: Path, discriminator: bool) -> None:
    """The fields a resumed run reads (optimisers, schedules, discriminator, RNG states)."""
    _check_types(ckpt, path, _TRAINING_FIELDS, required=True)
    for group in ("optimizers", "schedulers"):
        for net in ("g", "d") if discriminator else ("g",):
            if not isinstance(ckpt[group].get(net), dict):
                raise field_error(path, f"{group}.{net}", "is missing or not a dict")
    if discriminator and ckpt["discriminator"] is None:
        raise field_error(path, "discriminator", "is missing (the recipe has a discriminator)")
    _check_state(ckpt, path, "discriminator")
    for i, state in enumerate(ckpt["rng"] or []):
        if not isinstance(state, dict) or not {"python", "numpy", "torch"} <= set(state):
            raise field_error(path, f"rng[{i}]", "is not a saved random-generator state")
