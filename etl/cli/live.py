"""``pagerlens listen``: the PagerDuty webhooks v3 receiver and its apply worker (etl.live)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

import click

from etl.cli.base import BadInput, _config, _db, _token, cli, config_option, db_option, log


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
@click.option(
    "--debounce",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Apply once no event arrived for this long...",
)
@click.option(
    "--max-delay",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0),
    help="...or once the first pending event has waited this long.",
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
    from etl.live import ApplyWorker, Receiver, Spool, read_webhook_secrets, spool_path

    try:
        secrets = read_webhook_secrets(secret_file)
    except CredentialsError as exc:
        raise BadInput([str(exc)]) from None
    # Everything that can be wrong with the input is checked before anything is created.
    client = config = None
    if not no_apply:
        config = _config(config_path)
        client = _client(api_url, _token(token_file))
    if not click.get_current_context().find_root().params.get("verbose"):
        # A build per apply: its per-model lines would drown the listener's own.
        for name in ("etl.transform", "etl.noise", "etl.extract"):
            logging.getLogger(name).setLevel(logging.WARNING)
    if host not in ("127.0.0.1", "::1", "localhost"):
        log.warning(
            "listening on %s, not loopback: deliveries must reach pagerlens through a TLS proxy "
            "(the signature proves who sent a body, not that nobody read it)",
            host,
        )
    spool = Spool(spool_file or spool_path(db))
    worker = None if client is None else ApplyWorker(spool, db, client, config=config)
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
        worker.debounce, worker.max_delay = debounce, max_delay
        worker.start()
    url = receiver.start()
    click.echo(f"listening on {url} (spool {spool.path}); Ctrl-C to stop", nl=True)
    _serve_until_stopped(receiver, worker, spool)


def _client(api_url: str, token):
    from etl.pd_client import InsecureUrlError, PagerDutyClient, RateLimiter

    try:
        return PagerDutyClient(token, base_url=api_url, limiter=RateLimiter())
    except InsecureUrlError as exc:
        raise BadInput([str(exc)]) from None


def _serve_until_stopped(receiver, worker, spool, report_every: float = 60.0) -> None:
    """Block until SIGINT/SIGTERM, logging the counters now and then; then stop in order:
    no new deliveries first, then the apply under way, then the spool."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    next_report = time.monotonic() + report_every
    try:
        while not stop.wait(1.0):
            if time.monotonic() >= next_report:
                next_report += report_every
                status = spool.status()
                log.info(
                    "listen: %s; spool pending %d, applied %d, kept %d, unknown types %s",
                    receiver.snapshot(),
                    status["pending"],
                    status["applied"],
                    status["kept"],
                    status["unknown_by_type"] or "none",
                )
    finally:
        receiver.stop()
        if worker is not None:
            worker.stop()
            worker.client.close()
        spool.close()
        click.echo(f"stopped: {receiver.snapshot()}")
