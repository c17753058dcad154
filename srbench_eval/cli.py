"""The ``srbench-eval`` command line: a thin click layer over the library.

Each command parses its options, builds one config object, calls one library function and prints
the outcome. User errors (:class:`~srbench_eval.errors.SrbenchError`) print as one line and exit
with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

import click

from srbench_eval import __version__
from srbench_eval.commands.datasets import datasets
from srbench_eval.commands.evaluation import check, run, table
from srbench_eval.commands.metrics import metrics
from srbench_eval.commands.models import models
from srbench_eval.commands.train import train
from srbench_eval.commands.weights import weights
from srbench_eval.errors import SrbenchError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="srbench-eval")
def cli(debug: bool) -> None:
    """Benchmark and evaluation harness for single-image super-resolution."""


for command in (run, table, check, datasets, weights, models, train, metrics):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI, turning user errors into one-line messages."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
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
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
