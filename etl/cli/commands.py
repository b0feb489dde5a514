"""The warehouse commands: sync, build, report, recommend, dashboard, config check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from etl.cli.base import (
    DASHBOARD_APP,
    BadInput,
    Failure,
    _config,
    _db,
    _iso_week,
    _progress_factory,
    _token,
    cli,
    config_option,
    db_option,
    out_option,
    warehouse_api_options,
)

# --------------------------------------------------------------------------- sync / build


@cli.command()
@warehouse_api_options
@click.option(
    "--since", default=None, help="Date or ISO 8601 timestamp (first run default: 90 days ago)."
)
@click.option("--until", default=None, help="Date or ISO 8601 timestamp (default: now).")
@click.option("--full", is_flag=True, help="Ignore watermarks and re-sync the whole period.")
@click.option("--no-build", is_flag=True, help="Load raw tables only; skip the marts.")
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=900.0,
    show_default=True,
    help="Seconds to wait for another writer (a live apply, a build) before giving up.",
)
def sync(db_path, config_path, api_url, token_file, since, until, full, no_build, wait_seconds):
    """The nightly ETL: extract from PagerDuty, load the warehouse, build the marts.

    The token comes from $PAGERDUTY_API_TOKEN or --token-file, never from the command line.
    The first run backfills from --since; later runs are incremental (log entries are the
    change feed). The published warehouse is replaced atomically at the end. If another
    pagerlens run is writing the warehouse (`pagerlens listen` publishing), the sync waits for
    it (--wait) instead of failing.

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
        lock_wait=wait_seconds,
    )
    click.echo(summary.log_line())


@cli.command()
@db_option
@config_option
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild every model from scratch and recognise every alert identity again (by "
    "default a build re-parses only the log entries and incidents changed since the last "
    "build, recomputes only the incidents, notifications and interruptions they touch, and "
    "reuses the identities it recognised from unchanged alert details).",
)
def build(db_path, config_path, full):
    """Rebuild every mart from the raw tables, without network.

    Use it after changing the configuration (time zones, hour edges, thresholds): the models
    that depend on a changed setting are rebuilt from scratch by themselves.

    \b
    Example:
        pagerlens build --db pagerlens.duckdb --config pagerlens.toml
    """
    from etl.transform import build as build_warehouse

    config = _config(config_path)
    path = _db(db_path)
    if not path.exists():
        raise Failure(f"no warehouse at {path}: run `pagerlens sync` or `pagerlens demo` first")
    summary = build_warehouse(path, config, full=full)
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
@out_option("reports-out")
@click.option(
    "--format",
    "formats",
    default="pdf,csv",
    show_default=True,
    help="Comma-separated: pdf, csv, parquet.",
)
@click.option("--anonymize", is_flag=True, help="Replace responder names with stable pseudonyms.")
@click.option(
    "--by-field",
    metavar="FIELD",
    default=None,
    help="Also break the week's incidents down by an incident custom field (its name, e.g. "
    "root_cause): count, majors, MTTA/MTTR per value, a section and a by_field CSV.",
)
def report(db_path, config_path, week, out_dir, formats, anonymize, by_field):
    """The weekly reliability review: a PDF plus one CSV per table.

    \b
    Example:
        pagerlens report --week 2026-W47 --out ./review --format pdf,csv
        pagerlens report --by-field root_cause
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
        by_field=by_field,
    )
    for path in paths:
        click.echo(str(path))


@cli.command()
@db_option
@out_option("recommendations")
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
