"""PagerDuty's Analytics over HTTP, for ``pagerlens reconcile``.

Three POST endpoints through the project's one client (:mod:`etl.pd_client`: loopback-only
http, the shared rate limiter, bounded retries, the token only inside the client):
``/analytics/raw/incidents`` (cursor paging, 1,000 rows a page),
``/analytics/metrics/incidents/services`` (``aggregate_unit: week``) and
``/analytics/metrics/responders/all``. Each request covers at most one year (the API's
limit), so a longer period is split. An endpoint answering 402, 403 or 404 is recorded as
refused with PagerDuty's message (the plan or the key lacks Analytics) and the rest goes on;
any other failure raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from etl.pd_client import PagerDutyClient, PagerDutyError, post_json

RAW_INCIDENTS = "/analytics/raw/incidents"
SERVICE_METRICS = "/analytics/metrics/incidents/services"
RESPONDER_METRICS = "/analytics/metrics/responders/all"
ENDPOINTS = (RAW_INCIDENTS, SERVICE_METRICS, RESPONDER_METRICS)
PAGE_LIMIT = 1000
CHUNK_WEEKS = 52  # 364 days: within the API's one-year limit, whole weeks
ACCESS_STATUSES = frozenset({402, 403, 404})


class AccessRefused(Exception):
    """PagerDuty refused an Analytics endpoint (402, 403 or 404)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Analytics:
    """What PagerDuty's Analytics returned for a period, and what it refused."""

    raw_incidents: list[dict] = field(default_factory=list)
    raw_time_zone: str | None = None
    service_weeks: list[dict] = field(default_factory=list)
    service_time_zone: str | None = None
    responders: list[dict] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # endpoint -> why
    requests: int = 0


def year_chunks(
    since: datetime, until: datetime, zone: str = "UTC"
) -> list[tuple[datetime, datetime]]:
    """``[since, until)`` cut into consecutive pieces of 52 weeks (the last shorter).

    The cuts fall at ``since``'s weekday and wall-clock time in ``zone``, so when ``since`` is
    a Monday 00:00 there, no reporting week is split between two requests.
    """
    chunks = []
    start = pd.Timestamp(since).tz_convert(zone)
    end_of_all = pd.Timestamp(until).tz_convert(zone)
    while start < end_of_all:
        end = min(end_of_all, start + pd.DateOffset(weeks=CHUNK_WEEKS))
        chunks.append((start.to_pydatetime(), end.to_pydatetime()))
        start = end
    return chunks


def fetch_analytics(
    client: PagerDutyClient, since: datetime, until: datetime, time_zone: str
) -> Analytics:
    """Everything reconcile compares, for incidents created in ``[since, until)``."""
    result = Analytics()
    steps = (
        (RAW_INCIDENTS, _fetch_raw),
        (SERVICE_METRICS, _fetch_service_weeks),
        (RESPONDER_METRICS, _fetch_responders),
    )
    for endpoint, step in steps:
        try:
            for start, end in year_chunks(since, until, time_zone):
                step(client, result, start, end, time_zone)
        except AccessRefused as refused:
            result.refused[endpoint] = f"HTTP {refused.status}: {refused}"
    return result


def _post(client: PagerDutyClient, result: Analytics, path: str, body: dict) -> dict[str, Any]:
    result.requests += 1
    status, decoded, message = post_json(client, path, body)
    if status in ACCESS_STATUSES:
        raise AccessRefused(status, message)
    if decoded is None:
        raise PagerDutyError(message)
    return decoded


def _window(start: datetime, end: datetime, names=("created_at_start", "created_at_end")) -> dict:
    return {names[0]: start.isoformat(), names[1]: end.isoformat()}


def _fetch_raw(client, result: Analytics, start: datetime, end: datetime, zone: str) -> None:
    body: dict[str, Any] = {
        "filters": _window(start, end),
        "limit": PAGE_LIMIT,
        "order": "asc",
        "order_by": "created_at",
        "time_zone": zone,
    }
    while True:
        page = _post(client, result, RAW_INCIDENTS, body)
        data = page.get("data")
        if not isinstance(data, list):
            raise PagerDutyError(f"POST {RAW_INCIDENTS}: the answer has no data list")
        result.raw_incidents.extend(data)
        result.raw_time_zone = page.get("time_zone") or zone
        if not page.get("more") or not data or not page.get("last"):
            return
        body = dict(body, starting_after=page["last"])


def _fetch_service_weeks(client, result: Analytics, start, end, zone: str) -> None:
    body = {"filters": _window(start, end), "aggregate_unit": "week", "time_zone": zone}
    page = _post(client, result, SERVICE_METRICS, body)
    result.service_weeks.extend(page.get("data") or [])
    result.service_time_zone = page.get("time_zone") or zone


def _fetch_responders(client, result: Analytics, start, end, zone: str) -> None:
    names = ("date_range_start", "date_range_end")
    body = {"filters": _window(start, end, names), "time_zone": zone}
    page = _post(client, result, RESPONDER_METRICS, body)
    result.responders.extend(page.get("data") or [])
