"""Requests and responses of the simulated PagerDuty: errors, query strings, times, JSON.

PagerDuty's error body (``{"error": {"message", "code", "errors"}}``), the query string with
``x[]`` arrays, ``since``/``until``/``time_zone`` parsing (naive times are read in the given
zone), timestamps rendered in a ``time_zone``, and the one JSON encoder of the server.
"""

from __future__ import annotations

import calendar
import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d\d-\d\d$")
FAR_PAST = float("-inf")


class ApiError(Exception):
    """An error answered with PagerDuty's error body ``{"error": {message, code, errors}}``."""

    def __init__(self, status: int, message: str, code: int, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = list(errors)

    def body(self) -> bytes:
        """The JSON error body."""
        error: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            error["errors"] = self.errors
        return dumps({"error": error})


def invalid(*errors: str) -> ApiError:
    return ApiError(400, "Invalid Input Provided", 2001, errors)


def not_found() -> ApiError:
    return ApiError(404, "Not Found", 2100)


def status_error(status: int) -> ApiError:
    messages = {
        401: ("Authentication Required", 2006),
        405: ("Method Not Allowed", 2000),
        429: ("Rate Limit Exceeded", 2020),
        500: ("Internal Server Error", 2000),
        502: ("Bad Gateway", 2000),
        503: ("Service Unavailable", 2000),
        504: ("Gateway Timeout", 2000),
    }
    message, code = messages.get(status, ("Error", 2000))
    return ApiError(status, message, code)


# One encoder for the process: json.dumps(**kwargs) builds a new one per call (~30% slower).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def dumps(obj: Any) -> bytes:
    return _ENCODER.encode(obj).encode()


def epoch_of(value: str | None) -> float:
    """Epoch seconds of an ISO 8601 timestamp string from the account."""
    if value is None:
        return FAR_PAST
    return datetime.fromisoformat(value).timestamp()


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by calendar months, the day clamped to the target month's length."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def iso_utc(moment: datetime) -> str:
    if moment.utcoffset() == timedelta(0):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="seconds")


def render_in_zone(obj: Any, tz: ZoneInfo) -> Any:
    """Every UTC timestamp string in ``obj`` rendered in ``tz`` (the ``time_zone`` param)."""
    if isinstance(obj, dict):
        return {key: render_in_zone(value, tz) for key, value in obj.items()}
    if isinstance(obj, list):
        return [render_in_zone(value, tz) for value in obj]
    if isinstance(obj, str) and _ISO_UTC.match(obj):
        return datetime.fromisoformat(obj).astimezone(tz).isoformat(timespec="seconds")
    return obj


def reference(obj: dict) -> dict:
    """The ``*reference`` form of a full object (what PagerDuty sends when not included)."""
    kind = str(obj.get("type", "")).removesuffix("reference")
    ref = {"id": obj.get("id"), "type": f"{kind}reference"}
    for key in ("summary", "self", "html_url"):
        if key in obj:
            ref[key] = obj[key]
    return ref


def reference_as(obj: dict, kind: str) -> dict:
    """The ``<kind>_reference`` form of a full object: its id, then whichever of summary, self
    and html_url it has (a trigger log entry, an incident, a service, a user)."""
    ref = {"id": obj["id"], "type": f"{kind}_reference"}
    ref.update({key: obj[key] for key in ("summary", "self", "html_url") if key in obj})
    return ref


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Query:
    """The query string of one request: repeated keys kept, ``x[]`` and ``x`` both accepted."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.values: dict[str, list[str]] = {}
        for key, value in pairs:
            self.values.setdefault(key, []).append(value)

    def one(self, name: str) -> str | None:
        values = self.values.get(name)
        return values[-1] if values else None

    def many(self, name: str) -> list[str]:
        """Values of an array parameter, from ``name[]`` (PagerDuty's form) or ``name``."""
        out: list[str] = []
        for key in (f"{name}[]", name):
            for value in self.values.get(key, []):
                # Comma-separated lists are accepted too (form style, explode=false).
                out.extend(part for part in value.split(",") if part)
        return out

    def flag(self, name: str) -> bool:
        value = self.one(name)
        if value is None or value == "":
            return False
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise invalid(f"{name} must be true or false")

    def as_log_dict(self) -> dict[str, str | list[str]]:
        """Query for the request log: ``x[]`` keys always lists, others a list only if repeated."""
        return {
            key: list(values) if key.endswith("[]") or len(values) > 1 else values[0]
            for key, values in self.values.items()
        }


def parse_time(name: str, value: str, tz: ZoneInfo) -> datetime:
    """A ``since``/``until`` value: a date or ISO 8601 timestamp, naive ones read in ``tz``."""
    text = value.strip()
    # An unencoded "+" in a query string arrives as a space: "...T00:00:00 02:00".
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", text)
    try:
        if _DATE_ONLY.match(text):
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=tz)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"{name} is not a valid date/time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def parse_zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"time_zone {name!r} is not a valid time zone") from None


def render_zone(query: Query) -> ZoneInfo | None:
    """The ``time_zone`` to render in, or None for UTC as stored."""
    name = query.one("time_zone")
    if not name or name in ("UTC", "Etc/UTC"):
        return None
    return parse_zone(name, ZoneInfo("UTC"))
