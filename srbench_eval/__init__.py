"""srbench-eval: one exact protocol for evaluating single-image super-resolution."""

__version__ = "0.1.0"
