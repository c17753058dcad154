"""Reading and validating a paper's data file (``srbench_eval/papers/<name>.yaml``, format
``srbench-eval-paper/1``; the file's header describes it) into :class:`~.records.Paper`.

:func:`load` refuses a malformed file with a one-line :class:`SrbenchError` naming the file and the
field, e.g. ``dp_loss.yaml: tables[table1].rows[mu=0.2].cells.set5: missing metric lpips``: a value
that is not a number, a row without a dataset or metric of its table or with one the table lacks (the
rows of a table share their columns), a dataset or metric name the harness does not know, a claim or
same-run entry naming a row that does not exist, a same-run entry whose cells differ.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.metrics.facts import METRIC_FACTS
from srbench_eval.papers.records import Cell, Claim, Paper, Row, SameRun, Table
from srbench_eval.yamlio import safe_load

FORMAT = "srbench-eval-paper/1"
CLAIM_KINDS = ("below", "above", "best", "worst", "mean_difference")
_NUMBER = re.compile(r"[+-]?(\d+)(?:\.(\d+))?")


class _Where:
    """The file and the field path being read (``tables[table1].rows[mu=0.2].cells``), for errors."""

    def __init__(self, file: str, path: str = "") -> None:
        self.file, self.path = file, path

    def key(self, key: str) -> _Where:
        return _Where(self.file, f"{self.path}.{key}" if self.path else key)

    def item(self, key: str | int) -> _Where:
        return _Where(self.file, f"{self.path}[{key}]")

    def error(self, what: str) -> SrbenchError:
        return SrbenchError(f"{self.file}: {self.path}: {what}" if self.path else f"{self.file}: {what}")

    def unknown(self, kind: str, name: str, known: Collection[str]) -> SrbenchError:
        """The unknown-name error (with its suggestion) at this field."""
        return self.error(str(unknown_name(kind, name, known)).removeprefix("unknown "))


def parse_cell(raw: object, where: _Where | None = None) -> Cell:
    """A printed number (a string such as ``"0.1040"``, or a YAML number) as a :class:`Cell`."""
    where = where or _Where("value")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise where.error(f"{raw!r} is not a number")
    text = str(raw).strip()
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise where.error(f"{text!r} is not a number")
    return Cell(text, float(text), len(match.group(2) or ""))


def _mapping(raw: object, where: _Where) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise where.error("missing" if raw is None else f"expected a mapping, got {type(raw).__name__}")
    return raw


def _text(data: Mapping[str, Any], key: str, where: _Where, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise where.key(key).error("missing" if value is None else f"{value!r} is not a text")
    return value


def _names(
    data: Mapping[str, Any],
    key: str,
    where: _Where,
    known: Collection[str] | None = None,
    kind: str = "name",
) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise where.key(key).error("expected a list of names")
    for v in value:
        if known is not None and v not in known:
            raise where.key(key).unknown(kind, v, known)
    return tuple(value)


def _cells(raw: object, table: Table, where: _Where) -> dict[str, dict[str, Cell]]:
    cells_raw = _mapping(raw, where)
    extra = sorted(set(cells_raw) - set(table.datasets))
    if extra:
        raise where.error(
            f"dataset {extra[0]} is not among the table's ({', '.join(table.datasets)}): "
            "the rows of a table share their columns"
        )
    cells: dict[str, dict[str, Cell]] = {}
    for dataset in table.datasets:
        if dataset not in cells_raw:
            raise where.error(f"missing dataset {dataset}")
        here = where.key(dataset)
        metrics = _mapping(cells_raw[dataset], here)
        missing = [m for m in table.metrics if m not in metrics]
        if missing:
            raise here.error(f"missing metric {missing[0]}")
        extra = sorted(set(metrics) - set(table.metrics))
        if extra:
            raise here.error(
                f"metric {extra[0]} is not among the table's ({', '.join(table.metrics)}): "
                "the rows of a table share their columns"
            )
        for m in table.metrics:
            if isinstance(metrics[m], int | float) and not isinstance(metrics[m], bool):
                raise here.key(m).error(
                    f'write {metrics[m]!r} as printed, in quotes ("0.1040"): a YAML number loses its zeros'
                )
        cells[dataset] = {m: parse_cell(metrics[m], here.key(m)) for m in table.metrics}
    return cells


def _row(raw: object, table: Table, where: _Where) -> Row:
    data = _mapping(raw, where)
    row_id = _text(data, "id", where)
    where = where.item(row_id)
    return Row(
        id=row_id,
        label=_text(data, "label", where),
        cells=_cells(data.get("cells"), table, where.key("cells")),
        model=data.get("model"),
        printed=data.get("printed"),
        settings=_mapping(data.get("settings") or {}, where.key("settings")),
    )


def _table(raw: object, where: _Where, datasets: Collection[str], metrics: Collection[str]) -> Table:
    data = _mapping(raw, where)
    table_id = _text(data, "id", where)
    where = where.item(table_id)
    head = Table(
        id=table_id,
        caption=_text(data, "caption", where),
        datasets=_names(data, "datasets", where, datasets, "dataset"),
        metrics=_names(data, "metrics", where, metrics, "metric"),
        rows=(),
        description=_text(data, "description", where, required=False),
        footnotes=tuple(str(f) for f in data.get("footnotes") or ()),
    )
    if not head.datasets or not head.metrics:
        raise where.error("a table needs datasets and metrics")
    rows_raw = data.get("rows")
    if not isinstance(rows_raw, list) or not rows_raw:
        raise where.key("rows").error("expected a list of rows")
    rows = tuple(_row(r, head, where.key("rows")) for r in rows_raw)
    ids = [r.id for r in rows]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise where.key("rows").error(f"row id {duplicate} appears twice")
    return Table(head.id, head.caption, head.datasets, head.metrics, rows, head.description, head.footnotes)


def _claim(raw: object, tables: Mapping[str, Table], where: _Where) -> Claim:
    data = _mapping(raw, where)
    claim_id = _text(data, "id", where)
    where = where.item(claim_id)
    kind = _text(data, "kind", where)
    if kind not in CLAIM_KINDS:
        raise where.key("kind").error(f"'{kind}' is not one of {', '.join(CLAIM_KINDS)}")
    table_id = _text(data, "table", where)
    if table_id not in tables:
        raise where.key("table").unknown("table", table_id, tables)
    table = tables[table_id]
    rows = [r.id for r in table.rows]
    row = _text(data, "row", where)
    if row not in rows:
        raise where.key("row").unknown(f"row of {table_id}", row, rows)
    than = _names(data, "than", where, rows, f"row of {table_id}")
    if kind in ("below", "above", "mean_difference") and not than:
        raise where.key("than").error(f"a '{kind}' claim needs the rows it compares with")
    at_most = data.get("at_most", 1)
    if isinstance(at_most, bool) or not isinstance(at_most, int) or at_most < 1:
        raise where.key("at_most").error(f"{at_most!r} is not a rank (1, 2, ...)")
    value = data.get("value")
    if kind == "mean_difference" and value is None:
        raise where.key("value").error("missing (the difference the paper states)")
    return Claim(
        id=claim_id,
        text=_text(data, "text", where),
        kind=kind,
        table=table_id,
        row=row,
        metrics=_names(data, "metrics", where, table.metrics, f"metric of {table_id}") or table.metrics,
        datasets=_names(data, "datasets", where, table.datasets, f"dataset of {table_id}") or table.datasets,
        than=than,
        among=_names(data, "among", where, rows, f"row of {table_id}"),
        at_most=at_most,
        value=None if value is None else parse_cell(value, where.key("value")),
        basis=_text(data, "basis", where, required=False) or "text",
        source=_text(data, "source", where, required=False),
    )


def _same_run(raw: object, paper: Paper, where: _Where) -> SameRun:
    data = _mapping(raw, where)
    refs = _names(data, "rows", where)
    if len(refs) < 2:
        raise where.key("rows").error("name at least two rows (table/row)")
    rows: list[Row] = []
    for ref in refs:
        try:
            rows.append(paper.row(ref))
        except SrbenchError as e:
            raise where.key("rows").error(str(e)) from None
    cells = data.get("cells")
    if isinstance(cells, bool) or not isinstance(cells, int) or cells < 1:
        raise where.key("cells").error(f"{cells!r} is not a count of equal cells (1, 2, ...)")
    entry = SameRun(
        rows=refs,
        cells=cells,
        datasets=_names(data, "datasets", where),
        metrics=_names(data, "metrics", where),
        transcription=_text(data, "transcription", where, required=False),
    )
    for ref, other in zip(refs[1:], rows[1:], strict=True):
        shared = shared_cells(rows[0], other, entry.datasets, entry.metrics)
        if len(shared) != entry.cells:
            shared_n = f"{refs[0]} and {ref} share {len(shared)} cells"
            raise where.key("cells").error(f"{shared_n}, not {entry.cells}")
        for dataset, metric in shared:
            a, b = rows[0].cell(dataset, metric), other.cell(dataset, metric)
            if a.text != b.text:
                raise where.error(f"{refs[0]} and {ref} differ at {dataset} {metric}: {a.text} vs {b.text}")
    return entry


def shared_cells(
    a: Row, b: Row, datasets: Collection[str] = (), metrics: Collection[str] = ()
) -> list[tuple[str, str]]:
    """The (dataset, metric) cells both rows print, limited to ``datasets`` / ``metrics`` when given."""
    return [
        (d, m)
        for d in a.cells
        if d in b.cells and (not datasets or d in datasets)
        for m in a.cells[d]
        if m in b.cells[d] and (not metrics or m in metrics)
    ]


def parse_paper(data: object, file: str) -> Paper:
    """The paper of a data file's parsed YAML; ``file`` names it in errors."""
    from srbench_eval.data.datasets.registry import dataset_names

    where = _Where(file)
    doc = _mapping(data, where)
    if doc.get("format") != FORMAT:
        raise where.key("format").error(f"{doc.get('format')!r} is not {FORMAT}")
    tables_raw = doc.get("tables")
    if not isinstance(tables_raw, list) or not tables_raw:
        raise where.key("tables").error("expected a list of tables")
    datasets, metrics = set(dataset_names()), set(METRIC_FACTS)
    tables = tuple(_table(t, where.key("tables"), datasets, metrics) for t in tables_raw)
    by_id = {t.id: t for t in tables}
    if len(by_id) != len(tables):
        raise where.key("tables").error("two tables share an id")
    claims = tuple(_claim(c, by_id, where.key("claims")) for c in doc.get("claims") or ())
    paper = Paper(
        name=_text(doc, "name", where),
        title=_text(doc, "title", where),
        citation=_text(doc, "citation", where),
        tables=tables,
        claims=claims,
        protocol=_mapping(doc.get("protocol") or {}, where.key("protocol")),
        training=_mapping(doc.get("training") or {}, where.key("training")),
        source=_text(doc, "source", where, required=False),
    )
    same_raw = doc.get("same_run") or ()
    same = tuple(_same_run(s, paper, where.key("same_run").item(i)) for i, s in enumerate(same_raw))
    return replace(paper, same_run=same)


def load_file(path: str | Path) -> Paper:
    """The paper of the data file at ``path``."""

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SrbenchError(f"{path}: cannot read the paper file ({e.strerror or e})") from None
    try:
        data = safe_load(text)
    except Exception as e:  # yaml.YAMLError: keep the message to one line
        raise SrbenchError(f"{path.name}: not valid YAML ({str(e).splitlines()[0]})") from None
    return parse_paper(data, path.name)


def paper_names() -> list[str]:
    """The papers shipped with the package (``srbench_eval/papers/*.yaml``, except the measured
    ``*_quirks.yaml`` beside them: :mod:`srbench_eval.papers.quirks`)."""
    root = importlib.resources.files("srbench_eval.papers")
    names = (p.name for p in root.iterdir() if p.name.endswith(".yaml"))
    return sorted(n.removesuffix(".yaml") for n in names if not n.endswith("_quirks.yaml"))


@lru_cache(maxsize=8)
def load(name: str) -> Paper:
    """The shipped paper ``name`` (``dp_loss``), validated; an unknown name is a one-line error."""
    if name not in paper_names():
        raise unknown_name("paper", name, paper_names())
    resource = importlib.resources.files("srbench_eval.papers").joinpath(f"{name}.yaml")
    return load_file(Path(str(resource)))
