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

RENDEZVOUS_TIMEOUT_S = 60.0
"""How long the processes of a sharded run wait for each other to meet (seconds)."""

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


def _whole(name: str, default: str) -> int:
    raw = os.environ.get(name, default)
    try:
        return int(raw)
    except ValueError:
        raise SrbenchError(f"${name}={raw!r}: torchrun sets it to a whole number") from None


def from_environ(device: torch.device | str = "cpu") -> DistEnv:
    """The ranks torchrun gave this process (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``; one process
    without them), on ``device`` until :func:`srbench_eval.distributed.setup` picks the rank's own.
    Checked: ``WORLD_SIZE >= 1``, ``0 <= RANK < WORLD_SIZE``, ``LOCAL_RANK >= 0`` (the rendezvous
    settings are checked when the group is joined: :func:`rendezvous`)."""
    rank, world, local_rank = _whole("RANK", "0"), _whole("WORLD_SIZE", "1"), _whole("LOCAL_RANK", "0")
    if world < 1:
        raise SrbenchError(f"$WORLD_SIZE={world}: the number of processes is at least 1")
    if not 0 <= rank < world:
        raise SrbenchError(f"$RANK={rank}: a rank of $WORLD_SIZE={world} processes is from 0 to {world - 1}")
    if local_rank < 0:
        raise SrbenchError(f"$LOCAL_RANK={local_rank}: a local rank is 0 or more")
    return DistEnv(rank, world, local_rank, device)


def rendezvous() -> tuple[str, int, float]:
    """Where and how long the processes of a run meet: ``MASTER_ADDR``, ``MASTER_PORT`` (set by
    torchrun; by hand, both are needed) and ``$SRBENCH_RENDEZVOUS_TIMEOUT`` seconds (default
    :data:`RENDEZVOUS_TIMEOUT_S`): a rank whose peers do not all arrive in that time stops."""
    addr = os.environ.get("MASTER_ADDR", "").strip()
    for name, value in (("MASTER_ADDR", addr), ("MASTER_PORT", os.environ.get("MASTER_PORT", "").strip())):
        if not value:
            raise SrbenchError(f"${name} is not set: use torchrun, or set MASTER_ADDR and MASTER_PORT")
    port = _whole("MASTER_PORT", "")
    if not 0 < port < 2**16:
        raise SrbenchError(f"$MASTER_PORT={port}: a port is from 1 to 65535")
    raw = os.environ.get("SRBENCH_RENDEZVOUS_TIMEOUT", str(RENDEZVOUS_TIMEOUT_S))
    try:
        timeout = float(raw)
    except ValueError:
        timeout = float("nan")
    if not 0 < timeout < 86400:  # also false for nan
        raise SrbenchError(f"$SRBENCH_RENDEZVOUS_TIMEOUT={raw!r}: seconds, above 0 and under a day")
    return addr, port, timeout


__all__ = ["RENDEZVOUS_TIMEOUT_S", "DistEnv", "from_environ", "rendezvous"]
