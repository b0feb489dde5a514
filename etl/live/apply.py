"""Applying webhook events: refresh the touched incidents from the REST API, rebuild, publish.

A webhook body is a summary; the REST API stays the source of truth. For each incident a batch
of events touches, :func:`apply_incidents` reads, through the sync's own code path:

* its log entries (``/incidents/{id}/log_entries``, ``include[]=channels`` like the sync's
  backfill, windowed over the synced scope) through :class:`etl.extract.Extractor`;
* its current state (``/incidents/{id}``; the one call the extractor has no listing for);
* its alerts when the sync would fetch them (the loader's ``alerts_to_fetch`` rule);

loads them with the sync's :class:`etl.load.Loader` (same validation, rejects and upserts),
rebuilds the marts and publishes, all inside :func:`etl.warehouse.building`: the same writer
lock as ``pagerlens sync``, a private copy renamed over the published file on success. The
sync's watermarks are left alone (the change feed was not read), so the next nightly sync
re-reads everything since its own last run and repairs whatever a webhook missed. The
listening session is one ``_sync_runs`` row (mode ``live``), replaced at every apply, whose
``until`` is the moment of the last apply: the marts' data period follows the live data.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from etl.config import Config, load_config
from etl.extract import MAX_INCIDENT_WINDOW, Extractor, Listing, alert_listings, windows
from etl.load import Loader, Scope, read_watermarks, sql
from etl.pd_client import PagerDutyClient, PagerDutyError
from etl.sqlfiles import sql_text
from etl.sync import RunCounts, SyncSummary, record_run
from etl.warehouse import building

log = logging.getLogger(__name__)

LIVE_MODE = "live"
OPEN_INCIDENTS = "sql/live/open_incidents.sql"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class NotSynced(RuntimeError):
    """The warehouse has no synced scope yet: run ``pagerlens sync`` once before listening."""


@dataclass
class LiveSession(RunCounts):
    """The listening session's ``_sync_runs`` row, carried from one apply to the next."""

    run_id: str = field(
        default_factory=lambda: f"live-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    )
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    applies: int = 0
    seconds: float = 0.0
    events_applied: int = 0
    # The newest event applied: (received_at, event_type, occurred_at), ISO 8601 text.
    last_event: tuple[str, str, str] | None = None


@dataclass
class ApplyResult:
    """What one apply did."""

    incidents: int
    missing: list[str]
    records: dict[str, int]
    requests: int
    until: datetime
    seconds: float


def apply_incidents(
    db_path: str | os.PathLike,
    incident_ids: Iterable[str],
    *,
    client: PagerDutyClient,
    session: LiveSession,
    config: Config | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    workers: int = 4,
    build: bool = True,
    refresh_open: bool = False,
    events: int = 0,
    newest_event: tuple[str, str, str] | None = None,
) -> ApplyResult:
    """Refresh ``incident_ids`` from the API into the warehouse at ``db_path`` and publish.

    ``events`` and ``newest_event`` (received_at, event_type, occurred_at) describe the spooled
    events behind this apply, for the ``_live_status`` row. ``refresh_open`` adds every
    incident still open in the warehouse (the worker does it every
    few minutes: notifications send no webhook, and a delivery may never arrive).

    Raises :class:`NotSynced` before any request if the warehouse was never synced,
    :class:`etl.warehouse.WarehouseBusy` if a sync (or another apply) is writing, and
    :class:`etl.pd_client.PagerDutyError` if the API cannot be read: in every case the
    published warehouse is untouched and the caller keeps the events to try again.
    """
    started = time.monotonic()
    ids = [i for i in dict.fromkeys(incident_ids) if _safe_id(i)]
    before = client.stats()
    with building(Path(db_path)) as con:
        marks = read_watermarks(con)
        if "scope_since" not in marks or "scope_until" not in marks:
            raise NotSynced(
                f"{db_path} has never been synced: run `pagerlens sync` once, then listen"
            )
        if refresh_open:
            open_ids = [row[0] for row in con.execute(sql_text(OPEN_INCIDENTS)).fetchall()]
            ids = list(dict.fromkeys([*ids, *open_ids]))
        until = clock().astimezone(UTC).replace(microsecond=0)
        scope = Scope(marks["scope_since"], max(until, marks["scope_until"]))
        loader = Loader(con, session.run_id, scope)
        extractor = Extractor(client, loader, workers=workers)
        extractor.run(incident_log_entry_listings(ids, scope.since, until), "live log entries")
        found, missing = fetch_incidents(client, ids, workers=workers)
        loader.add("incidents", found, source="/incidents/{id}")
        loader.flush()
        alert_ids = [row[0] for row in con.execute(sql("alerts_to_fetch")).fetchall()]
        extractor.run(alert_listings(alert_ids), "live alerts", expected=len(alert_ids))
        records = dict(extractor.stats.records)
        records["incidents"] = records.get("incidents", 0) + len(found)
        after = client.stats()
        # The session's counters change only if this apply publishes.
        updated = replace(session, records=dict(session.records))
        _add_to_session(updated, records, before, after, loader.counts.rejects)
        updated.events_applied += events
        updated.last_event = newest_event or session.last_event
        updated.seconds += time.monotonic() - started
        _record_session(con, updated, client.url, scope.since, until)
        if build:
            from etl.transform import AUTO, build_marts  # lazy, as in etl.sync

            build_marts(con, config or load_config(), memory_limit=AUTO)
    vars(session).update(vars(updated))
    return ApplyResult(
        incidents=len(found),
        missing=missing,
        records=records,
        requests=after["requests"] - before["requests"],
        until=until,
        seconds=time.monotonic() - started,
    )


def incident_log_entry_listings(
    incident_ids: Iterable[str], since: datetime, until: datetime
) -> list[Listing]:
    """``/incidents/{id}/log_entries`` of each incident over ``[since, until)``, with the
    trigger entries' alert content (``include[]=channels``) as the sync reads them."""
    return [
        Listing(
            "log_entries",
            f"/incidents/{incident_id}/log_entries",
            "log_entries",
            {"include[]": ["channels"]},
            window,
        )
        for incident_id in incident_ids
        if _safe_id(incident_id)
        for window in windows(since, until, MAX_INCIDENT_WINDOW)
    ]


def fetch_incidents(
    client: PagerDutyClient, incident_ids: Iterable[str], *, workers: int = 4
) -> tuple[list[dict], list[str]]:
    """``GET /incidents/{id}`` for each id, concurrently: (incident objects, ids not found).

    The client's limiter and retries apply; a 404 is an incident that no longer exists (or that
    this key may not see), returned for the caller to report; any other failure raises.
    """
    ids = [i for i in incident_ids if _safe_id(i)]
    if not ids:
        return [], []
    with ThreadPoolExecutor(
        max_workers=max(1, workers), thread_name_prefix="pagerlens-live"
    ) as pool:
        answers = list(pool.map(lambda i: _fetch_one(client, i), ids))
    found = [incident for incident in answers if incident is not None]
    missing = [i for i, incident in zip(ids, answers, strict=True) if incident is None]
    return found, missing


def _fetch_one(client: PagerDutyClient, incident_id: str) -> dict | None:
    path = f"/incidents/{incident_id}"
    response = client.request("GET", path)
    if response.status_code == 404:
        return None
    if response.status_code // 100 != 2:
        raise PagerDutyError(f"GET {path} returned HTTP {response.status_code}")
    try:
        incident = json.loads(response.content).get("incident")
    except (ValueError, AttributeError):
        raise PagerDutyError(f"GET {path}: the body is not an incident") from None
    if not isinstance(incident, dict):
        raise PagerDutyError(f"GET {path}: the body is not an incident")
    return incident


def _safe_id(incident_id: str) -> bool:
    if isinstance(incident_id, str) and _SAFE_ID.match(incident_id):
        return True
    log.warning("skipping an incident with an unexpected id %r", str(incident_id)[:70])
    return False


def _add_to_session(
    session: LiveSession, records: dict[str, int], before: dict, after: dict, rejects: int
) -> None:
    for resource, count in records.items():
        session.records[resource] = session.records.get(resource, 0) + count
    session.requests += after["requests"] - before["requests"]
    session.retries += after["retries"] - before["retries"]
    session.rejects += rejects
    session.applies += 1


def _record_session(
    con, session: LiveSession, api_url: str, since: datetime, until: datetime
) -> None:
    summary = SyncSummary(
        run_id=session.run_id,
        mode=LIVE_MODE,
        since=since,
        until=until,
        duration_seconds=session.seconds,
        warnings=[f"{session.applies} live applies"],  # the row's message
        **session.counts(),
    )
    record_run(con, summary, api_url, session.started_at)
    received_at, event_type, occurred_at = session.last_event or (None, None, None)
    con.execute(sql_text("sql/live/live_status_schema.sql"))
    con.execute(
        sql_text("sql/live/upsert_live_status.sql"),
        {
            "run_id": session.run_id,
            "applied_at": datetime.now(UTC),
            "events_applied": session.events_applied,
            "last_event_received_at": received_at,
            "last_event_type": event_type,
            "last_event_occurred_at": occurred_at,
        },
    )
