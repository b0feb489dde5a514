"""The ``pagerlens`` command line: a thin layer over library functions.

Each command's docstring is its ``--help`` text, with an example. Heavy modules are imported
inside the commands so that ``pagerlens --help`` stays fast. Exit codes: 0 success, 1 runtime
failure (one line on stderr; the traceback only with ``--verbose``), 2 usage error.

Modules: :mod:`~etl.cli.base` (the group, options, configuration and token checks),
:mod:`~etl.cli.commands` (sync, build, report, recommend, dashboard, config) and
:mod:`~etl.cli.simulated` (demo, simulate).
"""

from __future__ import annotations

import sys
import traceback

import click

from etl.cli import commands, export, live, reconcile, simulated  # noqa: F401 - they register the commands
from etl.cli.base import Failure, _scrub, cli
from etl.cli.commands import dashboard_command

__all__ = ["cli", "dashboard_command", "main"]


def main(argv: list[str] | None = None) -> int:
    """Console entry point: maps failures to exit code 1 with one line on stderr."""
    verbose = "--verbose" in (argv or sys.argv[1:]) or "-v" in (argv or sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="pagerlens", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("pagerlens: aborted", err=True)
        return 1
    except click.ClickException as exc:
        if isinstance(exc, Failure):
            click.echo(f"pagerlens: error: {_scrub(exc.format_message())}", err=True)
        else:
            exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("pagerlens: interrupted", err=True)
        return 130
    except Exception as exc:  # one line, no traceback unless --verbose
        if verbose:
            traceback.print_exc()
        reason = " ".join(str(exc).split()) or exc.__class__.__name__
        click.echo(f"pagerlens: error: {_scrub(reason)}", err=True)
        return 1
    return 0
