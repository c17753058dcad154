"""What the compiled (numba) CPU kernels share: their compile options and the test of which images
they take (:mod:`srbench_eval.data.degrade.resize_kernels`, :mod:`srbench_eval.metrics.fidelity_kernels`).

On the CPU the evaluation loop's images are NumPy arrays (:mod:`srbench_eval.data.pairs`), and the
kernels take them as they are; CPU tensors that need no gradient are viewed as arrays without a copy.
Everything else (GPU tensors, other dtypes, tensors that need gradients) goes through the tensor
code, which the tests hold equal to the kernels. Importing this module imports no torch.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

JIT_OPTIONS = {"nogil": True, "cache": True, "error_model": "numpy"}
"""Release the GIL (the evaluation loop's read-ahead threads run kernels in parallel), cache the
machine code on disk (compiled once per machine), NumPy's floating-point error model."""

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def is_tensor(x: object) -> bool:
    """Whether ``x`` is a torch tensor, asked without importing torch: no tensor exists before it (nor
    while another thread is still importing it, before ``torch.Tensor`` is bound)."""
    tensor = getattr(sys.modules.get("torch"), "Tensor", None)
    return tensor is not None and isinstance(x, tensor)


def takes_compiled_path(*images: Any) -> bool:
    """Whether the compiled kernels can take these images: NumPy arrays, or CPU tensors that need no
    gradient, all float32 or float64."""
    for x in images:
        if is_tensor(x):
            float_dtype = str(x.dtype) in ("torch.float32", "torch.float64")
            if x.device.type != "cpu" or x.requires_grad or not float_dtype:
                return False
        elif not isinstance(x, np.ndarray) or x.dtype not in _FLOATS:
            return False
    return True


def as_array(x: np.ndarray | torch.Tensor) -> np.ndarray:
    """A C-contiguous NumPy array of ``x`` (a CPU tensor is viewed without a copy where it is contiguous)."""
    return np.ascontiguousarray(x.detach().numpy() if is_tensor(x) else x)


def like(values: np.ndarray, x: object) -> Any:
    """``values`` as ``x`` is held: a CPU tensor when ``x`` is a tensor (its twin in the tensor API),
    else the NumPy array itself."""
    if is_tensor(x):
        import torch

        return torch.from_numpy(values)
    return values


def as_tensor(
    x: np.ndarray | torch.Tensor, device: torch.device | str | None = None, *, channels_last: bool = False
) -> torch.Tensor:
    """A tensor of ``x`` (a NumPy array shares its memory, strides kept), on ``device`` when given: where
    the CPU path's arrays meet code that needs tensors (networks, learned metrics). ``channels_last``:
    an ``(N, C, H, W)`` batch in channels-last memory order (a copy unless it is already), the layout
    of a decoded image that networks and learned metrics have always been handed. Imports torch."""
    import torch

    t = x if is_tensor(x) else torch.from_numpy(x)
    if channels_last and t.ndim == 4:
        t = t.contiguous(memory_format=torch.channels_last)
    return t if device is None else t.to(device)


BLAS_PROBE = "scipy.linalg.cython_blas"
"""What numba imports at its start to learn whether ``np.dot`` and the like can compile."""


def start_numba() -> bool:
    """Start numba in this process (its type registries, once) without its BLAS probe; ``True`` when
    it started here, ``False`` when it had started already or SciPy's linear algebra is loaded anyway
    (the probe then costs nothing and is left alone).

    numba's start (``numba.np.arraymath``) imports ``scipy.linalg.cython_blas`` once to decide how
    ``np.correlate`` and ``np.convolve`` compile (a BLAS inner product or a loop); importing
    ``scipy.linalg`` takes about 0.19 CPU-s, three quarters of numba's start and a tenth of a whole
    ``run`` of the bicubic column, on the critical path before the first image, and none of the
    package's kernels uses either function. So ``srbench-eval run``
    (:func:`srbench_eval.commands.evaluation.run`) starts numba here, in its main thread before any
    other thread compiles, with that one import made to fail for the moment of the start.
    Afterwards SciPy imports as usual, BLAS calls (``np.dot``, ``np.linalg``) compile as ever (numba
    imports SciPy's BLAS when it compiles one), and only ``np.correlate``/``np.convolve`` in a kernel
    compiled later in this process would take the loop (``tests/test_compiled.py``)."""
    if "numba.np.arraymath" in sys.modules or BLAS_PROBE in sys.modules or "scipy.linalg" in sys.modules:
        return False
    sys.modules[BLAS_PROBE] = None  # import -> ImportError: numba's probe says "no BLAS"
    try:
        from numba.np import arraymath  # noqa: F401 (numba's start: the registries, the probe)
    finally:
        if sys.modules.get(BLAS_PROBE, ...) is None:
            del sys.modules[BLAS_PROBE]
    return True
