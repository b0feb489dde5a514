"""``pagerlens reconcile``: compare the warehouse with PagerDuty's own Analytics."""

from __future__ import annotations

import click

from etl.cli.base import (
    BadInput,
    Failure,
    _config,
    _db,
    _token,
    cli,
    out_option,
    warehouse_api_options,
)

# Exit codes beyond the usual 0/1/2: the run worked but something needs a look.
EXIT_REFUSED = 3  # PagerDuty refused an Analytics endpoint (402/403/404): not everything checked
EXIT_UNEXPLAINED = 4  # differences without a named reason


class NeedsALook(Failure):
    """The comparison ran, but not everything was checked or explained (exit 3 or 4)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@cli.command()
@warehouse_api_options
@click.option("--since", required=True, help="First day (YYYY-MM-DD, UTC midnight).")
@click.option("--until", required=True, help="Day after the last (YYYY-MM-DD, UTC midnight).")
@out_option("reconcile", help="Where reconcile_differences.csv and the summary go.")
def reconcile(db_path, config_path, api_url, token_file, since, until, out_dir):
    """Compare our marts with PagerDuty's Analytics, each difference with its reason.

    Fetches /analytics/raw/incidents, /analytics/metrics/incidents/services (weekly) and
    /analytics/metrics/responders/all for incidents created in [--since, --until) (one year
    per request), compares incident by incident, service-week by service-week and the
    responders' totals, and names the reason of each difference (docs/metrics.md,
    "Reconciliation"). The key needs Analytics access. Exit code 0: all compared and
    explained; 3: PagerDuty refused an endpoint (the plan or key lacks Analytics); 4: some
    differences are unexplained.

    \b
    Example:
        pagerlens reconcile --since 2026-02-02 --until 2026-03-02 --out reconcile/
    """
    from etl.reconcile import run_reconcile
    from etl.sync import parse_when

    try:
        start, end = parse_when(since), parse_when(until)
    except ValueError as exc:
        raise BadInput([str(exc)]) from None
    if end <= start:
        raise BadInput(["--until must be after --since"])
    result = run_reconcile(
        _db(db_path),
        api_url=api_url,
        token=_token(token_file),
        since=start,
        until=end,
        out_dir=out_dir,
        config=_config(config_path),
    )
    for line in result.summary_lines():
        click.echo(line)
    for path in result.files:
        click.echo(f"wrote {path}")
    if result.refused:
        raise NeedsALook(
            f"PagerDuty refused {len(result.refused)} Analytics endpoint(s): the key needs "
            "Analytics access (docs/reconcile.md)",
            EXIT_REFUSED,
        )
    if result.unexplained:
        raise NeedsALook(
            f"{result.unexplained} difference(s) without a named reason (reason empty in the CSV)",
            EXIT_UNEXPLAINED,
        )
