"""The ``srbench-eval`` command line: a thin click layer over the library.

Each command parses its options, builds one config object, calls one library function and prints
the outcome. User errors (:class:`~srbench_eval.errors.SrbenchError`) print as one line and exit
with status 2; ``--debug`` shows the traceback instead. SIGTERM unwinds a command like Ctrl-C
(partial files removed) and exits with status 143.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from srbench_eval import __version__
from srbench_eval.commands.compare import compare
from srbench_eval.commands.datasets import datasets
from srbench_eval.commands.evaluation import check, run, table
from srbench_eval.commands.figures import figures
from srbench_eval.commands.metrics import metrics
from srbench_eval.commands.models import models
from srbench_eval.commands.protocols import protocols
from srbench_eval.commands.report import report
from srbench_eval.commands.study import study
from srbench_eval.commands.train import train
from srbench_eval.commands.weights import weights
from srbench_eval.errors import SrbenchError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="srbench-eval")
def cli(debug: bool) -> None:
    """Benchmark and evaluation harness for single-image super-resolution."""


for command in (run, table, check, datasets, weights, models, train, protocols, metrics):
    cli.add_command(command)
cli.add_command(compare)
cli.add_command(figures)
cli.add_command(report)
cli.add_command(study)


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
    except Terminated:  # outside click's own handling
        click.echo("terminated", err=True)
        return 128 + signal.SIGTERM
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
