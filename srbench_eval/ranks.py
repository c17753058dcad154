"""This process's place among the processes of a run (``torchrun``), as a torch-free value.

:mod:`srbench_eval.training.distributed` joins the process group and makes these; a single process
is ``DistEnv()`` (the evaluation's is ``DistEnv(device="cpu")``, which imports no torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _cpu() -> torch.device:
    import torch

    return torch.device("cpu")


@dataclass(frozen=True)
class DistEnv:
    """This process's place: ``rank`` of ``world`` processes, its ``device``."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device | str = field(default_factory=_cpu)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


__all__ = ["DistEnv"]
