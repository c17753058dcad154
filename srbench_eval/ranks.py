"""This process's place among the processes of a run (``torchrun``), as a torch-free value.

torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; :func:`from_environ` is the one place
that reads them. :func:`srbench_eval.distributed.setup` joins the process group and gives the
value its device; a single process is ``DistEnv()`` (the evaluation's is ``DistEnv(device="cpu")``,
which imports no torch).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from srbench_eval.errors import SrbenchError

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


def from_environ(device: torch.device | str = "cpu") -> DistEnv:
    """The ranks torchrun gave this process (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``; one process
    without them), on ``device`` until :func:`srbench_eval.distributed.setup` picks the rank's own."""
    values = {}
    for name, default in (("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", "0")):
        raw = os.environ.get(name, default)
        try:
            values[name] = int(raw)
        except ValueError:
            raise SrbenchError(f"${name}={raw!r}: torchrun sets it to a whole number") from None
    return DistEnv(values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"], device)


__all__ = ["DistEnv", "from_environ"]
