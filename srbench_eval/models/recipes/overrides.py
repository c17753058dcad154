"""Recipe overrides: ``--set PATH=VALUE`` edits a recipe's dict form by a dotted path (see
:func:`apply_overrides`); the ``KEY=VALUE`` grammar and the typing of values are
:mod:`srbench_eval.options`'.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.losses import LOSS_KINDS
from srbench_eval.models.architectures import get_arch
from srbench_eval.models.recipes.registry import discriminator_parameters, generator_parameters, validate
from srbench_eval.models.recipes.spec import Recipe
from srbench_eval.options import coerce, parse_assignment

# --------------------------------------------------------------------------- overrides

_NOT_DATA = {"self", "scale", "extractor", "vgg", "resnet", "user"}


def _defaults(cls: type) -> dict[str, Any]:
    sig = inspect.signature(cls.__init__)
    return {
        n: p.default
        for n, p in sig.parameters.items()
        if n not in _NOT_DATA and p.kind is p.POSITIONAL_OR_KEYWORD
    }


def _set_in(group: dict[str, Any], keys: list[str], raw: str, known: dict[str, Any], what: str) -> None:
    """Set ``group[keys[0]]...[keys[-1]]`` to ``raw`` typed like the current value or ``known``'s default."""
    key = keys[0]
    if key not in group and key not in known:
        raise unknown_name(f"setting of {what}", key, {*group, *known})
    current = group.get(key, known.get(key))
    if len(keys) == 1:
        group[key] = coerce(raw, current)
        return
    if current is None:
        current = {}
    if not isinstance(current, dict):
        raise SrbenchError(f"{what}.{key} is a single value, not a group: drop '.{'.'.join(keys[1:])}'")
    group[key] = dict(current)
    # Keys of an existing group keep their type; a new key inside a group (arch.fdl.tau when fdl was
    # unset, train.lr_scale.<prefix>) is typed literally and checked when the recipe is built.
    nested_known = {keys[1]: None} if len(keys) == 2 and keys[1] not in current else {}
    _set_in(group[key], keys[1:], raw, nested_known, f"{what}.{key}")


def apply_overrides(recipe: Recipe, overrides: Sequence[str]) -> tuple[Recipe, str]:
    """Apply ``["loss.dp.mu=1", "train.lr=2e-4", ...]``; returns the new recipe and its table label.

    Each override is ``path=value`` with a dotted path into :meth:`Recipe.to_dict`: ``loss.<term>.<key>``
    (``weight``, ``levels``, ``kind`` or a parameter of the term's class), ``arch.<key>``,
    ``disc.<key>``, ``train.<key>``, ``init``, ``scales``. Values are typed like what they replace.
    Errors are one-line :class:`SrbenchError` naming the override.
    """
    d = recipe.to_dict()
    applied: list[str] = []
    for item in overrides:
        a = parse_assignment(item)
        try:
            if a is None:
                raise SrbenchError("expected path=value, e.g. loss.dp.mu=1")
            _apply_one(d, list(a.path), a.raw)
        except (SrbenchError, ValueError) as e:
            raise SrbenchError(f"override '{item}' for recipe {recipe.name}: {e}") from None
        applied.append(f"{a.key}={a.raw}")
    d["overrides"] = [*recipe.overrides, *applied]
    new = Recipe.from_dict(d)
    validate(new)
    generator_parameters(new)  # builds on the meta device: surfaces bad architecture settings now
    discriminator_parameters(new)
    return new, new.label


def _apply_one(d: dict[str, Any], keys: list[str], raw: str) -> None:
    top, rest = keys[0], keys[1:]
    if top in ("init", "scales"):
        if rest:
            raise SrbenchError(f"{top} takes no sub-key")
        d[top] = coerce(raw, "" if top == "init" else [4])
    elif top == "train":
        if not rest:
            raise SrbenchError("train needs a key, e.g. train.lr=2e-4")
        _set_in(d["train"], rest, raw, {}, "train")
    elif top in ("arch", "disc"):
        group = d[top]
        if group is None:
            raise SrbenchError(f"recipe {d['name']} has no discriminator")
        if not rest:
            raise SrbenchError(f"{top} needs a key, e.g. {top}.num_feat=32")
        if rest == ["name"]:
            group["name"] = raw.strip()
            get_arch(group["name"])
            return
        _set_in(group, rest, raw, _defaults(get_arch(group["name"]).cls), top)
    elif top == "loss":
        if len(rest) < 2:
            raise SrbenchError("expected loss.<term>.<key>=value, e.g. loss.dp.mu=1")
        name, sub = rest[0], rest[1:]
        losses = d["loss"]
        if name not in losses:
            if name in LOSS_KINDS and sub == ["weight"]:
                losses[name] = {"kind": name, "weight": 1.0, "levels": "last"}
            else:
                raise unknown_name(
                    "loss term (add one with loss.<kind>.weight=w)", name, {*losses, *LOSS_KINDS}
                )
        entry = losses[name]
        known = {"kind": "", "weight": 1.0, "levels": "last", **_defaults(LOSS_KINDS[entry["kind"]])}
        _set_in(entry, sub, raw, known, f"loss.{name}")
        if sub == ["kind"] and entry["kind"] not in LOSS_KINDS:
            raise unknown_name("loss kind", entry["kind"], LOSS_KINDS)
    else:
        raise unknown_name("recipe setting", top, ["arch", "disc", "loss", "train", "init", "scales"])
