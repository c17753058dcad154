"""Study specs as data: ``srbench_eval/papers/studies/<name>.yaml`` (format ``srbench-eval-study-spec/1``),
one per experiment of a paper, read into :class:`StudySpec` and validated by :func:`load_spec`.

A spec names its members (a recipe with its ``--set`` overrides, or a published model such as
``esrgan@pub``, or ``bicubic``), each mapped to the row of the paper's table it reproduces; the rows
it does not reproduce are ``printed_only`` (shown with the published values alone). It gives the
seeds, scale, datasets, metrics, protocol (a profile of :mod:`srbench_eval.protocol` and its
``FIELD=VALUE`` settings), the training data and initialisation, and the paper's training schedule
(``preset: paper``) as the paper states it. :func:`paper_train_overrides` turns that schedule into
the ``train.*`` overrides a recipe needs to follow it (fields listed in ``keep_recipe`` keep the
recipe's value, with the reason in the spec's note).

Errors are one line naming the file and the field, like the paper files'
(:mod:`srbench_eval.papers.loader`).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.metrics.facts import METRIC_FACTS
from srbench_eval.models.published.registry import get as get_published
from srbench_eval.models.recipes.registry import get_recipe
from srbench_eval.options import parse_assignment
from srbench_eval.papers.loader import _mapping, _names, _text, _Where, load
from srbench_eval.papers.records import Paper
from srbench_eval.protocol import resolve
from srbench_eval.yamlio import safe_load

FORMAT = "srbench-eval-study-spec/1"
BICUBIC = "bicubic"
#: The schedule fields a spec may state, as :class:`~srbench_eval.models.recipes.spec.TrainSpec` names.
SCHEDULE_FIELDS = ("iterations", "batch_size", "hr_patch", "optimizer", "lr", "betas", "milestones", "gamma")


@dataclass(frozen=True)
class SpecMember:
    """One column of the study: a ``recipe`` trained with ``overrides``, or a ready ``model``
    (``name@pub`` or ``bicubic``); ``row``: the paper's table row it reproduces (``None`` without one)."""

    label: str
    row: str | None
    recipe: str | None = None
    model: str | None = None
    overrides: tuple[str, ...] = ()
    note: str = ""

    @property
    def trained(self) -> bool:
        return self.recipe is not None


@dataclass(frozen=True)
class Schedule:
    """The paper's training schedule (``preset: paper``); ``None`` fields: the paper does not say,
    the recipe's value stands. ``keep_recipe``: fields recorded as printed but not applied."""

    source: str = ""
    iterations: int | None = None
    batch_size: int | None = None
    hr_patch: int | None = None
    optimizer: str | None = None
    lr: float | None = None
    betas: tuple[float, ...] | None = None
    milestones: tuple[int, ...] | None = None
    gamma: float | None = None
    keep_recipe: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class StudySpec:
    """A study spec (see the module docstring). ``pairs``: (member, reference) labels of the paired
    comparisons (none: every member against ``reference``)."""

    name: str
    title: str
    members: tuple[SpecMember, ...]
    datasets: tuple[str, ...]
    metrics: tuple[str, ...]
    paper: str | None = None
    table: str | None = None
    printed_only: tuple[str, ...] = ()
    reference: str | None = None
    pairs: tuple[tuple[str, str], ...] = ()
    seeds: tuple[int, ...] = (0, 1, 2)
    scale: int = 4
    protocol: str = "matlab"
    protocol_set: tuple[str, ...] = ()
    protocol_note: str = ""
    data: str = "div2k-train"
    data_note: str = ""
    init: str = "stage"
    schedule: Schedule = Schedule()
    published: str = ""
    notes: str = ""

    @property
    def recipes(self) -> tuple[str, ...]:
        """The recipes the study trains, in member order, each once."""
        return tuple(dict.fromkeys(m.recipe for m in self.members if m.recipe is not None))

    def member(self, label: str) -> SpecMember:
        for m in self.members:
            if m.label == label:
                return m
        raise unknown_name(f"member of study {self.name}", label, [m.label for m in self.members])


def _member(raw: object, where: _Where, paper_rows: list[str] | None) -> SpecMember:

    data = _mapping(raw, where)
    label = _text(data, "label", where)
    where = where.item(label)
    recipe, model = data.get("recipe"), data.get("model")
    if (recipe is None) == (model is None):
        raise where.error("give either a recipe (trained) or a model (name@pub or bicubic)")
    try:
        if recipe is not None:
            get_recipe(_text(data, "recipe", where))
        elif model != BICUBIC:
            get_published(_text(data, "model", where))
    except SrbenchError as e:
        raise where.key("recipe" if recipe else "model").error(str(e)) from None
    overrides = _names(data, "set", where)
    bad = next((o for o in overrides if parse_assignment(o) is None), None)
    if bad is not None:
        raise where.key("set").error(f"'{bad}' is not PATH=VALUE (e.g. loss.dp.mu=1)")
    if overrides and recipe is None:
        raise where.key("set").error("only a trained recipe takes overrides")
    row = data.get("row")
    if paper_rows is not None:
        if row not in paper_rows:
            raise where.key("row").unknown("table row", str(row), paper_rows)
    elif row is not None:
        raise where.key("row").error("the spec names no paper table to map rows to")
    return SpecMember(label, row, recipe, model, overrides, _text(data, "note", where, required=False))


def _schedule(raw: object, where: _Where) -> Schedule:
    data = dict(_mapping(raw or {}, where))
    known = {"source", "note", "keep_recipe", *SCHEDULE_FIELDS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise where.unknown("schedule field", unknown[0], known)
    values: dict[str, Any] = {"source": _text(data, "source", where, required=False)}
    values["note"] = _text(data, "note", where, required=False)
    values["keep_recipe"] = _names(data, "keep_recipe", where, SCHEDULE_FIELDS, "schedule field")
    types = {"iterations": int, "batch_size": int, "hr_patch": int, "lr": float, "gamma": float}
    for key, kind in types.items():
        if data.get(key) is not None:
            value = data[key]
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not numeric or (kind is int and value != int(value)):
                raise where.key(key).error(f"{value!r} is not {'an integer' if kind is int else 'a number'}")
            values[key] = kind(value)
    for key in ("betas", "milestones"):
        if data.get(key) is not None:
            value = data[key]
            if not isinstance(value, list) or not all(isinstance(v, int | float) for v in value):
                raise where.key(key).error(f"{value!r} is not a list of numbers")
            values[key] = tuple(value)
    if data.get("optimizer") is not None:
        values["optimizer"] = _text(data, "optimizer", where)
    return Schedule(**values)


def _check_names(spec: dict[str, Any], where: _Where) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from srbench_eval.data.datasets.registry import dataset_names

    datasets = _names(spec, "datasets", where, dataset_names(), "dataset")
    metrics = _names(spec, "metrics", where, METRIC_FACTS, "metric")
    if not datasets or not metrics:
        raise where.error("a study needs datasets and metrics")
    try:
        resolve(spec.get("protocol", "matlab"), _names(spec, "protocol_set", where))
    except SrbenchError as e:
        raise where.key("protocol").error(str(e)) from None
    return datasets, metrics


_FIELDS = {
    "format", "name", "title", "paper", "table", "members", "printed_only", "reference", "pairs", "seeds",
    "scale", "datasets", "metrics", "protocol", "protocol_set", "protocol_note", "data", "data_note",
    "init", "preset", "published", "notes",
}  # fmt: skip


def _pairs(doc: dict[str, Any], where: _Where, labels: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in _names(doc, "pairs", where):
        name, sep, ref = item.rpartition(":")
        if not sep or name not in labels or ref not in labels or name == ref:
            raise where.key("pairs").error(f"'{item}': use MEMBER:REFERENCE with two member labels")
        out.append((name, ref))
    return tuple(out)


def parse_spec(data: object, file: str) -> StudySpec:
    """The spec of a spec file's parsed YAML; ``file`` names it in errors."""
    where = _Where(file)
    doc = _mapping(data, where)
    if doc.get("format") != FORMAT:
        raise where.key("format").error(f"{doc.get('format')!r} is not {FORMAT}")
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        raise where.unknown("study spec field", unknown[0], _FIELDS)
    paper: Paper | None = None
    rows: list[str] | None = None
    if doc.get("paper") is not None:
        paper = load(_text(doc, "paper", where))
        table = paper.table(_text(doc, "table", where))
        rows = [r.id for r in table.rows]
    members_raw = doc.get("members")
    if not isinstance(members_raw, list) or not members_raw:
        raise where.key("members").error("expected a list of members")
    members = tuple(_member(m, where.key("members"), rows) for m in members_raw)
    labels = [m.label for m in members]
    if len(set(labels)) != len(labels):
        raise where.key("members").error("two members share a label")
    printed_only = _names(doc, "printed_only", where, rows or (), "table row")
    if rows is not None:
        covered = {m.row for m in members} | set(printed_only)
        missing = [r for r in rows if r not in covered]
        if missing:
            raise where.error(f"table row {missing[0]} is neither a member's row nor printed_only")
    reference = doc.get("reference")
    if reference is not None and reference not in labels:
        raise where.key("reference").unknown("member", str(reference), labels)
    datasets, metrics = _check_names(doc, where)
    seeds = doc.get("seeds", [0, 1, 2])
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and s >= 0 for s in seeds):
        raise where.key("seeds").error(f"{seeds!r} is not a list of seeds (0, 1, ...)")
    if doc.get("init", "stage") not in ("stage", "none"):
        raise where.key("init").error(f"{doc.get('init')!r}: use stage or none")
    preset = _mapping(doc.get("preset") or {"paper": {}}, where.key("preset"))
    return StudySpec(
        name=_text(doc, "name", where),
        title=_text(doc, "title", where),
        members=members,
        datasets=datasets,
        metrics=metrics,
        paper=None if paper is None else paper.name,
        table=doc.get("table") if paper is not None else None,
        printed_only=printed_only,
        reference=reference,
        pairs=_pairs(doc, where, labels),
        seeds=tuple(seeds),
        scale=int(doc.get("scale", 4)),
        protocol=str(doc.get("protocol", "matlab")),
        protocol_set=_names(doc, "protocol_set", where),
        protocol_note=_text(doc, "protocol_note", where, required=False),
        data=str(doc.get("data", "div2k-train")),
        data_note=_text(doc, "data_note", where, required=False),
        init=str(doc.get("init", "stage")),
        schedule=_schedule(preset.get("paper"), where.key("preset").key("paper")),
        published=_text(doc, "published", where, required=False),
        notes=_text(doc, "notes", where, required=False),
    )


def load_spec_file(path: str | Path) -> StudySpec:
    """The spec in the file at ``path``; its ``name`` must be the file's name."""

    path = Path(path)
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SrbenchError(f"{path}: cannot read the study spec ({e.strerror or e})") from None
    except Exception as e:  # yaml.YAMLError
        raise SrbenchError(f"{path.name}: not valid YAML ({str(e).splitlines()[0]})") from None
    spec = parse_spec(data, path.name)
    if spec.name != path.stem:
        raise SrbenchError(f"{path.name}: name: '{spec.name}' differs from the file's name '{path.stem}'")
    return spec


def spec_names() -> list[str]:
    """The study specs shipped with the package (``srbench_eval/papers/studies/*.yaml``)."""
    root = importlib.resources.files("srbench_eval.papers").joinpath("studies")
    return sorted(p.name.removesuffix(".yaml") for p in root.iterdir() if p.name.endswith(".yaml"))


@lru_cache(maxsize=32)
def load_spec(name: str) -> StudySpec:
    """The shipped study spec ``name`` (``dp-table1``), validated; unknown: a one-line error."""
    if name not in spec_names():
        raise unknown_name("study spec", name, spec_names())
    resource = importlib.resources.files("srbench_eval.papers").joinpath("studies", f"{name}.yaml")
    return load_spec_file(Path(str(resource)))


def paper_train_overrides(spec: StudySpec, recipe: str) -> tuple[str, ...]:
    """The ``train.*`` overrides (``path=value``, lists comma-separated as ``--set`` takes them for one
    recipe) that make ``recipe`` follow the spec's paper schedule: one per stated field whose value
    differs from the recipe's, except the ``keep_recipe`` fields."""

    train = get_recipe(recipe).train
    out = []
    for key in SCHEDULE_FIELDS:
        value = getattr(spec.schedule, key)
        if value is None or key in spec.schedule.keep_recipe:
            continue
        current = getattr(train, key)
        if isinstance(value, tuple):
            if tuple(current) != value:
                out.append(f"train.{key}={','.join(f'{v:g}' for v in value)}")
        elif value != current:
            out.append(f"train.{key}={value:g}" if isinstance(value, float) else f"train.{key}={value}")
    return tuple(out)
