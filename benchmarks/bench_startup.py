"""Start-up of the commands that compute nothing, as a user times them: whole processes.

    python benchmarks/bench_startup.py [--repeat 5] [--source DIR]

Runs each command (``srbench-eval --help``, ``models list``, ``metrics``, ...) ``--repeat`` times as
``python -m srbench_eval.cli ...`` in a fresh interpreter and prints the median wall time and the
median user+sys CPU time of the child. ``--source`` imports the package from another checkout (an
older commit, for a before/after table). Not a test (``tests/test_cli.py`` asserts what these
commands import, never their time).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (
    ("--help",),
    ("protocols",),
    ("datasets", "list"),
    ("weights", "list"),
    ("metrics",),
    ("models", "list"),
    ("models", "show", "esrgan-dp"),
)


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, user+sys CPU seconds of the child) of one run; fails loudly on an error."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> dict[str, tuple[float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--source", type=Path, default=ROOT, help="Checkout whose package is timed.")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="srbench-bench-startup-"))
    env = {**os.environ, "PYTHONPATH": str(args.source.resolve()), "SRBENCH_DATA": str(work / "data")}
    figures = {}
    print(f"{args.repeat} runs each (medians), load average {os.getloadavg()[0]:.2f}")
    for command in COMMANDS:
        cmd = [sys.executable, "-m", "srbench_eval.cli", *command]
        runs = [timed(cmd, env, args.source) for _ in range(args.repeat)]  # -m imports from the cwd
        wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
        figures[" ".join(command)] = (wall, cpu)
        print(f"{' '.join(command):28s} {wall:6.2f} s wall {cpu:6.2f} s user+sys")
    return figures


if __name__ == "__main__":
    main()
