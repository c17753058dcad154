"""What the compiled (numba) CPU kernels share: their compile options (defined in the torch-free
:mod:`srbench_eval.jit`, which the PNG decoder also uses) and the test of which tensors they take
(:mod:`srbench_eval.data.resize_kernels`, :mod:`srbench_eval.metrics.fidelity_kernels`).

Everything else (GPU tensors, other dtypes, tensors that need gradients) goes through the tensor
code, which the tests hold equal to the kernels.
"""

from __future__ import annotations

import torch

from srbench_eval.jit import JIT_OPTIONS

__all__ = ["JIT_OPTIONS", "takes_compiled_path"]


def takes_compiled_path(*tensors: torch.Tensor) -> bool:
    """Whether the compiled kernels can take these tensors: all on the CPU, float32 or float64, and
    none needing a gradient."""
    return all(
        t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64) and not t.requires_grad
        for t in tensors
    )
