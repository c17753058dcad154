"""Many processes: ``torchrun --nproc_per_node N srbench-eval train|run ...``; the collectives the
training (DistributedDataParallel) and the sharded evaluation (:mod:`srbench_eval.evaluation.shards`)
share.

torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (read by :func:`srbench_eval.ranks.from_environ`);
:func:`setup` then joins the process group (NCCL on GPUs, gloo on CPUs) and gives each rank its device
(``cuda:LOCAL_RANK``). Training: the global
batch of the recipe is split evenly over the ranks; each rank reads its share of the sample stream
(:class:`~srbench_eval.data.patches.StreamSampler`), DDP averages the gradients, so N ranks compute
the update of one process with the whole batch. Rank 0 alone validates, logs and writes
checkpoints; the others wait at a barrier. Without those variables everything is a no-op
(world size 1).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from srbench_eval.errors import SrbenchError
from srbench_eval.ranks import DistEnv as DistEnv  # re-exported
from srbench_eval.ranks import from_environ, rendezvous


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda:LOCAL_RANK`` when a GPU is there, else ``cpu``; checks explicit names."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SrbenchError(f"unknown device '{name}': use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SrbenchError(f"device '{name}' requested but no CUDA GPU is available; use --device cpu")
        if device.index is None:
            device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    return device


COLLECTIVE_TIMEOUT = timedelta(minutes=30)
"""How long a collective waits for the other ranks once the group is formed (rank 0 may be
downloading the datasets while the others wait)."""


def setup(device_name: str, ranks: DistEnv | None = None) -> DistEnv:
    """Join the process group when launched by torchrun (``WORLD_SIZE`` > 1); pick the device.
    ``ranks``: this process's place (default: :func:`srbench_eval.ranks.from_environ`). The
    rendezvous is bounded (:func:`srbench_eval.ranks.rendezvous`: 60 s unless
    ``$SRBENCH_RENDEZVOUS_TIMEOUT``) and SIGINT/SIGTERM stop it."""
    ranks = ranks or from_environ()
    rank, world, local_rank = ranks.rank, ranks.world, ranks.local_rank
    device = resolve_device(device_name, local_rank)
    if world > 1 and not dist.is_initialized():
        _join(device, rank, world)
    return DistEnv(rank, world, local_rank, device)


def _join(device: torch.device, rank: int, world: int) -> None:
    """``init_process_group`` with the rendezvous timeout, in a helper thread: the main thread waits
    in Python, so that Ctrl-C and SIGTERM (turned into exceptions by the CLI) stop the wait, which
    torch's C++ connect loop would otherwise hold. Once formed, the group's collectives get
    :data:`COLLECTIVE_TIMEOUT`."""
    addr, port, seconds = rendezvous()
    kwargs: dict[str, Any] = {
        "backend": "nccl" if device.type == "cuda" else "gloo",
        "timeout": timedelta(seconds=seconds),
    }
    if device.type == "cuda":
        kwargs["device_id"] = device
    failure: list[BaseException] = []

    def join() -> None:
        try:
            dist.init_process_group(**kwargs)
        except BaseException as e:  # handed to the main thread
            failure.append(e)

    thread = threading.Thread(target=join, name="srbench-rendezvous", daemon=True)
    deadline = time.monotonic() + seconds
    with _quiet_stderr():  # torch's C++ log: every retry, with a stack trace
        thread.start()
        while thread.is_alive() and time.monotonic() < deadline:
            thread.join(0.1)
    if failure or thread.is_alive():
        cause = f": {_first_line(failure[0])}" if failure else ""
        raise SrbenchError(
            f"rank {rank} of {world}: the ranks did not all meet at {addr}:{port} within {seconds:g} s "
            f"($SRBENCH_RENDEZVOUS_TIMEOUT){cause}"
        )
    if dist.is_initialized():
        dist.set_timeout(COLLECTIVE_TIMEOUT)


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 sent to ``/dev/null`` (torch's C++ code writes there, not to ``sys.stderr``)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _first_line(error: BaseException) -> str:
    """The first line of torch's message (its C++ errors append a stack trace)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def teardown(env: DistEnv) -> None:
    """Leave the process group. The run's DDP wrappers are collected first: their reducers hold the
    gloo group, and a group left to the interpreter's exit aborted the process ("terminate called
    without an active exception") in 4 of 22 two-rank runs; with the collection, 0 of 46."""
    if env.distributed and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()
        gc.collect()


def barrier(env: DistEnv) -> None:
    if env.distributed:
        if env.device.type == "cuda":
            dist.barrier(device_ids=[env.device.index])
        else:
            dist.barrier()


def mean_over_ranks(env: DistEnv, values: torch.Tensor) -> torch.Tensor:
    """The elementwise mean of ``values`` over the ranks (the tensor itself with one process)."""
    if env.distributed:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= env.world
    return values


def any_over_ranks(env: DistEnv, flag: bool) -> bool:
    """True when ``flag`` is true on any rank (so every rank takes the same branch)."""
    if not env.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=env.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def gather_objects(env: DistEnv, obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (a one-item list with one process)."""
    if not env.distributed:
        return [obj]
    out: list[Any] = [None] * env.world
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(env: DistEnv, obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not env.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
