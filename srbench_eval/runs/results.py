"""Run results on disk: ``results.csv`` (long form), ``summary.json`` (means + provenance).

``results.csv`` has one row per model x dataset x image x metric with the columns
``model,dataset,scale,image,metric,value``; set-level metrics (FID) have one row per model x dataset
with an empty ``image``. ``summary.json`` holds one :class:`SummaryEntry` per model x dataset x
metric (the mean of the per-image values, or the set-level value) and the run's provenance.

Everything is written atomically, and a run directory is only created complete (see
:func:`finished_run_dir`), so a failed run never leaves results that look complete.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from srbench_eval.defaults import as_scale
from srbench_eval.digests import sha256_file
from srbench_eval.errors import SrbenchError, os_error
from srbench_eval.files import write_bytes_atomic

RESULTS_CSV = "results.csv"
CSV_COLUMNS = ("model", "dataset", "scale", "image", "metric", "value")
SUMMARY_FORMAT = 1


@dataclass(frozen=True)
class ImageValue:
    """One row of ``results.csv``."""

    model: str
    dataset: str
    scale: int
    image: str
    metric: str
    value: float


@dataclass(frozen=True)
class SummaryEntry:
    """A metric's value for one model on one dataset, as tables and regression checks use it."""

    model: str
    dataset: str
    scale: int
    metric: str
    value: float
    n_samples: int
    reliable: bool = True
    note: str = ""


@dataclass
class Summary:
    """The content of ``summary.json``."""

    entries: list[SummaryEntry]
    metrics: dict[str, dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    # see srbench_eval.reports.statistics.statistics_json
    statistics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        doc = {
            "format": SUMMARY_FORMAT,
            "config": self.config,
            "metrics": self.metrics,
            "results": [_entry_to_json(e) for e in self.entries],
            "provenance": self.provenance,
        }
        if self.statistics:
            doc["statistics"] = self.statistics
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "summary.json") -> Summary:
        """Parse ``summary.json``; a missing or mistyped field is a one-line error naming it."""
        doc = parse_json_object(text, source, "a srbench-eval summary")
        metrics = get_field(doc, "metrics", "object", source)
        for name, info in metrics.items():
            where = f"metrics.{name}"
            if not isinstance(info, dict):
                raise SrbenchError(f"{source}: field '{where}' should be object, not {json_type(info)}")
            get_field(info, "label", "text", source, where)
            get_field(info, "higher_is_better", "true/false", source, where)
            get_field(info, "decimals", "integer", source, where)
        provenance = get_field(doc, "provenance", "object", source, default={})
        datasets = get_field(provenance, "datasets", "object", source, "provenance", default={})
        for name, info in datasets.items():
            where = f"provenance.datasets.{name}"
            if not isinstance(info, dict):
                raise SrbenchError(f"{source}: field '{where}' should be object, not {json_type(info)}")
            get_field(info, "title", "text", source, where, default="")
        get_field(provenance, "stand_in_weights", "list", source, "provenance", default=[])
        get_field(provenance, "results_csv_sha256", "text", source, "provenance", default="")
        entries = entries_from_json(get_field(doc, "results", "list", source), source)
        config = get_field(doc, "config", "object", source, default={})
        statistics = get_field(doc, "statistics", "object", source, default={})
        return cls(entries, metrics, provenance, config, statistics)


_REQUIRED = object()
_JSON_TYPES = {
    "text": (str,),
    "integer": (int,),
    "number": (int, float),
    "true/false": (bool,),
    "list": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, as error messages say it."""
    if isinstance(value, bool):
        return "true/false"
    for name, types in _JSON_TYPES.items():
        if isinstance(value, types):
            return "number" if isinstance(value, float) else name
    return type(value).__name__


def get_field(
    doc: dict[str, Any], key: str, kind: str, source: str, where: str = "", default: Any = _REQUIRED
) -> Any:
    """``doc[key]`` checked against ``kind`` (``"integer"``, ``"text|null"``, ...; JSON names); a
    missing (without ``default``) or mistyped field is a one-line error naming ``source`` and the
    field's path."""
    name = f"{where}.{key}" if where else key
    if key not in doc:
        if default is _REQUIRED:
            raise SrbenchError(f"{source}: field '{name}' is missing")
        return default
    value = doc[key]
    kinds = kind.split("|")
    if json_type(value) not in kinds and not (json_type(value) == "integer" and "number" in kinds):
        wanted = kind.replace("|", " or ")
        raise SrbenchError(f"{source}: field '{name}' should be {wanted}, not {json_type(value)}")
    return value


def parse_json_object(text: str, source: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise SrbenchError(f"{source}: not {what} (invalid JSON: {e})") from None
    if not isinstance(doc, dict):
        raise SrbenchError(f"{source}: not {what} (a JSON {json_type(doc)}, not an object)")
    return doc


def entries_from_json(items: list[Any], source: str) -> list[SummaryEntry]:
    """The ``results`` list of a summary or baseline, every field checked."""
    entries = []
    for i, d in enumerate(items):
        where = f"results[{i}]"
        if not isinstance(d, dict):
            raise SrbenchError(f"{source}: field '{where}' should be object, not {json_type(d)}")
        value = get_field(d, "value", "number|text", source, where)
        try:
            value = float(value)
        except ValueError:
            raise SrbenchError(f"{source}: field '{where}.value' should be a number, not {value!r}") from None
        entries.append(
            SummaryEntry(
                model=get_field(d, "model", "text", source, where),
                dataset=get_field(d, "dataset", "text", source, where),
                scale=as_scale(get_field(d, "scale", "number", source, where)),
                metric=get_field(d, "metric", "text", source, where),
                value=value,
                n_samples=get_field(d, "n_samples", "integer", source, where),
                reliable=get_field(d, "reliable", "true/false", source, where, default=True),
                note=get_field(d, "note", "text", source, where, default=""),
            )
        )
    return entries


def _entry_to_json(e: SummaryEntry) -> dict[str, Any]:
    d = asdict(e)
    # JSON has no inf/nan: PSNR of identical images is +inf.
    if not math.isfinite(e.value):
        d["value"] = str(e.value)
    return d


def csv_text(rows: Sequence[ImageValue]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([r.model, r.dataset, r.scale, r.image, r.metric, repr(float(r.value))])
    return buf.getvalue()


def read_csv(path: Path) -> list[ImageValue]:
    """The rows of a ``results.csv``; a row whose scale is not a number, whose value is not a
    number, or that lacks a column is one line naming the file and the line."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
                raise SrbenchError(f"{path}: expected columns {','.join(CSV_COLUMNS)}")
            return [_csv_row(r, path, reader.line_num) for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SrbenchError(f"{path}: cannot read ({e})") from None


def _csv_row(r: dict[str, Any], path: Path, line: int) -> ImageValue:
    if None in r.values() or None in r:
        raise SrbenchError(
            f"{path}, line {line}: expected the {len(CSV_COLUMNS)} columns {','.join(CSV_COLUMNS)}"
        )
    try:
        scale = as_scale(r["scale"])
    except ValueError:
        raise SrbenchError(f"{path}, line {line}: scale {r['scale']!r} is not a number") from None
    try:
        value = float(r["value"])
    except ValueError:
        raise SrbenchError(f"{path}, line {line}: value {r['value']!r} is not a number") from None
    return ImageValue(r["model"], r["dataset"], scale, r["image"], r["metric"], value)


def load_summary(run_dir: Path) -> Summary:
    """Read ``RUN_DIR/summary.json`` (or a summary file given directly), refusing a run whose
    ``results.csv`` is missing or no longer the one the summary was written with (SHA-256; a
    summary file given alone is checked against a ``results.csv`` beside it, if any)."""
    path = run_dir / "summary.json" if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise SrbenchError(f"{run_dir}: no summary.json (not a finished srbench-eval run directory)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SrbenchError(f"{path}: cannot read ({e})") from None
    summary = Summary.from_json(text, str(path))
    recorded = summary.provenance.get("results_csv_sha256")
    csv_path = path.parent / RESULTS_CSV
    if not recorded and csv_path.is_file():
        raise SrbenchError(
            f"{path}: provenance.results_csv_sha256 is missing, so {csv_path} cannot be checked against "
            "the run that wrote it; rerun the run"
        )
    if recorded:
        if not csv_path.is_file() and path != run_dir:  # a summary file alone may travel without it
            raise SrbenchError(f"{csv_path}: missing, but {path} was written with it; rerun the run")
        if csv_path.is_file() and _sha256(csv_path) != recorded:
            raise SrbenchError(
                f"{csv_path}: does not match {path} (SHA-256 differs from the one recorded at the end of "
                f"the run): the run folder was changed; rerun it"
            )
    return summary


def _sha256(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as e:
        raise SrbenchError(f"{path}: cannot read ({e.strerror or e})") from None


FINISHED_MARKS = ("summary.json", "study.json")
"""Files that make a folder a finished run (``summary.json``) or study (``study.json``)."""


def refuse_finished(out: Path, option: str = "--out", *, anywhere_inside: bool = False) -> None:
    """Refuse to write ``out`` where it would change what a finished run or study wrote (one line
    naming the path): ``out`` being such a folder, or a file over an existing file of one; with
    ``anywhere_inside`` (a command that fills a folder with files, ``datasets lr``), any ``out``
    inside one, ``--force`` or not. A new file or folder beside a run's files (``report RUN --out
    RUN/report``) is allowed."""
    if anywhere_inside:
        for folder in (out, *out.absolute().parents):
            if any((folder / mark).is_file() for mark in FINISHED_MARKS):
                raise SrbenchError(
                    f"{option} {out}: inside the finished run or study {folder}; write elsewhere"
                )
        return
    folder = out if out.is_dir() else out.parent
    if not any((folder / mark).is_file() for mark in FINISHED_MARKS):
        return
    if out.is_dir():
        raise SrbenchError(f"{option} {out}: is a finished run or study folder; choose another folder")
    if out.exists():
        raise SrbenchError(f"{option} {out}: a file of the finished run or study {folder}; not overwritten")


def inside(root: Path, *parts: str) -> Path:
    """``root/parts...``, refused unless it resolves inside ``root``: the one way a run names a file.

    Each part is a name of :func:`srbench_eval.names.safe_name` or a fixed file name of the tool;
    the resolved check also catches a symbolic link inside ``root`` that points out of it.
    """
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if target == base or base not in target.parents:
        raise SrbenchError(f"{root.joinpath(*parts)}: resolves outside the run folder {root}; refused")
    return target


RESERVATION = ".srbench-run"  # inside a staging folder: the pid and host of the run writing it


def _staging_name(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


def _owner(staging: Path) -> tuple[int, str] | None:
    """The (pid, host) recorded in a staging folder, or ``None`` when it is not one of ours."""
    try:
        pid, host = (staging / RESERVATION).read_text(encoding="utf-8").split("\n")[:2]
        return int(pid), host
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(staging: Path) -> bool:
    """A staging folder whose run was killed: its recorded process is gone (same host only)."""
    owner = _owner(staging)
    return owner is not None and owner[1] == platform.node() and not _alive(owner[0])


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove the ``.NAME.partial`` folders of killed runs in ``folder``; the ones removed."""
    removed = []
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".partial")]
    except OSError:
        return []
    for p in candidates:
        if p.is_dir() and not p.is_symlink() and _is_stale(p):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def reserve_run_dir(out: Path) -> Path:
    """Claim ``out`` for this process: create its staging folder ``.OUT.partial`` beside it with
    ``mkdir`` (atomic: of two runs given the same ``--out`` one wins, the other fails at once) and
    record the pid in it. A staging folder left by a killed run is removed first."""
    if out.exists() or out.is_symlink():
        raise SrbenchError(f"{out}: output folder already exists; choose another --out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise os_error(out.parent, e, "create the folder of --out") from None
    if not out.parent.is_dir():
        raise SrbenchError(f"{out.parent}: not a folder; choose another --out")
    remove_stale_staging(out.parent)
    staging = _staging_name(out)
    try:
        staging.mkdir()
    except FileExistsError:
        owner = _owner(staging)
        who = f" (pid {owner[0]} on {owner[1]})" if owner else ""
        raise SrbenchError(
            f"{out}: another run is writing this folder{who} ({staging} exists); choose another --out, "
            f"or remove {staging} if no run is writing it"
        ) from None
    except OSError as e:
        raise os_error(out.parent, e, "create the run folder") from None
    try:
        write_bytes_atomic(staging / RESERVATION, f"{os.getpid()}\n{platform.node()}\n".encode())
        if out.exists():  # a concurrent run finished between our check and our mkdir
            raise SrbenchError(f"{out}: output folder already exists; choose another --out")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


@contextmanager
def finished_run_dir(out: Path) -> Iterator[Path]:
    """Reserve ``out`` (:func:`reserve_run_dir`) and yield its staging folder; rename it to ``out``
    only when the block succeeds.

    A run that fails or is interrupted (Ctrl-C, SIGTERM) leaves no ``out`` folder (the staging
    folder is removed), so nothing incomplete ever looks like a finished run; one killed outright
    leaves its staging folder, removed by the next run in the same folder.
    """
    staging = reserve_run_dir(out)
    try:
        yield staging
        (staging / RESERVATION).unlink()
        try:
            os.rename(staging, out)
        except OSError as e:
            if out.exists():
                raise SrbenchError(f"{out}: output folder already exists; choose another --out") from None
            raise os_error(out, e, "rename the finished run into place") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
