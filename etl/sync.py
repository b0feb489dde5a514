"""``pagerlens sync``: the nightly ETL run, full or incremental, published atomically.

A run works inside :func:`etl.warehouse.building`, a private copy of the warehouse renamed over
the published file only when everything (extract, load, alerts, marts, run summary) succeeded.
A failure, or a SIGKILL at any moment, leaves the published warehouse exactly as it was, and
the next run starts again from it.

Scope and watermarks (``_watermarks``):

* ``scope_since``/``scope_until``: the warehouse holds the incidents created in this range
  (and every log entry created in it, whichever incident it belongs to).
* ``log_entries``: the change feed has been read up to here.
* ``oncalls``: on-call entries overlapping ``[scope_since, oncalls)`` are loaded.

The first run (or ``full=True``) backfills ``[since, until)``. Later runs read the change feed
from the watermark minus an overlap, with ``include[]=incidents`` so each entry brings the
current state of its incident; refresh every still-open incident; list incidents created since
the last run; and re-read alerts only for the incidents touched. See docs/etl.md.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Collection
from copy import copy
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from etl.config import Config, load_config
from etl.credentials import Secret
from etl.extract import (
    Extractor,
    Progress,
    SkippedResource,
    alert_listings,
    incident_listings,
    isoformat,
    log_entry_listings,
    oncall_listings,
    open_incident_listing,
    reference_listings,
)
from etl.load import Loader, Scope, read_watermarks, sql, write_watermark
from etl.pd_client import (
    DEFAULT_API_URL,
    DEFAULT_RATE_PER_MINUTE,
    PagerDutyClient,
    RateLimiter,
    RetryPolicy,
    check_api_url,
)
from etl.sqlfiles import sql_text
from etl.warehouse import building, note_sync_failure

log = logging.getLogger(__name__)

DEFAULT_HISTORY = timedelta(days=90)
# Re-read this much of the change feed before the watermark: entries can become visible a
# little after their created_at (PagerDuty's own processing lag), and re-reading is idempotent.
DEFAULT_OVERLAP = timedelta(hours=1)
DEFAULT_WORKERS = 6


class SyncError(RuntimeError):
    """A sync that cannot run as asked (bad range, ...); the message is one line."""


@dataclass(kw_only=True)
class RunCounts:
    """What a ``_sync_runs`` row counts, for a sync and a live session alike: records read per
    resource, API requests and retries, rows kept aside as rejects."""

    records: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    rejects: int = 0

    def counts(self) -> dict[str, Any]:
        """The counters alone (a copy), to carry into another run's summary."""
        return {f.name: copy(getattr(self, f.name)) for f in fields(RunCounts)}


@dataclass
class SyncSummary(RunCounts):
    """What one run did; also written to ``_sync_runs`` (:func:`record_run`)."""

    run_id: str
    mode: str
    since: datetime
    until: datetime
    duration_seconds: float = 0.0
    pages: int = 0
    splits: int = 0
    alert_incidents: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Optional resources the account would not serve (402/403/404), also in _sync_skips.
    skipped: list[SkippedResource] = field(default_factory=list)

    def log_line(self) -> str:
        """One line for logs and the terminal."""
        per_resource = ", ".join(f"{k} {v}" for k, v in sorted(self.records.items()) if v)
        total = sum(self.records.values())
        skipped = ", ".join(f"{s.resource} (HTTP {s.status})" for s in self.skipped)
        return (
            f"sync ok: {self.mode} run {self.run_id} [{isoformat(self.since)}, "
            f"{isoformat(self.until)}): {total} records ({per_resource or 'none'}), "
            f"{self.requests} requests, {self.retries} retries, {self.rejects} rejects, "
            f"{self.duration_seconds:.1f} s" + (f"; skipped {skipped}" if skipped else "")
        )


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_when(text: str | date | datetime) -> datetime:
    """A date (``2026-08-01``, midnight UTC) or ISO 8601 timestamp as an aware UTC datetime.

    A timestamp without a zone is taken as UTC. Raises ValueError with the offending text.
    """
    if isinstance(text, datetime):
        moment = text
    elif isinstance(text, date):
        moment = datetime(text.year, text.month, text.day)
    else:
        value = str(text).strip()
        try:
            if _DATE_ONLY.match(value):
                moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
            else:
                moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"not a date or ISO 8601 timestamp: {value!r} (try 2026-08-01 or "
                "2026-08-01T06:00:00Z)"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def run_sync(
    db_path: str | os.PathLike,
    *,
    api_url: str = DEFAULT_API_URL,
    token: Secret | str,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    full: bool = False,
    build: bool = True,
    config: Config | None = None,
    progress: Progress | None = None,
    workers: int = DEFAULT_WORKERS,
    rate_per_minute: float = DEFAULT_RATE_PER_MINUTE,
    retry: RetryPolicy | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    page_size: int = 100,
    offset_cap: int = 10_000,
    lock_wait: float = 0.0,
) -> SyncSummary:
    """Extract from the PagerDuty REST API v2, load the raw tables, build the marts, publish.

    The first run backfills incidents created in ``[since, until)`` (default: the 90 days
    before ``until``, which defaults to now) and their log entries; later runs are incremental
    unless ``full``. An explicit ``since`` before the synced scope extends it backwards.
    ``page_size``/``offset_cap`` exist for tests against a simulator with lowered limits.
    ``lock_wait``: seconds to wait for another writer (a live apply, a build) to finish
    before giving up with :class:`etl.warehouse.WarehouseBusy`.
    Raises :class:`etl.pd_client.AuthenticationError`/:class:`etl.pd_client.PagerDutyError`
    when the API cannot be read, leaving the published warehouse untouched.
    """
    started_wall = datetime.now(UTC)
    started = time.monotonic()
    api_url = check_api_url(api_url)
    until_at = _whole_second(parse_when(until) if until is not None else started_wall)
    since_at = _whole_second(parse_when(since)) if since is not None else None
    if since_at is not None and since_at >= until_at:
        raise SyncError(
            f"--since {isoformat(since_at)} is not before --until {isoformat(until_at)}"
        )
    run_id = f"{started_wall:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"

    client = PagerDutyClient(
        token,
        base_url=api_url,
        limiter=RateLimiter(rate_per_minute),
        retry=retry,
    )
    _preload_noise(build)
    try:
        with building(Path(db_path), wait_seconds=lock_wait) as con:
            marks = read_watermarks(con)
            plan = _plan(marks, since_at, until_at, full, overlap)
            loader = Loader(con, run_id, plan.scope)
            extractor = Extractor(
                client,
                loader,
                workers=workers,
                page_size=page_size,
                offset_cap=offset_cap,
                progress=progress,
            )
            alert_ids = _extract(con, plan, marks, extractor)
            summary = _summary(run_id, plan, until_at, client, extractor, loader, alert_ids)
            # The run row goes in before the marts: they read the synced period from
            # _sync_runs. It is only published if the build succeeds too.
            summary.duration_seconds = time.monotonic() - started
            record_run(con, summary, api_url, started_wall)
            if build:
                _build(con, config, progress)
                summary.duration_seconds = time.monotonic() - started
                record_run(con, summary, api_url, started_wall)
    except Exception as exc:
        _note_failure(db_path, run_id, api_url, started_wall, client, exc, token)
        raise
    finally:
        client.close()
    # The command line prints this line on stdout; logged at info it showed twice on a terminal.
    log.debug("%s", summary.log_line())
    return summary


def _extract(con, plan: _Plan, marks: dict, extractor: Extractor) -> list[str]:
    """Listings, change feed and alerts into the raw tables; the new watermarks. Returns the
    ids of the incidents whose alerts were fetched."""
    log.info("sync %s: %s", plan.mode, plan.describe())
    extractor.run(plan.listings, "extract")
    alert_ids = [row[0] for row in con.execute(sql("alerts_to_fetch")).fetchall()]
    extractor.run(alert_listings(alert_ids), "alerts", expected=len(alert_ids))
    skipped = extractor.stats.skipped
    for resource, value in plan.watermarks(marks, skipped).items():
        write_watermark(con, resource, value)
    if skipped:
        con.execute(
            sql_text("sql/sync/insert_sync_skips.sql"),
            {
                "run_id": extractor.loader.run_id,
                "resources": list(skipped),
                "endpoints": [s.path for s in skipped.values()],
                "statuses": [s.status for s in skipped.values()],
                "messages": [s.detail or None for s in skipped.values()],
            },
        )
    return alert_ids


def _summary(
    run_id: str,
    plan: _Plan,
    until_at: datetime,
    client: PagerDutyClient,
    extractor: Extractor,
    loader: Loader,
    alert_ids: list[str],
) -> SyncSummary:
    stats = client.stats()
    skipped = sorted(extractor.stats.skipped.values(), key=lambda s: s.resource)
    return SyncSummary(
        run_id=run_id,
        mode=plan.mode,
        since=plan.report_since,
        until=until_at,
        records=dict(extractor.stats.records),
        requests=stats["requests"],
        retries=stats["retries"],
        rejects=loader.counts.rejects,
        pages=extractor.stats.pages,
        splits=extractor.stats.splits,
        alert_incidents=len(alert_ids),
        retry_reasons=stats["retry_reasons"],
        warnings=[s.describe() for s in skipped] + list(extractor.stats.warnings),
        skipped=skipped,
    )


def _preload_noise(build: bool) -> None:
    """A sync that builds imports the noise step's modules during its private copy and the
    API's waits (etl.transform.preload_noise)."""
    if build:
        from etl.transform import preload_noise

        preload_noise()


def _build(con, config: Config | None, progress: Progress | None) -> None:
    # Lazy: the marts module is not needed by --no-build runs and tests.
    from etl.transform import AUTO, build_marts

    if progress is not None:
        progress("build marts", None, None)
    # DuckDB's memory bounded as `pagerlens build` bounds it (its own default is 80% of RAM).
    built = build_marts(con, config or load_config(), memory_limit=AUTO)
    log.info("%s", built.log_line())


def _note_failure(
    db_path: str | os.PathLike,
    run_id: str,
    api_url: str,
    started_at: datetime,
    client: PagerDutyClient,
    exc: Exception,
    token: Secret | str,
) -> None:
    """Note a failed run beside the warehouse (etl.warehouse.note_sync_failure), with its
    one-line reason and the token scrubbed. Best effort: the run's own error is what the
    caller sees, whatever happens here."""
    secret = token if isinstance(token, Secret) else Secret(str(token))
    reason = secret.scrub(" ".join(f"{type(exc).__name__}: {exc}".split()))
    try:
        stats = client.stats()
        note_sync_failure(
            db_path,
            {
                "run_id": run_id,
                "started_at": started_at.isoformat(),
                "failed_at": datetime.now(UTC).isoformat(),
                "api_url": api_url,
                "requests": stats["requests"],
                "retries": stats["retries"],
                "reason": reason[:2000],
            },
        )
    except Exception as error:  # noqa: BLE001 - never hide the run's own error
        log.warning("could not note the failed sync %s: %s", run_id, error)


@dataclass
class _Plan:
    mode: str
    scope: Scope
    listings: list
    report_since: datetime
    feed_until: datetime
    oncalls_until: datetime

    def describe(self) -> str:
        return (
            f"scope [{isoformat(self.scope.since)}, {isoformat(self.scope.until)}), "
            f"{len(self.listings)} listings"
        )

    def watermarks(
        self, marks: dict[str, datetime], skipped: Collection[str] = ()
    ) -> dict[str, datetime]:
        def later(key: str, value: datetime) -> datetime:
            return max(value, marks[key]) if key in marks else value

        values = {
            "scope_since": self.scope.since,
            "scope_until": later("scope_until", self.scope.until),
            "log_entries": later("log_entries", self.feed_until),
            "oncalls": later("oncalls", self.oncalls_until),
        }
        asked = [item.window.since for item in self.listings if item.resource == "oncalls"]
        if "oncalls" in skipped and asked:
            # The on-call range this run asked for was not (or only partly) read: the mark
            # goes back to its start, so the first run the endpoint answers again fills it in.
            values["oncalls"] = min([*asked, *([marks["oncalls"]] if "oncalls" in marks else [])])
        return values


def _plan(
    marks: dict[str, datetime],
    since: datetime | None,
    until: datetime,
    full: bool,
    overlap: timedelta,
) -> _Plan:
    prior_since = marks.get("scope_since")
    prior_until = marks.get("scope_until")
    feed_mark = marks.get("log_entries")
    if full or prior_since is None or prior_until is None or feed_mark is None:
        start = since if since is not None else until - DEFAULT_HISTORY
        if start >= until:
            raise SyncError(
                f"nothing to sync: since {isoformat(start)} >= until {isoformat(until)}"
            )
        scope_since = min(start, prior_since) if prior_since is not None else start
        listings = (
            reference_listings()
            + incident_listings(start, until)
            + log_entry_listings(start, until, with_incidents=False)
            + oncall_listings(start, until)
        )
        return _Plan("full", Scope(scope_since, until), listings, start, until, until)

    feed_since = feed_mark - overlap
    if until <= feed_since:
        raise SyncError(
            f"--until {isoformat(until)} is before the last sync ({isoformat(feed_mark)}); "
            "use --full to re-sync an earlier period"
        )
    scope_since = prior_since
    report_since = feed_since
    listings = reference_listings()
    if since is not None and since < prior_since:
        # Extending the history backwards: backfill the gap like a first run would.
        listings += (
            incident_listings(since, prior_since)
            + log_entry_listings(since, prior_since, with_incidents=False)
            + oncall_listings(since, prior_since)
        )
        scope_since = report_since = since
    listings += log_entry_listings(feed_since, until, with_incidents=True)
    listings.append(open_incident_listing(scope_since, until))
    if prior_until < until:
        listings += incident_listings(prior_until, until)
    oncall_mark = marks.get("oncalls", prior_until)
    if oncall_mark < until:
        listings += oncall_listings(oncall_mark, until)
    # An until inside the overlap must not shrink the scope the warehouse already holds.
    scope = Scope(scope_since, max(until, prior_until))
    return _Plan("incremental", scope, listings, report_since, until, until)


def record_run(con: Any, summary: SyncSummary, api_url: str, started_at: datetime) -> None:
    """Write ``summary`` as its ``_sync_runs`` row (a live session's row is replaced per apply)."""
    con.execute(
        sql("insert_sync_run"),
        {
            "run_id": summary.run_id,
            "started_at": started_at,
            "finished_at": datetime.now(UTC),
            "status": "ok",
            "api_url": api_url,
            "since": summary.since,
            "until": summary.until,
            "mode": summary.mode,
            "requests": summary.requests,
            "retries": summary.retries,
            "rejects": summary.rejects,
            "records_json": json.dumps(summary.records, sort_keys=True),
            "duration_seconds": summary.duration_seconds,
            "message": "; ".join(summary.warnings)[:2000] or None,
        },
    )


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
