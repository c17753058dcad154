"""The evaluation device of one process: ``--device auto`` asks torch only where a GPU driver is
present, so a CPU run of the bicubic and folder columns never imports it."""

from __future__ import annotations

import os
import sys

from srbench_eval.errors import SrbenchError

GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd")
"""Linux files of the NVIDIA and AMD (ROCm) kernel drivers: without any of them torch finds no GPU."""


def gpu_driver_present() -> bool:
    """Whether a GPU driver might be there (always True off Linux, where torch is asked)."""
    return not sys.platform.startswith("linux") or any(os.path.exists(f) for f in GPU_DRIVER_FILES)


def resolve_device(name: str) -> str:
    """The evaluation device's name (``cpu``, ``cuda``, ``cuda:1``): ``auto`` is ``cuda`` when torch
    finds a GPU, asked only where a GPU driver is present, else ``cpu`` (torch not imported)."""
    if name == "auto" and not gpu_driver_present():
        return "cpu"
    if name == "cpu":
        return name
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SrbenchError(f"unknown device '{name}': use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SrbenchError(f"device '{name}' requested but no CUDA GPU is available; use --device cpu")
    return str(device)
