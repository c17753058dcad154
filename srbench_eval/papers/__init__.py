"""Published papers as validated data, and the study specs that reproduce their tables.

* :func:`load` (``load("dp_loss")``): one data file per paper, ``srbench_eval/papers/<name>.yaml``,
  as typed records (:class:`Paper`, :class:`Table`, :class:`Row`, :class:`Cell`, :class:`Claim`);
* :func:`cell_text` and :func:`check_claims`: a published cell beside a measured one, and the
  paper's claimed differences checked on measured values;
* :func:`load_spec` (``load_spec("dp-table1")``): the study specs of
  ``srbench_eval/papers/studies/*.yaml``, each row of a spec mapped to the paper's table row.
"""

from srbench_eval.papers.claims import ClaimResult, cell_text, check_claims, evaluate_claim, published_values
from srbench_eval.papers.loader import load, load_file, paper_names, parse_cell, parse_paper
from srbench_eval.papers.records import Cell, Claim, Paper, Row, SameRun, Table
from srbench_eval.papers.specs import (
    Schedule,
    SpecMember,
    StudySpec,
    load_spec,
    paper_train_overrides,
    spec_names,
)

__all__ = [
    "Cell",
    "Claim",
    "ClaimResult",
    "Paper",
    "Row",
    "SameRun",
    "Schedule",
    "SpecMember",
    "StudySpec",
    "Table",
    "cell_text",
    "check_claims",
    "evaluate_claim",
    "load",
    "load_file",
    "load_spec",
    "paper_names",
    "paper_train_overrides",
    "parse_cell",
    "parse_paper",
    "published_values",
    "spec_names",
]
