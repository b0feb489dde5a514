"""The ``pagerlens`` command line: a thin layer over library functions.

Each command's docstring is its ``--help`` text, with an example. Heavy modules are imported
inside the commands so that ``pagerlens --help`` stays fast. Exit codes: 0 success, 1 runtime
failure (one line on stderr; the traceback only with ``--verbose``), 2 usage error.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from etl.config import Config
    from etl.credentials import Secret

log = logging.getLogger("pagerlens")

DASHBOARD_APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


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
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="TOML configuration (default: $PAGERLENS_CONFIG, else ./pagerlens.toml if present).",
)


def _iso_week(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate ``--week`` as a usage error (exit 2), before any work starts."""
    if value is None:
        return None
    import re
    from datetime import date

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


# --------------------------------------------------------------------------- sync / build


@cli.command()
@db_option
@config_option
@click.option(
    "--api-url",
    default="https://api.pagerduty.com",
    show_default=True,
    help="REST API base URL (EU region: https://api.eu.pagerduty.com). "
    "Plain http:// is accepted for loopback hosts only.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Read the API token from this file instead of $PAGERDUTY_API_TOKEN.",
)
@click.option(
    "--since", default=None, help="Date or ISO 8601 timestamp (first run default: 90 days ago)."
)
@click.option("--until", default=None, help="Date or ISO 8601 timestamp (default: now).")
@click.option("--full", is_flag=True, help="Ignore watermarks and re-sync the whole period.")
@click.option("--no-build", is_flag=True, help="Load raw tables only; skip the marts.")
def sync(db_path, config_path, api_url, token_file, since, until, full, no_build):
    """The nightly ETL: extract from PagerDuty, load the warehouse, build the marts.

    The token comes from $PAGERDUTY_API_TOKEN or --token-file, never from the command line.
    The first run backfills from --since; later runs are incremental (log entries are the
    change feed). The published warehouse is replaced atomically at the end.

    \b
    Example:
        export PAGERDUTY_API_TOKEN=$(cat ~/.pagerduty-readonly)
        pagerlens sync --since 2026-08-01 --db ~/pagerlens.duckdb
    """
    from etl.sync import parse_when, run_sync

    config = _config(config_path)
    token = _token(token_file)
    summary = run_sync(
        _db(db_path),
        api_url=api_url,
        token=token,
        since=parse_when(since) if since else None,
        until=parse_when(until) if until else None,
        full=full,
        build=not no_build,
        config=config,
        progress=_progress_factory(),
    )
    click.echo(summary.log_line())


@cli.command()
@db_option
@config_option
def build(db_path, config_path):
    """Rebuild every mart from the raw tables, without network.

    Use it after changing the configuration (time zones, hour edges, thresholds).

    \b
    Example:
        pagerlens build --db pagerlens.duckdb --config pagerlens.toml
    """
    from etl.transform import build as build_warehouse

    config = _config(config_path)
    path = _db(db_path)
    if not path.exists():
        raise Failure(f"no warehouse at {path}: run `pagerlens sync` or `pagerlens demo` first")
    summary = build_warehouse(path, config)
    click.echo(summary.log_line() if hasattr(summary, "log_line") else str(summary))


# --------------------------------------------------------------------------- outputs


@cli.command()
@db_option
@config_option
@click.option(
    "--week",
    default=None,
    callback=_iso_week,
    help="ISO week YYYY-Www (default: the last complete week).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports-out"),
    show_default=True,
    help="Output directory.",
)
@click.option(
    "--format",
    "formats",
    default="pdf,csv",
    show_default=True,
    help="Comma-separated: pdf, csv, parquet.",
)
@click.option("--anonymize", is_flag=True, help="Replace responder names with stable pseudonyms.")
def report(db_path, config_path, week, out_dir, formats, anonymize):
    """The weekly reliability review: a PDF plus one CSV per table.

    \b
    Example:
        pagerlens report --week 2026-W47 --out ./review --format pdf,csv
    """
    from reports.weekly import write_report

    config = _config(config_path)
    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    unknown = set(wanted) - {"pdf", "csv", "parquet"}
    if unknown:
        raise click.BadParameter(
            f"unknown format(s): {', '.join(sorted(unknown))}", param_hint="--format"
        )
    paths = write_report(
        _db(db_path),
        week=week,
        out_dir=out_dir,
        formats=wanted,
        anonymize=anonymize,
        config=config,
    )
    for path in paths:
        click.echo(str(path))


@cli.command()
@db_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("recommendations"),
    show_default=True,
    help="Output directory.",
)
def recommend(db_path, out_dir):
    """Noise-reduction recommendations for alert owners.

    Writes DIR/recommendations.csv and one Markdown file per owning team, each with the
    evidence and the pages the change would have saved over the synced history.

    \b
    Example:
        pagerlens recommend --out ./noise
    """
    from etl.noise import write_recommendations

    for path in write_recommendations(_db(db_path), out_dir):
        click.echo(str(path))


@cli.command()
@db_option
@click.option("--port", default=8501, show_default=True, type=int)
def dashboard(db_path, port):
    """Serve the Streamlit dashboard on 127.0.0.1.

    \b
    Example:
        pagerlens dashboard --db pagerlens.duckdb --port 8501
    """
    _serve_dashboard(_db(db_path), port)


def dashboard_command(db_path: str | os.PathLike, port: int) -> list[str]:
    """The exact ``streamlit run`` command that serves the dashboard (also used by its tests
    and benchmark): loopback only, no usage statistics, no source-file watching."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD_APP),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--",
        "--db",
        str(Path(db_path).resolve()),
    ]


def _serve_dashboard(db_path: Path, port: int) -> None:
    if not DASHBOARD_APP.exists():
        raise Failure("the dashboard is not installed with this copy of pagerlens")
    click.echo(f"dashboard: http://127.0.0.1:{port}  (Ctrl-C to stop)")
    try:
        subprocess.run(dashboard_command(db_path, port), check=True)
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as exc:
        raise Failure(f"the dashboard exited with status {exc.returncode}") from exc


# --------------------------------------------------------------------------- demo


def _end_day(ctx, param, value):
    """``--end YYYY-MM-DD`` as 00:00 UTC of that day; None leaves the simulator's default."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


end_option = click.option(
    "--end",
    "end",
    default=None,
    metavar="YYYY-MM-DD",
    callback=_end_day,
    help="Last day (exclusive, 00:00 UTC) of the simulated history; default today. "
    "The same seed, days and end give the same account on any machine and any day.",
)


@cli.command()
@db_option
@config_option
@click.option(
    "--days",
    default=90,
    show_default=True,
    type=click.IntRange(7, 365),
    help="Days of simulated history.",
)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Where the report and recommendations go.",
)
@click.option("--port", default=8501, show_default=True, type=int, help="Dashboard port.")
@click.option("--no-dashboard", is_flag=True, help="Run the job without serving the dashboard.")
@end_option
def demo(db_path, config_path, days, seed, out_dir, port, no_dashboard, end):
    """The main job on the embedded simulated PagerDuty, end to end.

    Starts the simulated PagerDuty on loopback, runs the nightly ETL against it over HTTP,
    writes the weekly report and the recommendations, then serves the dashboard.

    \b
    Example:
        pagerlens demo --days 90 --no-dashboard
    """
    from etl.sync import run_sync
    from simulator.account import generate_account
    from simulator.server import SimServer

    db = _db(db_path)
    config = _config(config_path)
    click.echo(f"simulating a PagerDuty account: seed {seed}, {days} days ...")
    account = generate_account(seed=seed, days=days, end=end)
    with SimServer(account) as server:
        click.echo(f"simulated PagerDuty REST API at {server.url}")
        summary = run_sync(
            db,
            api_url=server.url,
            token=account.token,
            since=account.start,
            until=account.end,
            full=True,
            build=True,
            config=config,
            progress=_progress_factory(),
        )
    click.echo(summary.log_line())
    click.echo(f"warehouse: {db.resolve()}")

    outputs: list[Path] = []
    from etl.noise import write_recommendations
    from reports.weekly import write_report

    outputs += write_report(db, out_dir=out_dir, formats=("pdf", "csv"), config=config)
    outputs += write_recommendations(db, out_dir / "recommendations")
    for path in outputs:
        click.echo(f"wrote {path}")
    if no_dashboard:
        click.echo(f"dashboard: run `pagerlens dashboard --db {db}`")
        return
    _serve_dashboard(db, port)


# --------------------------------------------------------------------------- configuration


@cli.group("config")
def config_group():
    """The configuration file: check it before a build."""


@config_group.command("check")
@config_option
def config_check(config_path):
    """Check the configuration and print the effective values, each with its origin.

    Reads --config, else $PAGERLENS_CONFIG, else ./pagerlens.toml if present, over the
    defaults (etl/defaults.toml). Every problem is listed, one line each, with exit code 2.
    The output is itself a valid configuration file.

    \b
    Example:
        pagerlens config check --config pagerlens.toml
    """
    from etl.config import ConfigError, effective_config, toml_value

    try:
        source, rows = effective_config(config_path)
    except ConfigError as exc:
        raise BadInput(exc.problems) from None
    if source is None:
        click.echo("# no configuration file: every value is a default")
    else:
        click.echo(f"# {source}: valid; values it does not set are defaults")
    sections: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        origin = "default" if row.origin == "default" else f"from {row.origin}"
        sections.setdefault(row.section, []).append(
            (f"{row.key} = {toml_value(row.value)}", origin)
        )
    for section, lines in sections.items():
        width = max(len(text) for text, _ in lines)
        click.echo(f"\n[{section}]")
        for text, origin in lines:
            click.echo(f"{text:<{width}}  # {origin}")


# --------------------------------------------------------------------------- simulate


@cli.group()
def simulate():
    """The simulated PagerDuty account: serve it over HTTP or write it into a warehouse."""


@simulate.command("serve")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650))
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.05, 64))
@click.option(
    "--faults",
    default=None,
    help='Fault injection, e.g. "429=0.05,500=0.02,drop=0.01,malformed=0.01,seed=3".',
)
@click.option(
    "--rate",
    "rate_per_minute",
    default=960,
    show_default=True,
    type=int,
    help="Requests per minute before HTTP 429.",
)
@click.option("--latency-ms", default=0, show_default=True, type=int)
@click.option("--tls", is_flag=True, help="Serve HTTPS with a certificate generated at start-up.")
@end_option
def simulate_serve(port, seed, days, scale, faults, rate_per_minute, latency_ms, tls, end):
    """Serve a simulated PagerDuty account (REST API v2 subset) on 127.0.0.1.

    Prints the base URL and the API token the server accepts (a simulator token, not a
    secret). Ground truth: GET /_sim/ground_truth; request log: GET /_sim/requests.

    \b
    Example:
        pagerlens simulate serve --port 8765 --days 30 --faults "429=0.05,seed=1"
    """
    from simulator.account import generate_account
    from simulator.faults import FaultSpec
    from simulator.server import SimServer

    try:
        fault_spec = FaultSpec.parse(faults) if faults else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from exc
    account = generate_account(seed=seed, days=days, scale=scale, end=end)
    server = SimServer(
        account,
        port=port,
        faults=fault_spec,
        rate_per_minute=rate_per_minute,
        latency_ms=latency_ms,
        tls=tls,
    )
    url = server.start()
    click.echo(f"simulated PagerDuty at {url} (token: {account.token}); Ctrl-C to stop")
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@simulate.command("generate")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3650))
@click.option("--scale", default=8.0, show_default=True, type=click.FloatRange(0.05, 64))
@end_option
def simulate_generate(db_path, seed, days, scale, end):
    """Write a simulated account straight into the raw tables, for scale work.

    Scale 8 over 365 days is a 200-service organisation with about a million incidents.
    Run `pagerlens build --db PATH` afterwards to build the marts.

    \b
    Example:
        pagerlens simulate generate --db big.duckdb --days 365 --scale 8
    """
    from simulator.generate import generate_to_warehouse

    counts = generate_to_warehouse(db_path, seed=seed, days=days, scale=scale, end=end)
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


# --------------------------------------------------------------------------- entry point


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


if __name__ == "__main__":
    sys.exit(main())
