"""srbench-eval: one exact protocol for evaluating single-image super-resolution."""

import os

# torch's idle OpenMP threads spin by default; on cores shared with other processes that makes the
# numerics crawl (BSD100 x4: 1.3 s -> 124 s measured). Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
