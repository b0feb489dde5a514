"""``POST /analytics/raw/incidents``, ``/analytics/metrics/incidents/services`` and
``/analytics/metrics/responders/all`` of the simulated PagerDuty.

Request bodies follow the spec: ``filters`` (``created_at_start``/``created_at_end``, or
``date_range_start``/``date_range_end`` for responders; at most one year apart, else 400;
``service_ids``, ``team_ids``, ``urgency``, ``major``), ``time_zone`` (tzdata name, default
the account's), raw incidents paged with ``limit`` (1-1000, default 20) and the opaque cursors
``starting_after``/``ending_before``, ``order`` asc/desc (default desc) by ``created_at``;
metrics with ``aggregate_unit`` (``week`` is served; none = the whole period). The figures
come from :mod:`simulator.analytics` with the server's :class:`AnalyticsSettings`: when its
``access`` is 402 or 403 every request answers that status.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.analytics import AccountAnalytics, AnalyticsSettings
from simulator.analytics_rollup import raw_incident, responders_all, service_weeks
from simulator.index import AccountIndex
from simulator.protocol import ApiError, dumps, invalid, not_found

MAX_RANGE = timedelta(days=366)  # "The maximum supported time range ... is one year."
MAX_LIMIT = 1000
DEFAULT_LIMIT = 20
ACCESS_ERRORS = {
    402: ("Payment Required: this account's plan does not include Analytics", 2012),
    403: ("Access Denied: the API key has no access to Analytics", 2010),
}
_CACHE: OrderedDict[tuple, AccountAnalytics] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def analytics_for(
    index: AccountIndex, now: datetime, settings: AnalyticsSettings
) -> AccountAnalytics:
    """The account's Analytics at ``now`` under ``settings`` (a few recent ones are kept)."""
    key = (id(index), now, repr(settings))
    with _CACHE_LOCK:
        found = _CACHE.get(key)
    if found is None:
        found = AccountAnalytics(index, now, settings)
        with _CACHE_LOCK:
            _CACHE[key] = found
            while len(_CACHE) > 8:
                _CACHE.popitem(last=False)
    return found


def handle(
    index: AccountIndex, now: datetime, settings: AnalyticsSettings, path: str, raw: bytes
) -> bytes:
    """The JSON reply to one Analytics POST (raises :class:`ApiError` on a refusal)."""
    if settings.access in ACCESS_ERRORS:
        message, code = ACCESS_ERRORS[settings.access]
        raise ApiError(settings.access, message, code)
    routes = {
        "/analytics/raw/incidents": _raw_incidents,
        "/analytics/metrics/incidents/services": _service_metrics,
        "/analytics/metrics/responders/all": _responders,
    }
    route = routes.get(path)
    if route is None:
        raise not_found()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise invalid("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    return dumps(route(analytics_for(index, now, settings), body, now))


def _zone(body: dict, default: ZoneInfo) -> ZoneInfo:
    name = body.get("time_zone")
    if name is None:
        return default
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"time_zone {name!r} is not a tzdata zone") from None


def _instant(name: str, value: Any, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{name} must be an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _range(filters: dict, names: tuple[str, str], zone: ZoneInfo, now: datetime):
    """The [start, end) epoch range of a request; more than one year is refused."""
    start_name, end_name = names
    end = _instant(end_name, filters[end_name], zone) if end_name in filters else now
    start = (
        _instant(start_name, filters[start_name], zone)
        if start_name in filters
        else end - timedelta(days=30)
    )
    if end <= start:
        raise invalid(f"{end_name} must be after {start_name}")
    if end - start > MAX_RANGE:
        raise invalid(f"the range from {start_name} to {end_name} exceeds one year")
    return start.timestamp(), end.timestamp()


def _selected(analytics: AccountAnalytics, filters: dict, start: float, end: float) -> list[dict]:
    """The rows the filters keep, ascending ``created_at`` then incident number."""
    service_ids = set(filters.get("service_ids") or [])
    team_ids = set(filters.get("team_ids") or [])
    urgency, major = filters.get("urgency"), filters.get("major")
    if urgency is not None and urgency not in ("high", "low"):
        raise invalid("urgency must be high or low")
    return [
        row
        for row in analytics.rows
        if start <= row["created_at"] < end
        and (not service_ids or row["service"]["id"] in service_ids)
        and (not team_ids or (row["team"] or {}).get("id") in team_ids)
        and (urgency is None or row["urgency"] == urgency)
        and (major is None or row["major"] == bool(major))
    ]


def _raw_incidents(analytics: AccountAnalytics, body: dict, now: datetime) -> dict[str, Any]:
    zone = _zone(body, analytics.account_zone)
    filters = body.get("filters") or {}
    start, end = _range(filters, ("created_at_start", "created_at_end"), zone, now)
    limit = body.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"limit must be an integer from 1 to {MAX_LIMIT}")
    order = body.get("order", "desc")
    if order not in ("asc", "desc") or body.get("order_by", "created_at") != "created_at":
        raise invalid("order must be asc or desc, order_by created_at")
    rows = _selected(analytics, filters, start, end)
    if order == "desc":
        rows = rows[::-1]
    ids = [row["id"] for row in rows]
    lo, hi = 0, len(rows)
    if body.get("starting_after"):
        lo = _cursor(ids, body["starting_after"]) + 1
    if body.get("ending_before"):
        hi = _cursor(ids, body["ending_before"])
        lo = max(lo, hi - limit)
    page = rows[lo : min(hi, lo + limit)]
    as_of = analytics.as_of.timestamp()
    return {
        "first": page[0]["id"] if page else "",
        "last": page[-1]["id"] if page else "",
        "limit": limit,
        "more": lo + len(page) < hi,
        "order": order,
        "order_by": "created_at",
        "filters": filters,
        "time_zone": zone.key,
        "data": [raw_incident(row, zone, as_of) for row in page],
    }


def _cursor(ids: list[str], cursor: Any) -> int:
    try:
        return ids.index(str(cursor))
    except ValueError:
        raise invalid("unknown cursor") from None


def _service_metrics(analytics: AccountAnalytics, body: dict, now: datetime) -> dict[str, Any]:
    requested = _zone(body, analytics.account_zone)
    filters = body.get("filters") or {}
    start, end = _range(filters, ("created_at_start", "created_at_end"), requested, now)
    unit = body.get("aggregate_unit")
    if unit != "week":
        raise invalid("the simulator serves aggregate_unit week only")
    zone = requested
    if analytics.settings.has("weeks_in_account_zone"):
        zone = analytics.account_zone
    weeks = service_weeks(analytics, _selected(analytics, filters, start, end), zone)
    for week in weeks:
        week.update(analytics.settings.tamper_service_weeks.get(week["service_id"], {}))
    return {"aggregate_unit": unit, "filters": filters, "time_zone": zone.key, "data": weeks}


def _responders(analytics: AccountAnalytics, body: dict, now: datetime) -> dict[str, Any]:
    zone = _zone(body, analytics.account_zone)
    filters = body.get("filters") or {}
    start, end = _range(filters, ("date_range_start", "date_range_end"), zone, now)
    rows = _selected(analytics, filters, start, end)
    return {
        "filters": filters,
        "time_zone": zone.key,
        "data": [responders_all(analytics, rows, start, end)],
    }
