"""What the compiled (numba) CPU kernels share: their compile options and the test of which tensors
they take (:mod:`srbench_eval.data.resize_kernels`, :mod:`srbench_eval.metrics.fidelity_kernels`).

Everything else (GPU tensors, other dtypes, tensors that need gradients) goes through the tensor
code, which the tests hold equal to the kernels.
"""

from __future__ import annotations

import torch

JIT_OPTIONS = {"nogil": True, "cache": True, "error_model": "numpy"}
"""Release the GIL (the evaluation loop's read-ahead threads run kernels in parallel), cache the
machine code on disk (compiled once per machine), NumPy's floating-point error model."""


def takes_compiled_path(*tensors: torch.Tensor) -> bool:
    """Whether the compiled kernels can take these tensors: all on the CPU, float32 or float64, and
    none needing a gradient."""
    return all(
        t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64) and not t.requires_grad
        for t in tensors
    )
