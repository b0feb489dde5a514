"""``pagerlens demo --live``: the simulated PagerDuty plays its last day forward, delivering
signed v3 webhooks to an in-process `pagerlens listen` (receiver and apply worker), while the
dashboard's "Now" page shows the changes as they are published.

The demo's sync stops at the start of the live window (:func:`live_start`): the simulator
serves the account as of its clock, so the incidents of the window do not exist yet for the
sync and reach the warehouse only through the webhooks and the worker's applies.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import click

from etl.cli.base import Failure
from etl.cli.commands import dashboard_command
from etl.cli.live import Listener, quiet_build_logs, start_listener, stop_on_signals

# As `pagerlens simulate serve --webhook-url`: the account's last day is played live.
LIVE_WINDOW = timedelta(hours=24)


def live_start(end: datetime) -> datetime:
    """Where the live window of an account ending at ``end`` starts (the sync's ``until``)."""
    return end - LIVE_WINDOW


def run_live_demo(
    server, play, db: Path, config, *, port: int, no_dashboard: bool, speed: float, live_for
) -> None:
    """Run simulator play, listener and (unless ``no_dashboard``) dashboard until Ctrl-C /
    SIGTERM or, with ``live_for``, that many seconds; then stop them in that order, remove the
    webhook secret and print a one-line summary.

    ``play`` is :func:`simulator.webhooks.start_live_play`, passed in by the command: etl
    reaches the simulator only from etl/cli/simulated.py (tests/test_boundaries.py)."""
    stop = stop_on_signals()
    secret_file = _write_secret()
    try:
        _run(server, play, db, config, secret_file, stop, port, no_dashboard, speed, live_for)
    finally:
        secret_file.unlink(missing_ok=True)


def _write_secret() -> Path:
    """A random webhook secret in a private temporary file (mode 600); never printed."""
    handle, name = tempfile.mkstemp(prefix="pagerlens-demo-webhook-", suffix=".secret")
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, (secrets.token_urlsafe(32) + "\n").encode("ascii"))
    finally:
        os.close(handle)
    return Path(name)


def _run(server, play, db, config, secret_file, stop, port, no_dashboard, speed, live_for):
    from etl.credentials import Secret
    from etl.live import read_webhook_secrets
    from etl.pd_client import PagerDutyClient, RateLimiter

    quiet_build_logs()
    client = PagerDutyClient(Secret(server.token), base_url=server.url, limiter=RateLimiter())
    listener = start_listener(
        db,
        read_webhook_secrets(secret_file),
        client=client,
        config=config,
        clock=lambda: server.now,  # the simulated "now", as the Now page should see it
    )
    player = dashboard = None
    status = {}
    try:
        hours = LIVE_WINDOW / timedelta(hours=1)
        player = play(server, listener.url + "/webhooks", str(secret_file), speed, hours)
        click.echo(
            f"live: playing [{player.start:%Y-%m-%d %H:%M}, {player.end:%Y-%m-%d %H:%M}) UTC "
            f"at {speed:g}x; webhooks to {listener.url}/webhooks (spool {listener.spool.path})"
        )
        if not no_dashboard:
            dashboard = subprocess.Popen(dashboard_command(db, port))
            click.echo(f"dashboard: http://127.0.0.1:{port} (the Now page)  (Ctrl-C to stop)")
        _wait(stop, live_for, dashboard)
    finally:
        if player is not None:
            player.stop()
        # A timed run (scripts, tests) applies what was received before it stops.
        status = listener.stop(drain=live_for is not None)
        if dashboard is not None:
            _stop_process(dashboard)
    click.echo(summary_line(player.stats, listener, status))
    if dashboard is not None and dashboard.returncode not in (0, -2, -15):
        raise Failure(f"the dashboard exited with status {dashboard.returncode}")


def _wait(stop: threading.Event, live_for: float | None, dashboard) -> None:
    """Until a signal, ``live_for`` seconds, or the dashboard's exit, whichever comes first."""
    deadline = None if live_for is None else time.monotonic() + live_for
    while True:
        left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
        if left <= 0 or stop.wait(left):
            return
        if dashboard is not None and dashboard.poll() is not None:
            return


def _stop_process(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def summary_line(stats, listener: Listener, status: dict) -> str:
    """One line: what the simulator delivered, what the spool stored, what was applied."""
    worker = listener.worker
    stored = status.get("pending", 0) + status.get("applied", 0) + status.get("kept", 0)
    last = worker.last_result if worker is not None else None
    published = f"{last.until:%Y-%m-%d %H:%M:%S} UTC (simulated)" if last else "none"
    accepted = sum(n for answer, n in stats.answers.items() if answer.startswith("2"))
    return (
        f"live: {stats.events} events played, {accepted} deliveries accepted "
        f"({stats.duplicates_sent} sent twice, {stats.retries} retried, {stats.failed} failed); "
        f"{stored} stored, {status.get('duplicate_deliveries', 0)} duplicates dropped, "
        f"{status.get('pending', 0)} pending; "
        f"{worker.session.applies if worker else 0} applies "
        f"({worker.failures if worker else 0} postponed), last publish {published}"
    )
