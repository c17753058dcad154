"""The study's worker processes and its folder lock.

Workers (``study --jobs N``) are ``spawn``-ed processes, at most ``N`` at once, each answering one
task through a pipe. They die with their parent, even one killed by ``kill -9``
(:func:`die_with_parent`: the kernel's parent-death signal on Linux, and a watchdog thread); when
the parent stops early (an error, Ctrl-C, SIGTERM, which the CLI turns into an exception), it sends
every running worker SIGTERM, waits :data:`GRACE_S` seconds and kills the rest, so nothing keeps
training into the study folder. A worker unwinds on SIGTERM (``finally`` blocks remove temporary
files); a temporary checkpoint left by a SIGKILL is removed when the member resumes.

The lock (:func:`locked`) is an exclusive ``flock`` on the study folder itself: held while a study
runs, released by the kernel when the process ends however it ends (``kill -9`` included), and it
leaves no file behind. A second ``study`` on the same folder is refused at once.
"""

from __future__ import annotations

import ctypes
import fcntl
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from srbench_eval.errors import SrbenchError

GRACE_S = 5.0
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """End this worker when ``parent`` ends: SIGTERM from the kernel (Linux ``PR_SET_PDEATHSIG``),
    unwound like the CLI's (``finally`` blocks remove temporary files), and a watchdog thread that
    exits for good :data:`GRACE_S` seconds after the parent is gone (any system, any state)."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="parent-watchdog").start()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    sys.exit(128 + signum)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(1)


def _worker(parent: int, conn: Connection, fn: Callable[..., str], args: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    import torch

    torch.set_num_threads(1)  # N jobs on N cores: one thread each
    try:
        conn.send((True, fn(*args)))
    except SrbenchError as e:
        conn.send((False, str(e)))
    except BaseException as e:  # noqa: BLE001 - reported by the parent as one line
        conn.send((False, f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def run_parallel(
    fn: Callable[..., str], tasks: Sequence[tuple[Any, ...]], jobs: int, echo: Callable[[str], None]
) -> None:
    """``fn(*task)`` for every task in worker processes, ``jobs`` at a time; each returned line is
    echoed as it arrives. The first failure stops the others and is raised as one line."""
    context = multiprocessing.get_context("spawn")
    pending = list(enumerate(tasks))
    running: dict[int, tuple[Any, Connection]] = {}  # sentinel -> (process, pipe)
    try:
        while pending or running:
            while pending and len(running) < jobs:
                _, task = pending.pop(0)
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_worker, args=(os.getpid(), send, fn, task), daemon=False)
                process.start()
                send.close()
                running[process.sentinel] = (process, receive)
            for sentinel in wait(list(running)):
                process, receive = running.pop(sentinel)  # type: ignore[index]
                ok, text = receive.recv() if receive.poll() else (False, None)
                receive.close()
                process.join()
                if text is None:
                    text = f"a worker process ended without an answer (exit status {process.exitcode})"
                if not ok:
                    raise SrbenchError(text)
                echo(text)
    finally:
        stop([process for process, _ in running.values()])


def stop(processes: Sequence[Any]) -> None:
    """SIGTERM to each live process, then SIGKILL to those alive after :data:`GRACE_S` seconds."""
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(GRACE_S)
        if p.is_alive():
            p.kill()
            p.join()


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the study folder's lock (created if missing); refuse when another process holds it."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SrbenchError(
                f"{root}: another srbench-eval study is running in this folder; wait for it to end"
            ) from None
        yield
    finally:
        os.close(fd)
