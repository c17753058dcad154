"""The compiled kernels' shared parts: which images take the compiled path, and numba's start
without its BLAS probe (what ``srbench-eval run`` does in its own process)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from srbench_eval.compiled import takes_compiled_path

START = """
import sys
import numpy as np
from srbench_eval.compiled import start_numba
started = start_numba()
assert started and "scipy.linalg" not in sys.modules, sorted(m for m in sys.modules if "scipy" in m)
assert start_numba() is False  # once
from srbench_eval.data.degrade import resize_kernels
from srbench_eval.data.io.png_unfilter import unfilter
from srbench_eval.metrics import fidelity_kernels
out = np.empty((1, 1), np.uint8)
assert unfilter(np.frombuffer(b"\\0\\7", np.uint8), out, 1) and out[0, 0] == 7
y = np.empty((12, 12))
fidelity_kernels.luma_float32(np.full((3, 12, 12), 200, np.float32), y)
import numba
@numba.njit
def dot(a, b):
    return np.dot(a, b)
print(dot(np.ones((2, 2)), np.ones((2, 2))).sum(), "scipy.linalg" in sys.modules)  # BLAS compiles as ever
import scipy.linalg  # and SciPy imports as usual
"""


def test_numba_starts_without_scipy_linalg_and_the_kernels_run() -> None:
    out = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "8.0 True", out.stdout


def test_arrays_and_cpu_tensors_take_the_compiled_path() -> None:
    import torch

    assert takes_compiled_path(np.zeros(3, np.float32), np.zeros(3), torch.zeros(3))
    assert not takes_compiled_path(np.zeros(3, np.uint8))
    assert not takes_compiled_path(torch.zeros(3, requires_grad=True))
    assert not takes_compiled_path(torch.zeros(3, dtype=torch.float16))
