"""The compile options every numba kernel of the package shares (no torch needed to load them)."""

from __future__ import annotations

JIT_OPTIONS = {"nogil": True, "cache": True, "error_model": "numpy"}
"""Release the GIL (the evaluation loop's read-ahead threads run kernels in parallel), cache the
machine code on disk (compiled once per machine), NumPy's floating-point error model."""
