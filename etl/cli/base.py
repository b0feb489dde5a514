"""The ``pagerlens`` command line, shared parts: the command group, options, the checked
configuration and token, logging and progress (see :mod:`etl.cli`)."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from etl.config import Config
    from etl.credentials import Secret

log = logging.getLogger("pagerlens")


DASHBOARD_APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


class Failure(click.ClickException):
    """A runtime failure: printed as one line, exit code 1."""

    exit_code = 1

    def show(self, file=None) -> None:  # noqa: D102 - click API
        click.echo(f"pagerlens: error: {self.format_message()}", err=True)


class BadInput(click.ClickException):
    """A bad configuration file or token: one line per problem, exit code 2 (a usage error),
    raised before any network call or build step."""

    exit_code = 2

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems

    def show(self, file=None) -> None:  # noqa: D102 - click API
        for problem in self.problems:
            click.echo(f"pagerlens: error: {problem}", err=True)


def _config(config_path: Path | None) -> Config:
    """The checked configuration, or exit 2 listing every problem."""
    # etl.config builds the pydantic schema at import: not for `pagerlens --help`.
    from etl.config import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise BadInput(exc.problems) from None


def _token(token_file: Path | None) -> Secret:
    """The API token as a ``Secret``, or exit 2 saying what is wrong (never the value)."""
    from etl.credentials import CredentialsError, read_token

    try:
        return read_token(token_file)
    except CredentialsError as exc:
        raise BadInput([str(exc)]) from None


def _scrub(message: str) -> str:
    """Defence in depth: never let the API token reach the terminal, whatever raised (a token
    read from the environment or from --token-file alike)."""
    from etl.credentials import scrub

    return scrub(message)


db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Warehouse file (default: $PAGERLENS_DB, else ./pagerlens.duckdb).",
)


def out_option(default: str, help: str = "Output directory."):
    """``--out DIR`` (``out_dir``) with a command's default folder."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help=help,
    )


def setting_option(
    name: str, default: Any, kind: Any = None, help: str | None = None, *, dest: str | None = None
):
    """An option whose default ``--help`` shows; ``kind`` is its click type (inferred from the
    default when None), ``dest`` its parameter name when not the option's own."""
    names = (name, dest) if dest else (name,)
    return click.option(*names, default=default, show_default=True, type=kind, help=help)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="TOML configuration (default: $PAGERLENS_CONFIG, else ./pagerlens.toml if present).",
)


API_URL_HELP = (
    "REST API base URL (EU region: https://api.eu.pagerduty.com). "
    "Plain http:// is accepted for loopback hosts only."
)
TOKEN_FILE_HELP = "Read the API token from this file instead of $PAGERDUTY_API_TOKEN."


def api_options(api_url_help: str = API_URL_HELP, token_file_help: str = TOKEN_FILE_HELP):
    """``--api-url`` (``api_url``, PagerDuty's US endpoint by default) and ``--token-file``
    (``token_file``, read through :func:`_token`): a command that reads the REST API needs both."""
    api_url = click.option(
        "--api-url", default="https://api.pagerduty.com", show_default=True, help=api_url_help
    )
    token_file = click.option(
        "--token-file",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help=token_file_help,
    )
    return lambda command: api_url(token_file(command))


def warehouse_api_options(command):
    """``--db``, ``--config`` and :func:`api_options`, in that order: the options of a command
    that reads PagerDuty's REST API into or against the warehouse (sync, reconcile)."""
    return db_option(config_option(api_options()(command)))


def _iso_week(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate ``--week`` as a usage error (exit 2), before any work starts."""
    if value is None:
        return None
    import re

    match = re.fullmatch(r"(\d{4})-W(\d{2})", value.strip())
    try:
        if not match:
            raise ValueError("expected YYYY-Www, for example 2026-W47")
        date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from exc
    return value.strip()


def _db(db_path: Path | None) -> Path:
    from etl.config import default_db_path

    return db_path if db_path is not None else default_db_path()


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # The PagerDuty client logs full URLs at debug level; keep third-party chatter down.
    for noisy in (
        "httpx",
        "httpx2",
        "httpcore",
        "pagerduty",
        "kaleido",
        "choreographer",
        "fontTools",
        "weasyprint",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Debug logging and tracebacks on failure.")
@click.version_option(package_name="pagerlens")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """pagerlens: incident analytics for teams that run on PagerDuty.

    \b
    Quick start (no PagerDuty account needed):
        pagerlens demo
    Against your account (read-only API token):
        PAGERDUTY_API_TOKEN=... pagerlens sync --since 2026-08-01
        pagerlens dashboard
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    _setup_logging(verbose)


def _progress_factory():
    """A progress callback: a bar on a terminal, plain log lines otherwise."""
    interactive = sys.stderr.isatty()

    def progress(step: str, done: int | None = None, total: int | None = None) -> None:
        if interactive and total:
            width = 30
            filled = int(width * min(done or 0, total) / total)
            sys.stderr.write(
                f"\r{step:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
            )
            if done is not None and done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif done is None or total is None or done == total:
            log.info("%s%s", step, f" {done}/{total}" if total else "")

    return progress
