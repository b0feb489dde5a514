"""The commands of the simulated PagerDuty: demo (the whole job on it) and simulate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from etl.cli.base import (
    _config,
    _db,
    _progress_factory,
    cli,
    config_option,
    db_option,
    out_option,
    setting_option,
)
from etl.cli.commands import _serve_dashboard

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
@setting_option("--days", 90, click.IntRange(7, 365), "Days of simulated history.")
@click.option("--seed", default=7, show_default=True, type=int)
@out_option("demo-out", "Where the report and recommendations go.")
@click.option("--port", default=8501, show_default=True, type=int, help="Dashboard port.")
@click.option("--no-dashboard", is_flag=True, help="Run the job without serving the dashboard.")
@end_option
@click.option(
    "--live",
    is_flag=True,
    help="One more day after the --days synced, played forward as signed webhooks to an "
    "in-process `pagerlens listen` (the dashboard's Now page follows it).",
)
@setting_option(
    "--live-speed",
    60.0,
    click.FloatRange(1, 1e6),
    "With --live: simulated seconds per real second.",
)
@click.option(
    "--live-for",
    default=None,
    type=click.FloatRange(0, min_open=True),
    metavar="SECONDS",
    help="With --live: stop after this long (applying what was received) and print a "
    "summary; default: until Ctrl-C.",
)
def demo(db_path, config_path, days, seed, out_dir, port, no_dashboard, end, **live):
    """The main job on the embedded simulated PagerDuty, end to end.

    Starts the simulated PagerDuty on loopback, runs the nightly ETL against it over HTTP,
    writes the weekly report and the recommendations, then serves the dashboard.

    With --live the account gets one more day after the --days synced: the simulator plays
    that day forward (--live-speed) and delivers signed v3 webhooks to a listener on a
    free loopback port, whose worker applies them to the warehouse, while the dashboard runs.
    The webhook secret is random, in a private temporary file, removed at the end.

    \b
    Example:
        pagerlens demo --days 90 --no-dashboard
        pagerlens demo --days 7 --live --live-speed 60
        pagerlens demo --days 7 --live --no-dashboard --live-for 30
    """
    from simulator.account import generate_account
    from simulator.server import SimServer

    if live["live_for"] is not None and not live["live"]:
        raise click.UsageError("--live-for needs --live")
    db = _db(db_path)
    config = _config(config_path)
    # --live: the live day comes on top of --days of history synced before it.
    days += 1 if live["live"] else 0
    click.echo(f"simulating a PagerDuty account: seed {seed}, {days} days ...")
    account = generate_account(seed=seed, days=days, end=end)
    until = account.end
    if live["live"]:
        from etl.cli.demo_live import live_start

        until = live_start(account.end)
    with SimServer(account, now=until) as server:
        click.echo(f"simulated PagerDuty REST API at {server.url}")
        _demo_job(db, config, server, until, out_dir)
        if live["live"]:
            from etl.cli.demo_live import run_live_demo
            from simulator.webhooks import start_live_play

            run_live_demo(
                server,
                start_live_play,
                db,
                config,
                port=port,
                no_dashboard=no_dashboard,
                speed=live["live_speed"],
                live_for=live["live_for"],
            )
            return
    if no_dashboard:
        click.echo(f"dashboard: run `pagerlens dashboard --db {db}`")
        return
    _serve_dashboard(db, port)


def _demo_job(db: Path, config, server, until: datetime, out_dir: Path) -> None:
    """The nightly job against ``server`` up to ``until``: sync and build, report, advice."""
    from etl.noise import write_recommendations
    from reports.weekly import write_report

    summary = sync_simulated(db, server, until, config=config, progress=_progress_factory())
    click.echo(summary.log_line())
    click.echo(f"warehouse: {db.resolve()}")
    outputs: list[Path] = []
    outputs += write_report(db, out_dir=out_dir, formats=("pdf", "csv"), config=config)
    outputs += write_recommendations(db, out_dir / "recommendations")
    for path in outputs:
        click.echo(f"wrote {path}")


def sync_simulated(db: Path, server, until: datetime, **options):
    """A full sync of the simulated ``server``'s whole account up to ``until`` into ``db``
    (the demo's first sync; tests and benchmarks start from it too). ``options`` go to
    :func:`etl.sync.run_sync` (``build`` defaults to True there)."""
    from etl.sync import run_sync

    return run_sync(
        db,
        api_url=server.url,
        token=server.token,
        since=server.account.start,
        until=until,
        full=True,
        **options,
    )


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
@click.option(
    "--disable-endpoint",
    "disabled",
    multiple=True,
    metavar="PATH=STATUS",
    help="Answer PATH (and below) with 402 (plan), 403 (key scope) or 404 (feature absent), "
    "e.g. /priorities=402; repeatable.",
)
@click.option("--latency-ms", default=0, show_default=True, type=int)
@click.option("--tls", is_flag=True, help="Serve HTTPS with a certificate generated at start-up.")
@click.option(
    "--webhook-url", default=None, help="Play the last day live, POSTing v3 webhooks here."
)
@click.option("--webhook-secret-file", type=click.Path(dir_okay=False, exists=True), default=None)
@click.option("--live-speed", default=60.0, show_default=True, type=click.FloatRange(1, 1e6))
@end_option
def simulate_serve(
    port,
    seed,
    days,
    scale,
    faults,
    disabled,
    rate_per_minute,
    latency_ms,
    tls,
    end,
    webhook_url,
    webhook_secret_file,
    live_speed,
):
    """Serve a simulated PagerDuty account (REST API v2 subset) on 127.0.0.1.

    Prints the base URL and the API token the server accepts (a simulator token, not a
    secret). Ground truth: GET /_sim/ground_truth; request log: GET /_sim/requests.

    \b
    Example:
        pagerlens simulate serve --port 8765 --days 30 --faults "429=0.05,seed=1"
        pagerlens simulate serve --disable-endpoint /priorities=402
        pagerlens simulate serve --days 7 --webhook-url http://127.0.0.1:8787/ \\
            --webhook-secret-file secret.txt --live-speed 60
    """
    import dataclasses

    from simulator.account import generate_account
    from simulator.faults import FaultSpec, parse_disabled_endpoint
    from simulator.server import SimServer

    try:
        fault_spec = FaultSpec.parse(faults) if faults else FaultSpec()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from exc
    try:
        gates = dict(parse_disabled_endpoint(item) for item in disabled)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--disable-endpoint") from exc
    fault_spec = dataclasses.replace(fault_spec, disabled_endpoints=gates)
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
    if webhook_url:
        from simulator.webhooks import start_live_play

        if not webhook_secret_file:
            raise click.UsageError("--webhook-url needs --webhook-secret-file")
        player = start_live_play(server, webhook_url, webhook_secret_file, live_speed)
        click.echo(f"playing [{player.start:%Y-%m-%d %H:%M}, {player.end:%Y-%m-%d %H:%M}) UTC live")
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
