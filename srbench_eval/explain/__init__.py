"""`srbench-eval explain`: which scoring convention reproduces a published number.

:mod:`.conventions` lists what is tried (profiles, single-field variants, tools' defaults),
:mod:`.scoring` scores SR images under each with decoded images and Y planes shared,
:mod:`.ranking` parses targets and ranks, :mod:`.engine` ties them together, :mod:`.text` prints.
"""

from srbench_eval.explain.conventions import Convention, candidates
from srbench_eval.explain.engine import Explanation, explain, source_model
from srbench_eval.explain.ranking import Row, Target, parse_target, published_targets, rank

__all__ = [
    "Convention",
    "Explanation",
    "Row",
    "Target",
    "candidates",
    "explain",
    "parse_target",
    "published_targets",
    "rank",
    "source_model",
]
