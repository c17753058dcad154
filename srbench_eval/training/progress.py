"""The logging interval of the training loop and what the user sees of it.

:class:`Interval` sums the loss values of the steps since the last log on the device (no host sync
per step) and gives their means over the steps and the ranks:
``mean_k = (1 / world) * sum_ranks (1 / n) * sum_{steps} value_k``, with the loop's time (data,
forward, backward, update; without validation and checkpoints) for the throughput ``n / seconds``.

:class:`Progress` shows it on rank 0: a tqdm bar when stderr is a terminal; otherwise (a pipe, a CI
log, a batch job's file) one line per log interval, ``LABEL: step S/N (P%) loss ... | R it/s, ETA
H:MM:SS``, where the ETA is the remaining steps at the wall-clock pace of this process so far
(validation and checkpoints included).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import torch
from tqdm import tqdm

from srbench_eval import distributed as dist_utils


@dataclass
class Interval:
    """The steps since the last log: summed values, the non-finite flag, steps, loop seconds."""

    since: int
    bad: torch.Tensor
    sums: dict[str, torch.Tensor] = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0

    def add(self, values: dict[str, torch.Tensor], bad: torch.Tensor) -> None:
        """One step's detached values and its non-finite flag (no host-device sync)."""
        self.bad |= bad
        for k, v in values.items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v.clone()
        self.steps += 1

    def means(self, env: dist_utils.DistEnv) -> dict[str, float]:
        """The mean of every value over the interval's steps and the ranks (the one host sync)."""
        names = sorted(self.sums)
        means = dist_utils.mean_over_ranks(
            env, torch.stack([self.sums[k].float() for k in names]) / self.steps
        ).tolist()
        return dict(zip(names, means, strict=True))

    def restart(self, step: int) -> None:
        """A new interval after ``step`` (the non-finite flag stays: it stops the run)."""
        self.sums, self.steps, self.seconds, self.since = {}, 0, 0.0, step


def stderr_is_terminal(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default ``sys.stderr``) is an open terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


class Progress:
    """Rank 0's view of the run: a tqdm bar on a terminal, one line per log interval otherwise,
    nothing when ``enabled`` is false (``--quiet``, the other ranks)."""

    def __init__(self, label: str, step: int, iterations: int, enabled: bool, stream: TextIO | None = None):
        self.stream = sys.stderr if stream is None else stream
        self.label, self.iterations = label, iterations
        self.lines = enabled and not stderr_is_terminal(self.stream)
        self.bar = tqdm(
            total=iterations,
            initial=step,
            desc=label,
            unit="it",
            disable=not enabled or self.lines,
            dynamic_ncols=True,
            file=self.stream,
        )
        self.start_step, self.start_time = step, time.perf_counter()

    def update(self) -> None:
        """One step done."""
        self.bar.update(1)

    def show(self, step: int, scalars: dict[str, float], val: dict[str, float] | None) -> None:
        """The latest losses and validation on the bar (drawn at its next update)."""
        self.bar.set_postfix(postfix(scalars, val), refresh=False)

    def interval(
        self, step: int, scalars: dict[str, float], val: dict[str, float] | None, it_per_s: float
    ) -> None:
        """The end of a log interval: the bar's postfix, or one line when stderr is not a terminal."""
        self.show(step, scalars, val)
        if not self.lines:
            return
        done = step - self.start_step
        elapsed = time.perf_counter() - self.start_time
        eta = (self.iterations - step) * elapsed / done if done else 0.0
        shown = " ".join(f"{k} {v}" for k, v in postfix(scalars, val).items())
        percent = 100.0 * step / self.iterations if self.iterations else 100.0
        self.stream.write(
            f"{self.label}: step {step}/{self.iterations} ({percent:.0f}%) {shown} | "
            f"{it_per_s:.2f} it/s, ETA {_clock(eta)}\n"
        )
        self.stream.flush()

    def close(self) -> None:
        self.bar.close()


def postfix(scalars: dict[str, float], val: dict[str, float] | None) -> dict[str, str]:
    """The values shown: the loss, each term, the DP parts ``zeta``, ``l_vgg``, ``l_res``, and the
    last validation PSNR."""
    shown = {
        k: f"{v:.4g}" for k, v in scalars.items() if "." not in k or k.endswith((".zeta", ".l_vgg", ".l_res"))
    }
    if val:
        shown["psnr"] = f"{val['psnr']:.2f}"
    return shown


def _clock(seconds: float) -> str:
    """``H:MM:SS`` of a non-negative number of seconds."""
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
