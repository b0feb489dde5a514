"""Extraction: which listings a run reads, split into windows, paged concurrently, streamed.

A run is a set of *listings* (an endpoint with its filters, maybe restricted to a time window).
Each listing's first page asks ``total=true``. With the total known, the remaining pages are
independent requests (``offset`` = 100, 200, ...) and go to the worker pool at once, so a
single large window is fetched as fast as the rate limit allows. A windowed listing whose total
exceeds the API's offset cap (offset + limit <= 10,000) is split into ``ceil(total / 8,000)``
equal sub-windows (at least two: a bisection), each checked again, before any page past the
first is read; that first page is discarded.

Workers only fetch; pages come back to the calling thread, which owns the DuckDB connection and
hands records to the :class:`etl.load.Loader` in batches. At most ``2 * workers`` pages are in
flight, so memory does not grow with history.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from etl.load import Loader
from etl.pd_client import EndpointUnavailable, PagerDutyClient, PagerDutyError
from etl.per_service import PER_SERVICE_READS, READS_BY_RESOURCE

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# PagerDuty's classic pagination refuses offset + limit > 10,000 (HTTP 400).
OFFSET_CAP = 10_000
# Split target: sub-windows sized for 80 % of the cap leave room for uneven distribution.
SPLIT_TARGET = 8_000
# /incidents refuses since/until ranges over 6 months; 180 days is under every 6-month span.
MAX_INCIDENT_WINDOW = timedelta(days=180)
# /oncalls: PagerDuty limits on-call queries to 90 days.
MAX_ONCALL_WINDOW = timedelta(days=90)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Progress = Callable[[str, int | None, int | None], None]


def isoformat(moment: datetime) -> str:
    """A UTC timestamp as the API expects it (``2026-01-02T03:04:05Z``)."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class Window:
    """A half-open time range ``[since, until)``."""

    since: datetime
    until: datetime

    def split(self, parts: int) -> list[Window]:
        """``parts`` contiguous sub-windows on whole seconds (fewer if the window is short)."""
        seconds = int((self.until - self.since).total_seconds())
        parts = max(1, min(parts, seconds))
        if parts == 1:
            return [self]
        edges = [self.since + timedelta(seconds=seconds * i // parts) for i in range(parts)]
        edges.append(self.until)
        return [Window(a, b) for a, b in zip(edges, edges[1:], strict=False) if a < b]

    def params(self) -> dict[str, str]:
        return {"since": isoformat(self.since), "until": isoformat(self.until)}


def windows(since: datetime, until: datetime, max_span: timedelta) -> list[Window]:
    """``[since, until)`` cut into consecutive windows no longer than ``max_span``."""
    out: list[Window] = []
    start = since
    while start < until:
        end = min(until, start + max_span)
        out.append(Window(start, end))
        start = end
    return out


@dataclass
class Listing:
    """One paginated index request: endpoint, list key, filters, optional window.

    ``fallback`` builds replacement listings when an unwindowed listing is over the offset cap
    (the open-incident refresh falls back to created_at windows over the scope). An
    ``optional`` listing whose endpoint answers 402/403/404 is skipped (see
    :data:`OPTIONAL_RESOURCES`) instead of failing the run.
    """

    resource: str
    path: str
    list_key: str
    params: dict[str, Any] = field(default_factory=dict)
    window: Window | None = None
    fallback: Callable[[], list[Listing]] | None = None
    optional: bool = False
    # A single object, not a page of a list (``list_key`` names it): fetched once without
    # paging parameters and stored as one record keyed by ``record_id``.
    record_id: str | None = None

    def describe(self) -> str:
        if self.window is None:
            return self.path
        return f"{self.path} [{isoformat(self.window.since)}, {isoformat(self.window.until)})"


@dataclass
class _ListingState:
    listing: Listing
    total: int | None = None
    received: int = 0
    # Pages created (queued or in flight) and not yet handled.
    pending: int = 0
    rechecked: bool = False


@dataclass
class _Page:
    state: _ListingState
    offset: int

    def __post_init__(self) -> None:
        self.state.pending += 1


@dataclass(frozen=True)
class SkippedResource:
    """An optional resource this run could not read: its endpoint's answer and message."""

    resource: str
    path: str
    status: int
    detail: str

    def describe(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"skipped {self.resource}: GET {self.path} answered HTTP {self.status}{detail}"


@dataclass
class ExtractStats:
    """Counters for the run summary and tests; ``skipped`` by resource, first answer kept."""

    records: Counter = field(default_factory=Counter)
    pages: int = 0
    splits: int = 0
    rechecks: int = 0
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, SkippedResource] = field(default_factory=dict)
    # The ids of the services this run listed: whose per-service answers it then reads.
    service_ids: list[str] = field(default_factory=list)


class Extractor:
    """Runs listings on a thread pool and streams their records into a :class:`Loader`."""

    def __init__(
        self,
        client: PagerDutyClient,
        loader: Loader,
        *,
        workers: int = 6,
        page_size: int = PAGE_SIZE,
        offset_cap: int = OFFSET_CAP,
        progress: Progress | None = None,
    ):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.client = client
        self.loader = loader
        self.workers = workers
        self.page_size = page_size
        self.offset_cap = offset_cap
        self.split_target = max(page_size, offset_cap * 4 // 5)
        self.progress = progress
        self.stats = ExtractStats()
        self._per_service_read = False

    # -- public ------------------------------------------------------------------------------
    def run(
        self, listings: Iterable[Listing], stage: str = "extract", expected: int | None = None
    ) -> None:
        """Fetch every page of every listing and load it; raise on the first hard failure.

        ``listings`` is consumed lazily (a generator of 100,000 alert listings costs nothing
        up front); ``expected`` is its length for progress reports when it has no ``len``.
        """
        source = iter(listings)
        if expected is None and hasattr(listings, "__len__"):
            expected = len(listings)  # type: ignore[arg-type]
        backlog: deque[_Page] = deque()
        known_pages = expected or 0
        done_pages = 0
        in_flight: dict[Future, _Page] = {}
        exhausted = False
        self._report(stage, done_pages, known_pages)
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="pagerlens-fetch")
        try:
            while True:
                while len(in_flight) < 2 * self.workers:
                    if not backlog and not exhausted:
                        listing = next(source, None)
                        if listing is None:
                            exhausted = True
                        elif listing.resource in self.stats.skipped:
                            pass  # its endpoint already said the account cannot serve it
                        else:
                            backlog.append(_Page(_ListingState(listing), 0))
                            if expected is None:
                                known_pages += 1
                    if not backlog:
                        break
                    page = backlog.popleft()
                    in_flight[pool.submit(self._fetch, page)] = page
                if not in_flight:
                    break
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    page = in_flight.pop(future)
                    page.state.pending -= 1
                    try:
                        body = future.result()  # re-raises the worker's PagerDutyError
                    except EndpointUnavailable as exc:
                        if not page.state.listing.optional:
                            raise
                        self._skip(page.state.listing, exc)
                        body = None
                    follow_ups = [] if body is None else self._handle(page, body)
                    known_pages += len(follow_ups)
                    # Follow-up pages of a listing jump the queue: finishing listings early
                    # keeps few listing states alive and lets the loader batch one resource.
                    backlog.extendleft(reversed(follow_ups))
                    done_pages += 1
                    self._report(stage, done_pages, known_pages)
        except BaseException:
            # Stop the other workers' retries at their next attempt instead of letting each
            # one exhaust its budget, then wait for the requests already on the wire.
            self.client.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        self.loader.flush()
        if self.stats.service_ids and not self._per_service_read:
            self._per_service_read = True  # once per extractor, after the services
            self._read_per_service()

    def _read_per_service(self) -> None:
        """Every read of :data:`etl.per_service.PER_SERVICE_READS` for every service listed
        (no list form: one request per service per run; optional, 402/403/404). The first
        service is asked alone: an account without the feature refuses once, not per service."""
        service_ids = list(dict.fromkeys(self.stats.service_ids))
        for read in PER_SERVICE_READS:
            listings = [
                Listing(read.resource, read.path_for(i), read.key, optional=True, record_id=i)
                for i in service_ids
            ]
            self.run(listings[:1], read.resource)
            self.run(listings[1:], read.resource)

    # -- worker side -------------------------------------------------------------------------
    def _fetch(self, page: _Page) -> dict[str, Any]:
        listing = page.state.listing
        params: dict[str, Any] = dict(listing.params)
        if listing.record_id is not None:
            return self.client.get_json(listing.path, params)
        if listing.window is not None:
            params.update(listing.window.params())
        params["limit"] = self.page_size
        params["offset"] = page.offset
        if page.offset == 0:
            params["total"] = "true"
        return self.client.get_json(listing.path, params, expect_list=listing.list_key)

    # -- loader side -------------------------------------------------------------------------
    def _skip(self, listing: Listing, exc: EndpointUnavailable) -> None:
        if listing.resource not in self.stats.skipped:
            skipped = SkippedResource(listing.resource, exc.path, exc.status, exc.detail)
            self.stats.skipped[listing.resource] = skipped
            log.warning("%s; the run goes on without it", skipped.describe())

    def _handle(self, page: _Page, body: dict[str, Any]) -> list[_Page]:
        state = page.state
        listing = state.listing
        self.stats.pages += 1
        if listing.record_id is not None:
            self._handle_object(listing, body)
            return []
        records = body[listing.list_key]
        if listing.resource == "services":  # their per-service answers are read next
            ids = [r.get("id") for r in records if isinstance(r, dict)]
            self.stats.service_ids += [i for i in ids if isinstance(i, str) and _SAFE_ID.match(i)]
        if page.offset == 0:
            total = _as_int(body.get("total"))
            if total is not None and total > self.offset_cap:
                return self._split(listing, total)
            state.total = total
        self.stats.records[listing.resource] += len(records)
        state.received += len(records)
        self.loader.add(listing.resource, records, source=listing.path)

        follow_ups: list[_Page] = []
        if page.offset == 0 and state.total is not None:
            follow_ups = [
                _Page(state, offset)
                for offset in range(self.page_size, state.total, self.page_size)
            ]
        elif state.total is None and body.get("more") and records:
            # No total from the server: walk the pages in order, as `more` says.
            next_offset = page.offset + len(records)
            if next_offset + self.page_size > self.offset_cap:
                if listing.window is not None:
                    return self._split(listing, None)
                raise PagerDutyError(
                    f"{listing.describe()}: more than {self.offset_cap} records and no way "
                    "to narrow the query"
                )
            follow_ups = [_Page(state, next_offset)]
        if state.pending == 0:
            follow_ups = self._check_complete(state)
        return follow_ups

    def _handle_object(self, listing: Listing, body: dict[str, Any]) -> None:
        """A per-service answer: stored whole, keyed by the listing's ``record_id``; a body
        failing its read's check is a rejected page (counted in ``_rejects``), not a failed run."""
        problem = READS_BY_RESOURCE[listing.resource].problem(body.get(listing.list_key))
        if problem is not None:
            self.loader.reject_page(listing.path, problem, body)
            return
        self.stats.records[listing.resource] += 1
        self.loader.add(listing.resource, [{"id": listing.record_id, **body}], listing.path)

    def _check_complete(self, state: _ListingState) -> list[_Page]:
        """Once every page of a listing is in: did we get as many records as announced?"""
        if state.total is None or state.received == state.total:
            return []
        listing = state.listing
        message = (
            f"{listing.describe()}: announced {state.total} records, received {state.received}"
        )
        if state.rechecked:
            # The data moved under us twice; keep what we have (upserts are idempotent) and say so.
            self.stats.warnings.append(message)
            log.warning("%s; keeping what was received", message)
            return []
        log.info("%s; reading the listing again", message)
        self.stats.rechecks += 1
        fresh = _ListingState(listing, rechecked=True)
        return [_Page(fresh, 0)]

    def _split(self, listing: Listing, total: int | None) -> list[_Page]:
        if listing.window is None:
            if listing.fallback is not None:
                self.stats.splits += 1
                return [_Page(_ListingState(item), 0) for item in listing.fallback()]
            raise PagerDutyError(
                f"{listing.describe()}: {total} records exceed the API's offset limit of "
                f"{self.offset_cap} and the query cannot be split"
            )
        parts = 2 if total is None else max(2, math.ceil(total / self.split_target))
        pieces = listing.window.split(parts)
        if len(pieces) < 2:
            raise PagerDutyError(
                f"{listing.describe()}: more than {self.offset_cap} records in one second; "
                "the API cannot page through them"
            )
        self.stats.splits += 1
        log.debug(
            "splitting %s (%s records) into %d windows", listing.describe(), total, len(pieces)
        )
        return [_Page(_ListingState(replace(listing, window=piece)), 0) for piece in pieces]

    def _report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None


# -- what a run reads ----------------------------------------------------------------------------
# Resources a run can do without when the account's plan, the key's scope or the account's
# configuration withholds them (HTTP 402/403/404): the run skips them, says so in _sync_runs,
# _sync_skips and the skipped_resources mart, and the marts build without them. Incidents, log
# entries, alerts and services are required: they are the incidents, their timeline (MTTA,
# MTTR, responders) and what every metric is grouped by, readable on every plan by any key, so
# a refusal there means a wrong key or URL and fails the run. docs/etl.md gives each reason.
OPTIONAL_RESOURCES = frozenset(
    {
        "teams",
        "users",
        "escalation_policies",
        "schedules",
        "priorities",
        "oncalls",
        "maintenance_windows",
        "service_orchestrations",
        "service_dependencies",
    }
)

REFERENCE_LISTINGS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("services", "/services", {}),
    ("teams", "/teams", {}),
    # Contact methods ride along in the same pages (no extra requests); the marts use their
    # types for the interruption metrics.
    ("users", "/users", {"include[]": ["contact_methods"]}),
    ("escalation_policies", "/escalation_policies", {}),
    ("schedules", "/schedules", {}),
    ("priorities", "/priorities", {}),
    # Past, ongoing and future: the recommendations must not propose a window already booked.
    ("maintenance_windows", "/maintenance_windows", {"filter": "all"}),
)


def reference_listings() -> list[Listing]:
    """The small, whole-account resources, re-read in full every run (a few pages each)."""
    return [
        Listing(name, path, name, dict(params), optional=name in OPTIONAL_RESOURCES)
        for name, path, params in REFERENCE_LISTINGS
    ]


def incident_listings(
    since: datetime, until: datetime, statuses: tuple[str, ...] = ()
) -> list[Listing]:
    """Incidents created in ``[since, until)``, in windows the API accepts."""
    params: dict[str, Any] = {}
    if statuses:
        params["statuses[]"] = list(statuses)
    return [
        Listing("incidents", "/incidents", "incidents", dict(params), window)
        for window in windows(since, until, MAX_INCIDENT_WINDOW)
    ]


def open_incident_listing(scope_since: datetime, until: datetime) -> Listing:
    """Every still-open incident, whatever its age (the loader keeps those in scope)."""
    statuses = ("triggered", "acknowledged")
    return Listing(
        "incidents",
        "/incidents",
        "incidents",
        {"statuses[]": list(statuses), "date_range": "all"},
        fallback=lambda: incident_listings(scope_since, until, statuses),
    )


def log_entry_listings(since: datetime, until: datetime, *, with_incidents: bool) -> list[Listing]:
    """Account-wide log entries created in ``[since, until)``.

    ``include[]=channels`` keeps the trigger entries' alert content (summary, details,
    cef_details), which is what lets most incidents skip the per-incident alerts call.
    ``include[]=incidents`` (incremental runs) brings the current state of every touched
    incident inline, at no extra request.
    """
    includes = ["channels"] + (["incidents"] if with_incidents else [])
    return [
        Listing("log_entries", "/log_entries", "log_entries", {"include[]": includes}, window)
        for window in windows(since, until, MAX_INCIDENT_WINDOW)
    ]


def oncall_listings(since: datetime, until: datetime) -> list[Listing]:
    """On-call entries overlapping ``[since, until)``."""
    return [
        Listing("oncalls", "/oncalls", "oncalls", {}, window, optional=True)
        for window in windows(since, until, MAX_ONCALL_WINDOW)
    ]


def alert_listings(incident_ids: Iterable[str]) -> Iterator[Listing]:
    """``/incidents/{id}/alerts`` for each id (ids that could break the path are skipped)."""
    for incident_id in incident_ids:
        if not _SAFE_ID.match(incident_id):
            log.warning("skipping alerts of an incident with an unexpected id %r", incident_id[:70])
            continue
        yield Listing("alerts", f"/incidents/{incident_id}/alerts", "alerts")
