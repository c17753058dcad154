"""Progress bars of ``srbench-eval run``: one per dataset in a run at one scale, one over the whole
sweep in a run over several scales (``--scale 1.1:4.0:0.1``: 30 scales, one bar).

A sweep's bar (:class:`SweepProgress`) counts image steps, ``runs x steps`` where ``steps`` is one
scale's image steps over every dataset (``ceil(images / ranks)`` per dataset; every scale reads the
same datasets). A scale folder kept from an interrupted sweep counts as done (:meth:`SweepProgress.skip`);
the total is known once the first scale that runs has opened its datasets
(:meth:`SweepProgress.begin`), and the bar appears then. tqdm is imported only when a bar is shown.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass
class SweepProgress:
    """One bar over the image steps of ``runs`` runs (the scales of a sweep); ``file``: where tqdm
    writes (default stderr)."""

    runs: int
    label: str = "sweep"
    file: typing.TextIO | None = None
    skipped: int = 0  # runs kept from an earlier, interrupted sweep
    bar: typing.Any = field(default=None, repr=False)  # the tqdm bar, once the total is known

    def skip(self) -> None:
        """A run that is not computed (its folder holds a finished run): its steps count as done."""
        self.skipped += 1
        if self.bar is not None:
            self.bar.update(self.bar.total // self.runs)

    def begin(self, steps: int, label: str) -> None:
        """A run of ``steps`` image steps starts (``label``: its scale); the first one opens the bar,
        of ``runs x steps`` steps with the skipped runs' steps done."""
        if self.bar is None:
            from tqdm import tqdm

            total = self.runs * steps
            self.bar = tqdm(total=total, initial=self.skipped * steps, unit="img", file=self.file, desc=label)
        else:
            self.bar.set_description(label)

    def steps(self, steps: range, label: str) -> Iterator[int]:
        """``steps`` of one dataset, each counted on the bar once done."""
        if self.bar is not None:
            self.bar.set_description(label)
        for step in steps:
            yield step
            if self.bar is not None:
                self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


Progress = bool | SweepProgress
"""What the evaluation loop is told to show: a bar per dataset (``True``), none (``False``), or its
steps on a sweep's bar."""


def progress_steps(steps: range, label: str, progress: Progress, shown: bool = True) -> Iterable[int]:
    """``steps`` of one dataset with their bar: the sweep's (``progress`` a :class:`SweepProgress`), a
    bar of their own (``True``; tqdm, imported only then), or none (``False``, or not ``shown``: a
    rank other than 0)."""
    if not shown or progress is False:
        return steps
    if isinstance(progress, SweepProgress):
        return progress.steps(steps, label)
    from tqdm import tqdm

    return tqdm(steps, total=len(steps), desc=label, unit="img", leave=False)


__all__ = ["Progress", "SweepProgress", "progress_steps"]
