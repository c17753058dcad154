"""The ``srbench-eval`` command line: a thin click layer over the library.

Each command parses its options, builds one config object, calls one library function and prints
the outcome. User errors (:class:`~srbench_eval.errors.SrbenchError`) print as one line and exit
with status 2; ``--debug`` shows the traceback instead. SIGTERM unwinds a command like Ctrl-C
(partial files removed) and exits with status 143.
"""

from __future__ import annotations

import errno
import gc
import importlib
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from srbench_eval import __version__
from srbench_eval.errors import SrbenchError
from srbench_eval.names import printable

# Every command, as data: name -> ("module:attribute", short help for `--help`). The module is
# imported only when the command runs (or shows its own help), so that `srbench-eval --help` and
# the commands that compute nothing never import torch, NumPy or numba.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("srbench_eval.commands.evaluation:run", "Evaluate models on datasets under an SR protocol."),
    "table": ("srbench_eval.commands.evaluation:table", "Rebuild the comparison table from finished runs."),
    "check": ("srbench_eval.commands.evaluation:check", "Compare a run (or a fresh one) with a baseline."),
    "datasets": ("srbench_eval.commands.datasets:datasets", "List, download and verify benchmark datasets."),
    "weights": ("srbench_eval.commands.weights:weights", "List, fetch and verify pretrained weights."),
    "models": ("srbench_eval.commands.models:models", "The model zoo: recipes, architectures, losses."),
    "train": ("srbench_eval.commands.train:train", "Train a recipe; checkpoints and logs to a folder."),
    "protocols": ("srbench_eval.commands.protocols:protocols", "List the protocol profiles (or show one)."),
    "compare": ("srbench_eval.commands.compare:compare", "Paired per-image comparison with a reference."),
    "figures": ("srbench_eval.commands.figures:figures", "Perception-distortion plane, distributions."),
    "report": ("srbench_eval.commands.report:report", "Tables, statistics, figures and provenance as HTML."),
    "metrics": (
        "srbench_eval.commands.metrics:metrics",
        "Every metric: direction, kind, inputs, weights.",
    ),
    "studies": ("srbench_eval.commands.studies:studies", "The papers' experiments as study specs (list)."),
    "study": ("srbench_eval.commands.study:study", "Train and evaluate recipes over seeds; paired stats."),
    "cache": ("srbench_eval.commands.cache:cache", "List or prune the SR cache ($SRBENCH_DATA/sr-cache)."),
    "explain": (
        "srbench_eval.commands.explain:explain",
        "Which scoring convention reproduces a published number.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use, from :data:`COMMANDS`."""

    def __init__(self, *args: object, lazy: dict[str, tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        target = self.lazy[cmd_name][0]
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help`` from the stored short help texts: no command imported."""
        rows = [
            (name, self.lazy[name][1] if name in self.lazy else self.commands[name].get_short_help_str())
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="srbench-eval")
def cli(debug: bool) -> None:
    """Benchmark and evaluation harness for single-image super-resolution."""


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM, so that a terminated command unwinds (and removes its
    partial files) exactly like one interrupted with Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated()


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` for the duration of a command (main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread of the interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI, turning user errors into one-line messages."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        with _sigterm_unwinds():
            rv = cli.main(args=args, prog_name="srbench-eval", standalone_mode=False)
    except SrbenchError as e:
        if debug:
            raise
        click.echo(f"error: {e}", err=True)
        return 2
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.Abort as e:
        if isinstance(e.__cause__, Terminated):
            click.echo("terminated", err=True)
            return 128 + signal.SIGTERM
        click.echo("aborted", err=True)
        return 130
    except OSError as e:  # a name longer than the file system allows, wherever a path is used
        if debug or e.errno != errno.ENAMETOOLONG:
            raise
        click.echo(f"error: {printable(str(e.filename))}: a file or folder name in it is too long", err=True)
        return 2
    except Terminated:  # outside click's own handling
        click.echo("terminated", err=True)
        return 128 + signal.SIGTERM
    return rv if isinstance(rv, int) else 0


def entry() -> int:
    """The ``srbench-eval`` program: :func:`main`, then freeze the garbage collector's objects
    (``gc.freeze``) so that the interpreter's exit does not collect them all once more (about 0.5 s
    after torch was imported; the operating system frees the memory). Files are closed and written by
    then; ``atexit`` handlers still run."""
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(entry())
