"""``pagerlens listen``: the PagerDuty webhooks v3 receiver and its apply worker (etl.live)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from etl.cli.base import (
    BadInput,
    _config,
    _db,
    _token,
    cli,
    config_option,
    db_option,
    log,
    setting_option,
)


@cli.command()
@db_option
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The subscription's signing secret (one per line while rotating) instead of "
    "$PAGERLENS_WEBHOOK_SECRET.",
)
@click.option(
    "--api-url",
    default="https://api.pagerduty.com",
    show_default=True,
    help="REST API base URL the apply worker reads incidents from.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Read the REST API token from this file instead of $PAGERDUTY_API_TOKEN.",
)
@click.option(
    "--spool",
    "spool_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The spool of received events (default: <db>.webhooks.sqlite).",
)
@click.option("--no-apply", is_flag=True, help="Only receive and store; apply nothing.")
@click.option("--max-body", default=256 * 1024, show_default=True, type=click.IntRange(1024))
@click.option("--threads", default=32, show_default=True, type=click.IntRange(1, 1024))
@setting_option(
    "--debounce", 1.0, click.FloatRange(0), "Apply once no event arrived for this long..."
)
@setting_option(
    "--max-delay",
    5.0,
    click.FloatRange(0),
    "...or once the first pending event has waited this long.",
)
def listen(**options):
    """Receive PagerDuty webhooks (v3) and keep the warehouse current within seconds.

    Every delivery's X-PagerDuty-Signature is checked (401 if bad), the event is stored
    durably (fsync) before the 2xx answer and de-duplicated by its id; a worker then reads
    each touched incident from the REST API, loads it like `pagerlens sync` does and
    publishes a new warehouse. Run `pagerlens sync` once first; keep the nightly sync: it
    repairs anything a webhook missed. They share one writer lock and may run side by side.

    \b
    Create the subscription (PagerDuty UI): Integrations > Generic Webhooks (v3) >
    New Webhook; URL: your proxy's public https URL; scope: account (or a service or
    team); events: every incident.* type (at least triggered, acknowledged,
    unacknowledged, escalated, reassigned, delegated, priority_updated, reopened,
    resolved, annotated, responder.added). Save, copy the signing secret into a
    file only you can read (chmod 600).
    Or with the REST API (a read-write key):
      curl -X POST https://api.pagerduty.com/webhook_subscriptions \\
        -H "Authorization: Token token=$KEY" -H "Content-Type: application/json" \\
        -d '{"webhook_subscription": {"type": "webhook_subscription",
             "delivery_method": {"type": "http_delivery_method",
                                 "url": "https://pagerlens.example.com/webhooks"},
             "events": ["incident.triggered", "incident.acknowledged", ...],
             "filter": {"type": "account_reference"}}}'
      The answer's delivery_method.secret is the signing secret (shown once).

    \b
    Reverse proxy: pagerlens listens on 127.0.0.1 only; TLS ends at the proxy, e.g. nginx:
      location /webhooks {
        proxy_pass http://127.0.0.1:8787;
        client_max_body_size 256k;  proxy_read_timeout 30s;
      }
    The proxy must pass the body unchanged (the signature is over its exact bytes).

    \b
    Example:
        export PAGERLENS_WEBHOOK_SECRET=$(cat ~/.pagerduty-webhook-secret)
        export PAGERDUTY_API_TOKEN=$(cat ~/.pagerduty-readonly)
        pagerlens listen --db ~/pagerlens.duckdb --port 8787
    """
    _listen(_db(options.pop("db_path")), **options)


def _listen(
    db: Path,
    *,
    config_path,
    host,
    port,
    secret_file,
    api_url,
    token_file,
    spool_file,
    no_apply,
    max_body,
    threads,
    debounce: float,
    max_delay: float,
) -> None:
    from etl.credentials import CredentialsError
    from etl.live import read_webhook_secrets

    try:
        secrets = read_webhook_secrets(secret_file)
    except CredentialsError as exc:
        raise BadInput([str(exc)]) from None
    # Everything that can be wrong with the input is checked before anything is created.
    client = config = None
    if not no_apply:
        config = _config(config_path)
        client = _client(api_url, _token(token_file))
    quiet_build_logs()
    if host not in ("127.0.0.1", "::1", "localhost"):
        log.warning(
            "listening on %s, not loopback: deliveries must reach pagerlens through a TLS proxy "
            "(the signature proves who sent a body, not that nobody read it)",
            host,
        )
    listener = start_listener(
        db,
        secrets,
        client=client,
        config=config,
        host=host,
        port=port,
        spool_file=spool_file,
        max_body=max_body,
        threads=threads,
        debounce=debounce,
        max_delay=max_delay,
    )
    click.echo(f"listening on {listener.url} (spool {listener.spool.path}); Ctrl-C to stop")
    _serve_until_stopped(listener)


def quiet_build_logs() -> None:
    """Unless --verbose: a build per apply, whose per-model lines would drown the listener's."""
    if not click.get_current_context().find_root().params.get("verbose"):
        for name in ("etl.transform", "etl.noise", "etl.extract"):
            logging.getLogger(name).setLevel(logging.WARNING)


@dataclass
class Listener:
    """A running receiver and (unless receive-only) apply worker over one spool: what
    `pagerlens listen` and `pagerlens demo --live` run."""

    receiver: Any
    worker: Any | None
    spool: Any

    @property
    def url(self) -> str:
        return self.receiver.url

    def stop(self, *, drain: bool = False) -> dict:
        """Stop in order: no new deliveries first, then the apply under way (then, with
        ``drain``, apply what is still pending), then the spool. Returns the spool's final
        ``status()``."""
        self.receiver.stop()
        try:
            if self.worker is not None:
                self.worker.stop()
                if drain:
                    self.worker.drain()
            return self.spool.status()
        finally:
            if self.worker is not None:
                self.worker.client.close()
            self.spool.close()


def start_listener(
    db: Path,
    secrets,
    *,
    client,
    config=None,
    host: str = "127.0.0.1",
    port: int = 0,
    spool_file: Path | None = None,
    max_body: int = 256 * 1024,
    threads: int = 32,
    poll_interval: float = 2.0,
    debounce: float = 1.0,
    max_delay: float = 5.0,
    clock: Callable[[], datetime] | None = None,
) -> Listener:
    """Open the spool, start the apply worker (none when ``client`` is None) and the receiver
    on ``host:port`` (0: a free port); ``clock`` is the worker's "now" (default: the wall clock)."""
    from etl.live import ApplyWorker, Receiver, Spool, spool_path

    spool = Spool(spool_file or spool_path(db))
    worker = None
    if client is not None:
        timing = {"poll_interval": poll_interval, "debounce": debounce, "max_delay": max_delay}
        if clock is not None:
            timing["clock"] = clock
        worker = ApplyWorker(spool, db, client, config=config, **timing)
    receiver = Receiver(
        spool,
        secrets,
        host=host,
        port=port,
        max_body=max_body,
        max_threads=threads,
        on_stored=worker.notify if worker is not None else None,
    )
    if worker is not None:
        worker.start()
    receiver.start()
    return Listener(receiver, worker, spool)


def _client(api_url: str, token):
    from etl.pd_client import InsecureUrlError, PagerDutyClient, RateLimiter

    try:
        return PagerDutyClient(token, base_url=api_url, limiter=RateLimiter())
    except InsecureUrlError as exc:
        raise BadInput([str(exc)]) from None


def _serve_until_stopped(listener: Listener, report_every: float = 60.0) -> None:
    """Block until SIGINT/SIGTERM, logging the counters now and then; then stop in order."""
    stop = stop_on_signals()
    next_report = time.monotonic() + report_every
    try:
        while not stop.wait(1.0):
            if time.monotonic() >= next_report:
                next_report += report_every
                status = listener.spool.status()
                log.info(
                    "listen: %s; spool pending %d, applied %d, kept %d, unknown types %s",
                    listener.receiver.snapshot(),
                    status["pending"],
                    status["applied"],
                    status["kept"],
                    status["unknown_by_type"] or "none",
                )
    finally:
        listener.stop()
        click.echo(f"stopped: {listener.receiver.snapshot()}")


def stop_on_signals() -> threading.Event:
    """An event that SIGINT (Ctrl-C) or SIGTERM sets, instead of interrupting the process."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
