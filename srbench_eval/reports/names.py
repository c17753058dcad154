"""The names of the table layouts (:mod:`srbench_eval.reports.layouts`), without NumPy: `table --help`
lists them."""

LAYOUTS = ("blocks", "paper", "sweep", "ablation")
