"""A study as data: the :class:`Study` (its fields, checks and JSON form), its sweep variants and
members (:func:`members`), and the study folder's ``study.json`` (:func:`open_study`)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from srbench_eval.defaults import DEFAULT_METRICS, MAX_SCALE, MIN_SCALE, default_train_data
from srbench_eval.errors import SrbenchError
from srbench_eval.files import write_text_atomic
from srbench_eval.models.checkpoint_fields import PRESETS
from srbench_eval.models.recipes.named import apply_overrides, get_recipe
from srbench_eval.names import safe_name
from srbench_eval.options import literal, parse_assignment, split_list

STUDY_FILE = "study.json"
FORMAT = "srbench-eval-study/1"
#: Bounds that keep a typo (``--seeds 1000000``) from writing a study nobody can run.
MAX_SEEDS = 100
MAX_MEMBERS = 1000
_LAYOUT = ("members", "init", "bicubic")  # what a study folder holds before its study.json is written
_INT_FIELDS = ("iterations", "batch_size", "hr_patch", "save_every", "workers")
_STR_FIELDS = ("preset", "data", "device", "val", "protocol", "init")


@dataclass(frozen=True)
class Study:
    """Everything that defines a study (stored as ``study.json``)."""

    recipes: tuple[str, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    preset: str = "smoke"
    scale: int | None = None
    data: str | None = None  # None: the preset's default (defaults.default_train_data), filled in
    mirror: str | None = None
    overrides: tuple[str, ...] = ()  # --set; comma lists sweep
    iterations: int | None = None
    batch_size: int | None = None
    hr_patch: int | None = None
    device: str = "auto"
    val: str = "none"
    save_every: int | None = None
    workers: int | None = None
    datasets: tuple[str, ...] = ("set5", "set14")
    metrics: tuple[str, ...] = DEFAULT_METRICS
    protocol: str = "matlab"
    protocol_set: tuple[str, ...] = ()
    bicubic: bool = True
    init: str = "stage"  # two-stage recipes: "stage" (train the first stage per seed) or "none"
    pairs: tuple[str, ...] = ()  # RECIPE:REFERENCE comparisons; none: every recipe against the first

    def __post_init__(self) -> None:
        if self.data is None:  # stored in study.json as the data used
            object.__setattr__(self, "data", default_train_data(str(self.preset)))

    def check(self) -> None:
        """Refuse a field of the wrong type or out of range, as the command line would (one line naming
        the field and the value); the settings the recipes and the run resolve are checked by
        :func:`srbench_eval.studies.members.check_settings`."""
        self._check_types()
        if not self.recipes:
            raise SrbenchError("a study needs at least one recipe (--recipes a,b)")
        if not self.seeds:
            raise SrbenchError("a study needs at least one seed (--seeds N)")
        if len(set(self.recipes)) != len(self.recipes):
            raise SrbenchError(f"--recipes {','.join(self.recipes)}: a recipe is listed twice")
        if len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0 or max(self.seeds) >= 2**32:
            raise SrbenchError(f"seeds {_shown(self.seeds)}: must be distinct, >= 0 and below 2**32")
        if len(self.seeds) > MAX_SEEDS:
            raise SrbenchError(f"seeds: {len(self.seeds)} seeds; a study takes at most {MAX_SEEDS}")
        n = len(self.recipes) * len(expand_overrides(self.overrides)) * len(self.seeds)
        if n > MAX_MEMBERS:
            raise SrbenchError(
                f"the study has {n} members (recipes x sweep values x seeds); at most {MAX_MEMBERS}: "
                f"give fewer seeds or sweep values"
            )
        for item in self.pairs:
            name, sep, ref = item.partition(":")
            if not sep or name not in self.recipes or ref not in self.recipes:
                shown = ", ".join(self.recipes)
                raise SrbenchError(f"--pairs '{item}': use RECIPE:REFERENCE with two of --recipes ({shown})")
        if self.init not in ("stage", "none"):
            raise SrbenchError(f"study init '{self.init}': use 'stage' (train the first stage) or 'none'")
        if not self.datasets:
            raise SrbenchError("a study needs at least one dataset (--datasets set5)")

    def _check_types(self) -> None:
        for name in _STR_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise SrbenchError(f"study field '{name}' {value!r}: must be a non-empty string")
        if self.mirror is not None and not isinstance(self.mirror, str):
            raise SrbenchError(f"study field 'mirror' {self.mirror!r}: must be a string or null")
        if self.preset not in PRESETS:
            raise SrbenchError(f"study field 'preset' {self.preset!r}: use one of {', '.join(PRESETS)}")
        if self.scale is not None and (
            not _is_int(self.scale) or not MIN_SCALE < self.scale <= MAX_SCALE  # x1 is not trained
        ):
            raise SrbenchError(f"study field 'scale' {self.scale!r}: use an integer from 2 to {MAX_SCALE}")
        for name in _INT_FIELDS:
            value = getattr(self, name)
            low = 0 if name == "workers" else 1
            if value is not None and (not _is_int(value) or value < low):
                raise SrbenchError(f"study field '{name}' {value!r}: must be a whole number >= {low}")
        if not all(_is_int(s) for s in self.seeds):
            raise SrbenchError(f"seeds {_shown(self.seeds)}: must be whole numbers")
        if not isinstance(self.bicubic, bool):
            raise SrbenchError(f"study field 'bicubic' {self.bicubic!r}: must be true or false")
        if not re.fullmatch(r"auto|cpu|mps|(cuda|xpu)(:\d+)?", self.device):
            raise SrbenchError(f"unknown device '{self.device}': use auto, cpu, cuda or cuda:N")

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> Study:
        """A study from ``study.json`` or a YAML file: the field names of :class:`Study`; ``seeds``
        may be a count (``3`` = seeds 0, 1, 2) and list fields a comma string."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"format"})
        if unknown:
            raise SrbenchError(
                f"{source}: unknown study field '{unknown[0]}' (known: {', '.join(sorted(known))})"
            )
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "format":
                continue
            if key == "seeds":
                value = parse_seeds(value)
            elif key in ("recipes", "overrides", "datasets", "metrics", "protocol_set", "pairs"):
                if isinstance(value, str):
                    value = split_list(value) if key != "overrides" else (value,)
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str | int | float) for v in value
                ):
                    raise SrbenchError(f"{source}: study field '{key}' must be a list of strings")
                value = tuple(str(v) for v in value)
            values[key] = value
        if "recipes" not in values:
            raise SrbenchError(f"{source}: the study names no recipes")
        study = cls(**values)
        try:
            study.check()
        except SrbenchError as e:
            raise SrbenchError(str(e) if source == "the command line" else f"{source}: {e}") from None
        return study


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(seeds: Sequence[object]) -> str:
    items = ", ".join(map(repr, seeds[:5]))
    return f"[{items}{', ...' if len(seeds) > 5 else ''}]"


def parse_seeds(value: object) -> tuple[int, ...]:
    """``3`` -> seeds 0, 1, 2; ``"0,4,7"`` or ``[0, 4, 7]`` -> those seeds."""
    if isinstance(value, bool):
        raise SrbenchError(f"seeds {value!r}: give a count (3) or a list (0,4,7)")
    if isinstance(value, int):
        if not 1 <= value <= MAX_SEEDS:
            raise SrbenchError(f"--seeds {value}: the number of seeds must be from 1 to {MAX_SEEDS}")
        return tuple(range(value))
    if not isinstance(value, str | list | tuple):
        raise SrbenchError(f"seeds {value!r}: give a count (3) or a list (0,4,7)")
    items: Sequence[Any] = split_list(value) if isinstance(value, str) else value
    if len(items) > MAX_SEEDS:
        raise SrbenchError(f"seeds: {len(items)} seeds given; a study takes at most {MAX_SEEDS}")
    if not all(isinstance(v, str) or _is_int(v) for v in items):
        raise SrbenchError(f"seeds {_shown(items)}: must be whole numbers")
    try:
        seeds = tuple(int(v) for v in items)
    except (TypeError, ValueError):
        raise SrbenchError(f"seeds {value!r}: give a count (3) or a comma list of seeds (0,4,7)") from None
    if isinstance(value, str) and len(seeds) == 1 and "," not in value:
        return parse_seeds(seeds[0])  # "3" on the command line is a count
    return seeds


_LIST_PLUS = re.compile(r"(?<![eE])\+")


def expand_overrides(overrides: Sequence[str]) -> list[tuple[str, ...]]:
    """The sweep's variants: ``["loss.dp.mu=0.5,1", "train.lr=1e-4"]`` ->
    ``[("loss.dp.mu=0.5", "train.lr=1e-4"), ("loss.dp.mu=1", "train.lr=1e-4")]`` (every combination,
    in the order given). A ``+`` between digits or words (not in ``1e+3``) separates list items."""
    choices: list[list[str]] = []
    given: dict[str, str] = {}
    for item in overrides:
        a = parse_assignment(item)
        values = split_list(a.raw, keep_empty=True) if a is not None else ()
        if a is None or not all(values):
            raise SrbenchError(f"--set '{item}': expected PATH=VALUE or PATH=V1,V2,... (a sweep)")
        if a.key in given:
            raise SrbenchError(
                f"--set '{given[a.key]}' and --set '{item}' both set {a.key}: give one --set per setting "
                f"(a comma list sweeps)"
            )
        given[a.key] = item
        items = [_LIST_PLUS.sub(",", v) for v in values]
        parsed = [tuple(literal(x) for x in split_list(v)) for v in items]
        for i, p in enumerate(parsed):
            if p in parsed[:i]:
                twin = items[parsed.index(p)]
                raise SrbenchError(
                    f"--set '{item}': the sweep values '{twin}' and '{items[i]}' of {a.key} are equal"
                )
        choices.append([f"{a.key}={v}" for v in items])
    return [tuple(combo) for combo in itertools.product(*choices)] if choices else [()]


@dataclass(frozen=True)
class Member:
    """One recipe variant trained with one seed."""

    recipe: str
    overrides: tuple[str, ...]
    seed: int
    variant: str  # the table label, e.g. ``esrgan-dp[dp.mu=1]``

    def folder(self, root: Path) -> Path:
        return root / "members" / self.variant / f"seed{self.seed}"


def variant_label(recipe: str, overrides: Sequence[str]) -> str:
    """The recipe's label with its overrides (:attr:`Recipe.label`), checked as a path component."""

    base = get_recipe(recipe)
    label = apply_overrides(base, list(overrides))[0].label if overrides else base.name
    return safe_name("study variant", label, f"recipe {recipe} with --set {' '.join(overrides)}")


def members(study: Study) -> list[Member]:
    """Every (variant, seed) of the study, variants in recipe then sweep order."""
    out = []
    for recipe in study.recipes:
        for combo in expand_overrides(study.overrides):
            label = variant_label(recipe, combo)
            out.extend(Member(recipe, combo, seed, label) for seed in study.seeds)
    labels = [m.variant for m in out]
    if len(set(labels)) * len(study.seeds) != len(labels):
        raise SrbenchError("two variants of the study share a label; give distinct --set values")
    return out


def variants(study: Study) -> list[str]:
    return list(dict.fromkeys(m.variant for m in members(study)))


def open_study(study: Study, root: Path) -> None:
    """Write ``study.json``, or check that the folder holds this same study; a folder holding anything
    else (a finished run, another tool's files) is refused, never written into."""
    study.check()
    path = root / STUDY_FILE
    if root.exists() and not root.is_dir():
        raise SrbenchError(f"{root}: is a file, not a study folder; choose another --out")
    foreign = sorted(p.name for p in root.iterdir() if p.name not in _LAYOUT) if root.is_dir() else []
    if not path.is_file() and foreign:
        what = "a finished run" if (root / "summary.json").is_file() else f"'{foreign[0]}'"
        raise SrbenchError(
            f"{root}: holds {what} and no {STUDY_FILE}; a study writes only into a new or empty folder "
            f"(or its own): choose another --out"
        )
    if path.is_file():
        try:
            recorded = Study.from_mapping(json.loads(path.read_text(encoding="utf-8")), str(path))
        except json.JSONDecodeError as e:
            raise SrbenchError(f"{path}: not valid JSON ({e.msg})") from None
        if replace(recorded, pairs=study.pairs) == study and recorded.pairs != study.pairs:
            write_text_atomic(path, json.dumps(study.to_json(), indent=2) + "\n")  # the table only
            return
        if recorded != study:
            diff = [f.name for f in fields(Study) if getattr(recorded, f.name) != getattr(study, f.name)]
            raise SrbenchError(
                f"{root} holds another study (differs in {', '.join(diff)}): choose another --out, "
                f"or repeat it with: srbench-eval study {path}"
            )
        return
    root.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(study.to_json(), indent=2) + "\n")
