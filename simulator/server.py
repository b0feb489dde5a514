"""The simulated PagerDuty: a real HTTP server speaking a subset of REST API v2.

:class:`SimServer` serves a :class:`~simulator.account.SimAccount` on loopback with the
shapes of PagerDuty's OpenAPI spec (``PagerDuty/api-schema``, ``reference/REST/openapiv3.json``):
classic pagination, ``since``/``until`` windows, token auth, ``ratelimit-*`` headers and HTTP 429,
plus seeded fault injection (:mod:`simulator.faults`) and a request log that tests assert
on. The account is shown *as of* the server's clock (default ``account.end``): incidents and
log entries created after the clock do not exist, and statuses are the ones at the clock.

Behaviour worth knowing when writing a client (documented in ``docs/simulator.md``):

* ``/incidents``: ``created_at`` in ``[since, until)``; default ``until`` = clock and
  ``since`` = ``until`` minus one calendar month; more than six calendar months -> 400;
  ``date_range=all`` ignores both. Order: ``created_at`` ascending, ties by
  ``incident_number``, unless ``sort_by`` says otherwise.
* ``/log_entries`` and ``/incidents/{id}/log_entries``: newest first, entries with the same
  ``created_at`` in descending ``id`` order (the exact reverse of ascending
  ``(created_at, id)``). ``/log_entries`` defaults to the month before the clock, with no
  maximum range. ``is_overview=true`` leaves out ``notify_log_entry``. Without
  ``include[]=channels`` a trigger entry's channel loses its ``details``/``cef_details``/
  ``body``.
* ``/oncalls``: periods overlapping ``[since, until]`` (default: the clock), ``start``/``end``
  not clipped to the range.
* ``limit`` defaults to 25 and is clamped to 100; ``offset + limit > 10000`` -> 400.

Paging is cheap: incidents and log entries are indexed by ``created_at`` (bisect), so an
unfiltered page costs O(page); a filtered query scans its window once and its result list is
cached per clock (a new log entry filter scans all entries once, then is kept); each object is
serialised once per clock and variant (log entries once for all clocks).
"""

from __future__ import annotations

import bisect
import calendar
import hashlib
import ipaddress
import json
import logging
import math
import re
import socket
import ssl
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.faults import ERROR_STATUS_KINDS, Fault, FaultSpec

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
# PagerDuty refuses classic pagination past this many records (offset + limit).
MAX_OFFSET_PLUS_LIMIT = 10_000
# /incidents: "Maximum range is 6 months and default is 1 month" (listIncidents, since/until).
INCIDENT_DEFAULT_MONTHS = 1
INCIDENT_MAX_MONTHS = 6
LOG_ENTRY_DEFAULT_MONTHS = 1
# Entry types left out by is_overview=true: the per-responder notification noise.
NON_OVERVIEW_TYPES = frozenset({"notify_log_entry"})
# Parts of a trigger entry's channel PagerDuty only sends with include[]=channels.
CHANNEL_DETAIL_KEYS = frozenset({"details", "cef_details", "body"})
INCIDENT_INCLUDES = frozenset(
    {
        "services",
        "teams",
        "escalation_policies",
        "first_trigger_log_entries",
        "assignees",
        "acknowledgers",
        "priorities",
    }
)
LOG_ENTRY_INCLUDES = frozenset({"incidents", "services", "channels", "teams"})
USER_INCLUDES = frozenset({"contact_methods", "notification_rules"})
# sort_by=urgency:desc puts high-urgency incidents first.
URGENCY_RANK = {"low": 0, "high": 1}
_QUERY_CACHE_SIZE = 512
_FRAGMENT_CACHE_SIZE = 400_000

_ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d\d-\d\d$")
_FAR_PAST = float("-inf")


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
        return _dumps({"error": error})


def _invalid(*errors: str) -> ApiError:
    return ApiError(400, "Invalid Input Provided", 2001, errors)


def _not_found() -> ApiError:
    return ApiError(404, "Not Found", 2100)


def _status_error(status: int) -> ApiError:
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


# --------------------------------------------------------------------------- small helpers


# One encoder for the process: json.dumps(**kwargs) builds a new one per call (~30% slower).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def _dumps(obj: Any) -> bytes:
    return _ENCODER.encode(obj).encode()


def _ts(value: str | None) -> float:
    """Epoch seconds of an ISO 8601 timestamp string from the account."""
    if value is None:
        return _FAR_PAST
    return datetime.fromisoformat(value).timestamp()


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by calendar months, the day clamped to the target month's length."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _iso(moment: datetime) -> str:
    if moment.utcoffset() == timedelta(0):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="seconds")


def _render_tz(obj: Any, tz: ZoneInfo) -> Any:
    """Every UTC timestamp string in ``obj`` rendered in ``tz`` (the ``time_zone`` param)."""
    if isinstance(obj, dict):
        return {key: _render_tz(value, tz) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_render_tz(value, tz) for value in obj]
    if isinstance(obj, str) and _ISO_UTC.match(obj):
        return datetime.fromisoformat(obj).astimezone(tz).isoformat(timespec="seconds")
    return obj


def _reference(obj: dict) -> dict:
    """The ``*_reference`` form of a full object (what PagerDuty sends when not included)."""
    kind = str(obj.get("type", "")).removesuffix("_reference")
    ref = {"id": obj.get("id"), "type": f"{kind}_reference"}
    for key in ("summary", "self", "html_url"):
        if key in obj:
            ref[key] = obj[key]
    return ref


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _Query:
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
        raise _invalid(f"{name} must be true or false")

    def as_log_dict(self) -> dict[str, str | list[str]]:
        """Query for the request log: ``x[]`` keys always lists, others a list only if repeated."""
        return {
            key: list(values) if key.endswith("[]") or len(values) > 1 else values[0]
            for key, values in self.values.items()
        }


def _parse_time(name: str, value: str, tz: ZoneInfo) -> datetime:
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
        raise _invalid(f"{name} is not a valid date/time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(f"time_zone {name!r} is not a valid time zone") from None


@dataclass(frozen=True)
class _Page:
    offset: int
    limit: int
    want_total: bool

    @classmethod
    def parse(cls, query: _Query) -> _Page:
        try:
            limit = int(query.one("limit") or DEFAULT_LIMIT)
            offset = int(query.one("offset") or 0)
        except ValueError:
            raise _invalid("limit and offset must be integers") from None
        if limit < 1 or offset < 0:
            raise _invalid("limit must be positive and offset must not be negative")
        limit = min(limit, MAX_LIMIT)  # PagerDuty clamps rather than refusing
        if offset + limit > MAX_OFFSET_PLUS_LIMIT:
            raise _invalid(
                f"Offset + limit must not exceed {MAX_OFFSET_PLUS_LIMIT}; "
                "narrow the query (for example a shorter since/until window)"
            )
        return cls(offset, limit, query.flag("total"))

    def body(self, wrapper: str, fragments: Sequence[bytes], count: int) -> bytes:
        """The wrapped list body; ``fragments`` is this page, ``count`` all matching records."""
        total = str(count).encode() if self.want_total else b"null"
        more = b"true" if self.offset + len(fragments) < count else b"false"
        return b"".join(
            (
                b'{"',
                wrapper.encode(),
                b'":[',
                b",".join(fragments),
                b'],"limit":',
                str(self.limit).encode(),
                b',"offset":',
                str(self.offset).encode(),
                b',"more":',
                more,
                b',"total":',
                total,
                b"}",
            )
        )

    def slice(self, count: int) -> range:
        return range(self.offset, min(self.offset + self.limit, count))


# --------------------------------------------------------------------------- the index


class _AccountIndex:
    """Everything about the account that does not depend on the clock, indexed once."""

    def __init__(self, account: Any) -> None:
        # No reference to the account itself is kept: see _index_for.
        self.tz = ZoneInfo(getattr(account, "account_time_zone", None) or "UTC")
        self.incidents = sorted(
            account.incidents,
            key=lambda sim: (
                _ts(sim.incident["created_at"]),
                sim.incident.get("incident_number", 0),
            ),
        )
        self.incident_ts = [_ts(sim.incident["created_at"]) for sim in self.incidents]
        self.incident_pos = {sim.incident["id"]: pos for pos, sim in enumerate(self.incidents)}

        rows = [
            (_ts(entry["created_at"]), entry["id"], pos, entry)
            for pos, sim in enumerate(self.incidents)
            for entry in sim.log_entries
        ]
        rows.sort(key=lambda row: (row[0], row[1]))
        self.entry_ts = [row[0] for row in rows]
        self.entry_incident = [row[2] for row in rows]
        self.entries = [row[3] for row in rows]
        self.entry_teams = [self._entry_team_ids(row[3], row[2]) for row in rows]
        self.incident_entries: list[list[int]] = [[] for _ in self.incidents]
        for gidx, pos in enumerate(self.entry_incident):
            self.incident_entries[pos].append(gidx)
        self._subsets: dict[tuple[bool, frozenset[str] | None], tuple[list[float], list[int]]] = {}
        self._subset_lock = threading.Lock()

        def by_name(items: Iterable[dict]) -> list[dict]:
            return sorted(items, key=lambda item: (str(item.get("name", "")).lower(), item["id"]))

        self.catalogs: dict[str, list[dict]] = {
            "services": by_name(account.services),
            "teams": by_name(account.teams),
            "users": by_name(account.users),
            "escalation_policies": by_name(account.escalation_policies),
            "schedules": by_name(account.schedules),
            # PagerDuty lists priorities in their configured order, not by name.
            "priorities": list(account.priorities),
        }
        self.by_id: dict[str, dict[str, dict]] = {
            name: {item["id"]: item for item in items} for name, items in self.catalogs.items()
        }
        self.catalog_fragments: dict[tuple[str, int, frozenset[str]], bytes] = {}
        # Log entries never change; only their embedded incident depends on the clock, so
        # variants without include[]=incidents are cached here, shared by every clock.
        self.entry_fragments: dict[tuple, bytes] = {}

        def oncall_key(oncall: dict) -> tuple:
            return (
                _ts(oncall.get("start")),
                (oncall.get("escalation_policy") or {}).get("id", ""),
                oncall.get("escalation_level", 0),
                (oncall.get("user") or {}).get("id", ""),
            )

        self.oncalls = sorted(account.oncalls, key=oncall_key)
        self.oncall_start = [_ts(o.get("start")) for o in self.oncalls]
        self.oncall_end = [_ts(o["end"]) if o.get("end") else math.inf for o in self.oncalls]
        finite = [
            end - start
            for start, end in zip(self.oncall_start, self.oncall_end, strict=True)
            if start != _FAR_PAST and end != math.inf
        ]
        self.longest_oncall = max(finite, default=0.0)
        self.permanent_oncalls = [
            i
            for i, start in enumerate(self.oncall_start)
            if start == _FAR_PAST or self.oncall_end[i] == math.inf
        ]
        self.oncall_fragments = [_dumps(o) for o in self.oncalls]

    def _entry_team_ids(self, entry: dict, pos: int) -> frozenset[str]:
        teams = entry.get("teams")
        if teams is None:
            teams = self.incidents[pos].incident.get("teams") or []
        return frozenset(team["id"] for team in teams)

    def entry_subset(
        self, overview: bool, team_ids: frozenset[str] | None
    ) -> tuple[list[float], list[int]]:
        """Sorted (created_at, global index) arrays of the entries a filter keeps.

        Built on first use and kept: the clock only moves a cut-off inside these arrays.
        """
        key = (overview, team_ids)
        found = self._subsets.get(key)
        if found is not None:
            return found
        with self._subset_lock:
            found = self._subsets.get(key)
            if found is None:
                if not overview and not team_ids:
                    found = (self.entry_ts, list(range(len(self.entries))))
                else:
                    keep = [
                        gidx
                        for gidx, entry in enumerate(self.entries)
                        if (not overview or entry.get("type") not in NON_OVERVIEW_TYPES)
                        and (not team_ids or self.entry_teams[gidx] & team_ids)
                    ]
                    found = ([self.entry_ts[g] for g in keep], keep)
                self._subsets[key] = found
        return found


_INDEXES: dict[int, tuple[weakref.ref, _AccountIndex]] = {}
_INDEXES_LOCK = threading.Lock()


def _index_for(account: Any) -> _AccountIndex:
    """The index of ``account``, shared by every server of that same account object.

    Test suites start many servers over one session account; indexing and serialising it
    once keeps each new server cheap. Entries die with their account (weak reference).
    """
    with _INDEXES_LOCK:
        for key, (ref, _) in list(_INDEXES.items()):
            if ref() is None:
                del _INDEXES[key]
        found = _INDEXES.get(id(account))
        if found is not None and found[0]() is account:
            return found[1]
        index = _AccountIndex(account)
        _INDEXES[id(account)] = (weakref.ref(account), index)
        return index


# --------------------------------------------------------------------------- clock state


class _Snapshot:
    """The account as of one clock value: incident states and caches valid at that clock."""

    def __init__(self, index: _AccountIndex, now: datetime) -> None:
        self.index = index
        self.now = now
        self.now_ts = now.timestamp()
        # Incidents with created_at <= now exist; the index is sorted by created_at.
        self.incident_count = bisect.bisect_right(index.incident_ts, self.now_ts)
        self._states: dict[int, tuple[dict, list[dict], list[dict]]] = {}
        self._fragments: dict[tuple, bytes] = {}
        self._queries: OrderedDict[tuple, list[int]] = OrderedDict()
        self._lock = threading.Lock()

    def state(self, pos: int) -> tuple[dict, list[dict], list[dict]]:
        """``SimIncident.as_of(now)`` for the incident at ``pos``, computed once per clock."""
        state = self._states.get(pos)
        if state is None:
            state = self.index.incidents[pos].as_of(self.now)
            if state is None:  # created after the clock: callers check incident_count first
                raise _not_found()
            self._states[pos] = state
        return state

    def fragment(self, key: tuple, build: Callable[[], bytes]) -> bytes:
        """A cached serialised object (the key names object, variant and time zone)."""
        found = self._fragments.get(key)
        if found is None:
            found = build()
            if len(self._fragments) >= _FRAGMENT_CACHE_SIZE:
                self._fragments.clear()  # a crude bound; refills from the hot pages
            self._fragments[key] = found
        return found

    def query(self, key: tuple, compute: Callable[[], list[int]]) -> list[int]:
        """A cached filtered/sorted result list, so paging through it costs O(page)."""
        with self._lock:
            found = self._queries.get(key)
            if found is not None:
                self._queries.move_to_end(key)
                return found
        found = compute()
        with self._lock:
            self._queries[key] = found
            if len(self._queries) > _QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return found


# --------------------------------------------------------------------------- rate limiting


class _RateLimiter:
    """Token buckets per credential: ``rate_per_minute`` capacity, refilled continuously.

    Headers follow PagerDuty: ``ratelimit-limit`` (requests per minute), ``ratelimit-remaining``
    (whole tokens left) and ``ratelimit-reset`` (seconds until the bucket is full again; on a
    429, seconds until a request will be accepted, the same as ``Retry-After``).
    """

    def __init__(self, rate_per_minute: int) -> None:
        if rate_per_minute < 1:
            raise ValueError("rate_per_minute must be at least 1")
        self.capacity = float(rate_per_minute)
        self.refill_per_second = rate_per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - last) * self.refill_per_second)

    def take(self, credential: str, consume: bool = True) -> tuple[bool, dict[str, str]]:
        """Try to spend one token; returns (allowed, headers). ``consume=False`` only peeks."""
        # Buckets are keyed by a digest so the credential itself is never kept around.
        key = hashlib.sha256(credential.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            tokens = self._level(key, now)
            allowed = tokens >= 1.0
            if allowed and consume:
                tokens -= 1.0
            if consume:
                if len(self._buckets) > 10_000:
                    self._buckets.clear()
                self._buckets[key] = (tokens, now)
        headers = {
            "ratelimit-limit": str(int(self.capacity)),
            "ratelimit-remaining": str(int(tokens)),
        }
        if allowed:
            headers["ratelimit-reset"] = str(
                math.ceil((self.capacity - tokens) / self.refill_per_second)
            )
        else:
            wait = max(1, math.ceil((1.0 - tokens) / self.refill_per_second))
            headers["ratelimit-reset"] = str(wait)
            headers["Retry-After"] = str(wait)
        return allowed, headers


# --------------------------------------------------------------------------- request log


@dataclass(frozen=True)
class RequestRecord:
    """One API request as the server saw it (admin ``/_sim/*`` requests are not logged).

    ``query`` keeps ``x[]`` keys as lists and other keys as strings (a list if repeated);
    ``status`` is None for a dropped connection; ``fault`` names an injected fault;
    ``duration`` is seconds from reading the request line to having the response ready
    (including injected delays), ``started_at`` the wall-clock time the request arrived.
    """

    number: int
    method: str
    path: str
    query: dict[str, str | list[str]]
    status: int | None
    duration: float
    fault: str | None = None
    started_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``/_sim/requests``)."""
        return asdict(self)


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    content_length: int | None = None  # larger than len(body) for the truncated fault
    abort: bool = False  # close the connection right after writing

    @classmethod
    def error(cls, error: ApiError, headers: dict[str, str]) -> _Reply:
        return cls(error.status, error.body(), headers)


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length framing
    server_version = "pagerlens-sim/1"
    sys_version = ""
    # Headers and body are two writes; without TCP_NODELAY Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 30

    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Silenced: the request log is the record, and stderr noise helps nobody."""

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        self.server.sim._handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.sim._handle(self, "POST")

    def do_PUT(self) -> None:  # noqa: N802
        self.server.sim._handle(self, "PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.sim._handle(self, "DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self.server.sim._handle(self, "PATCH")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], sim: SimServer, tls_context: ssl.SSLContext | None
    ) -> None:
        self.sim = sim
        self.tls_context = tls_context
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6  # "::1"
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's own thread, so one slow client
        # cannot stall accept() for everyone else.
        conn = request
        if self.tls_context is not None:
            try:
                conn = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        with self.connections_lock:
            self.connections.add(conn)
        try:
            super().finish_request(conn, client_address)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass
        finally:
            with self.connections_lock:
                self.connections.discard(conn)
            if conn is not request:
                try:
                    conn.close()
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-response (or stop() closing it) is not worth a
        # traceback on stderr; keep it for whoever turns debug logging on.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Shut every open keep-alive connection so stop() does not wait on idle clients."""
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------- the server


class SimServer:
    """A simulated PagerDuty REST API v2 on loopback, serving ``account`` as of a clock.

    Example::

        with SimServer(generate_account(days=14)) as server:
            client = PagerDutyClient(server.url, token=server.token)
            ...
            assert server.request_log[0].path == "/incidents"

    ``faults`` (a :class:`FaultSpec`) injects errors; ``latency_ms`` delays every API
    response; ``tls=True`` serves HTTPS with a certificate from a throw-away CA
    (``ca_pem_path`` / :meth:`client_ssl_context` for clients); ``now`` sets the clock
    (default ``account.end``); ``sleep`` is how delays wait (``time.sleep``; tests record).
    """

    def __init__(
        self,
        account: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        rate_per_minute: int = 960,
        faults: FaultSpec | None = None,
        latency_ms: float = 0,
        tls: bool = False,
        now: datetime | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the simulator only binds loopback addresses, not {host!r}")
        self.account = account
        self.host = host
        self.port = port
        self.token = token if token is not None else account.token
        self.rate_per_minute = rate_per_minute
        self.faults = faults or FaultSpec()
        self.latency_ms = latency_ms
        self.tls = tls
        self._sleep = sleep  # how latency and slow faults wait; tests pass a recorder
        self._index = _index_for(account)
        self._snapshot = _Snapshot(self._index, self._check_clock(now or account.end))
        self._limiter = _RateLimiter(rate_per_minute)
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._counter = 0
        self._counter_lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self.ca_pem_path: Path | None = None
        self._ca: Any = None
        self.url = ""

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> str:
        """Bind, serve in a background thread and return the base URL (no trailing slash)."""
        if self._httpd is not None:
            return self.url
        context = self._make_tls_context() if self.tls else None
        self._httpd = _HTTPServer((self.host, self.port), self, context)
        self.port = self._httpd.server_address[1]
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{scheme}://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sim-pagerduty:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving, close open connections and remove the temporary CA file."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def wait(self) -> None:
        """Block until :meth:`stop` (or Ctrl-C in the calling thread)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> SimServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _make_tls_context(self) -> ssl.SSLContext:
        import trustme  # only the TLS mode needs it

        self._ca = trustme.CA()
        cert = self._ca.issue_cert("127.0.0.1", "localhost", "::1")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._tmpdir = tempfile.TemporaryDirectory(prefix="pagerlens-sim-")
        self.ca_pem_path = Path(self._tmpdir.name) / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_pem_path))
        return context

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context trusting this server's certificate (TLS mode only)."""
        if self._ca is None:
            raise RuntimeError("client_ssl_context() needs SimServer(tls=True) and start()")
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    # ----------------------------------------------------------------- clock and log

    @staticmethod
    def _check_clock(now: datetime) -> datetime:
        if now.tzinfo is None:
            raise ValueError("the simulator clock needs a timezone-aware datetime")
        return now

    @property
    def now(self) -> datetime:
        """The server's clock: the account is served as of this moment."""
        return self._snapshot.now

    def set_clock(self, now: datetime) -> None:
        """Move the clock (either way); caches of the old clock are dropped."""
        self._snapshot = _Snapshot(self._index, self._check_clock(now))

    @property
    def request_log(self) -> list[RequestRecord]:
        """A copy of the API requests served so far, in completion order."""
        with self._log_lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Forget the logged requests (the fault request counter keeps counting)."""
        with self._log_lock:
            self._log.clear()

    # ----------------------------------------------------------------- request handling

    def _handle(self, handler: _Handler, method: str) -> None:
        started = time.perf_counter()
        started_at = time.time()
        parts = urlsplit(handler.path)
        path = parts.path.rstrip("/") or "/"
        query = _Query(parse_qsl(parts.query, keep_blank_values=True))
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)  # keep the connection's framing right
        if path.startswith("/_sim/"):
            self._handle_admin(handler, method, path, query)
            return

        with self._counter_lock:
            self._counter += 1
            number = self._counter
        fault = self.faults.decide(number)
        reply: _Reply | None = None
        try:
            reply = self._respond(handler, method, path, query, number, fault)
        finally:
            # Logged before the first byte goes out, so a client that has its response can
            # rely on finding the request in the log.
            record = RequestRecord(
                number=number,
                method=method,
                path=path,
                query=query.as_log_dict(),
                status=reply.status if reply else None,
                duration=time.perf_counter() - started,
                fault=fault.kind if fault else None,
                started_at=started_at,
            )
            with self._log_lock:
                self._log.append(record)
        if reply is None:  # a dropped connection: no response at all
            handler.close_connection = True
            return
        self._send(handler, reply.status, reply.body, reply.headers, reply.content_length)
        if reply.abort:
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _respond(
        self,
        handler: _Handler,
        method: str,
        path: str,
        query: _Query,
        number: int,
        fault: Fault | None,
    ) -> _Reply | None:
        """The reply to one API request (None: drop the connection)."""
        credential = handler.headers.get("Authorization") or ""
        if fault is not None and fault.kind == "drop":
            return None
        if fault is not None and fault.kind == "slow":
            self._sleep(fault.delay_seconds)
        if self.latency_ms:
            self._sleep(self.latency_ms / 1000.0)
        if fault is not None and fault.kind in ERROR_STATUS_KINDS:
            _, headers = self._limiter.take(credential, consume=False)
            if fault.kind == "429":
                headers["Retry-After"] = "1"
            return _Reply.error(_status_error(int(fault.kind)), headers)

        allowed, headers = self._limiter.take(credential)
        if not allowed:
            return _Reply.error(_status_error(429), headers)
        if credential != f"Token token={self.token}" or self.faults.token_expired(number):
            return _Reply.error(_status_error(401), headers)
        if method != "GET":
            return _Reply.error(_status_error(405), headers)
        try:
            body = self._route(path, query, self._snapshot)
        except ApiError as error:
            return _Reply.error(error, headers)
        except Exception:
            # A simulator bug: answer like PagerDuty would (500) and leave a trace for the
            # developer instead of a connection that silently dies.
            log.exception("simulator failed on %s %s", method, path)
            return _Reply.error(_status_error(500), headers)

        if fault is not None and fault.kind == "malformed":
            # A prefix of a JSON object is never valid JSON; the length still matches.
            return _Reply(200, body[: max(1, len(body) // 2)], headers)
        if fault is not None and fault.kind == "truncated":
            return _Reply(
                200, body[: len(body) // 2], headers, content_length=len(body), abort=True
            )
        return _Reply(200, body, headers)

    @staticmethod
    def _send(
        handler: _Handler,
        status: int,
        body: bytes,
        headers: dict[str, str],
        content_length: int | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header(
            "Content-Length", str(len(body) if content_length is None else content_length)
        )
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _handle_admin(self, handler: _Handler, method: str, path: str, query: _Query) -> None:
        if not _is_loopback(handler.client_address[0]):
            self._send(handler, 403, ApiError(403, "Forbidden", 2010).body(), {})
            return
        try:
            if path == "/_sim/ground_truth" and method == "GET":
                body = _dumps(self.account.ground_truth)
            elif path == "/_sim/requests" and method == "GET":
                body = _dumps([record.to_dict() for record in self.request_log])
            elif path == "/_sim/requests" and method == "DELETE":
                self.clear_log()
                body = b"{}"
            elif path == "/_sim/clock" and method in ("GET", "POST"):
                if method == "POST":
                    value = query.one("now")
                    if not value:
                        raise _invalid("now is required, e.g. ?now=2026-01-01T00:00:00Z")
                    self.set_clock(_parse_time("now", value, UTC))
                body = _dumps({"now": _iso(self.now)})
            else:
                raise _not_found()
        except ApiError as error:
            self._send(handler, error.status, error.body(), {})
            return
        self._send(handler, 200, body, {})

    # ----------------------------------------------------------------- routing

    def _route(self, path: str, query: _Query, snap: _Snapshot) -> bytes:
        parts = path.strip("/").split("/")
        head = parts[0]
        if head == "incidents":
            if len(parts) == 1:
                return self._list_incidents(query, snap)
            pos = self._incident_pos(parts[1], snap)
            if len(parts) == 2:
                return self._get_incident(pos, query, snap)
            if len(parts) == 3 and parts[2] == "log_entries":
                return self._incident_log_entries(pos, query, snap)
            if len(parts) == 3 and parts[2] == "alerts":
                return self._incident_alerts(pos, query, snap)
        elif head == "log_entries" and len(parts) == 1:
            return self._list_log_entries(query, snap)
        elif head == "oncalls" and len(parts) == 1:
            return self._list_oncalls(query, snap)
        elif head in self._index.catalogs:
            if len(parts) == 1:
                return self._list_catalog(head, query)
            if len(parts) == 2 and head != "priorities":
                return self._get_catalog_item(head, parts[1], query)
        raise _not_found()

    def _incident_pos(self, incident_id: str, snap: _Snapshot) -> int:
        pos = self._index.incident_pos.get(incident_id)
        if pos is None or pos >= snap.incident_count:
            raise _not_found()
        return pos

    # ----------------------------------------------------------------- incidents

    def _incident_fragment(
        self, pos: int, snap: _Snapshot, includes: frozenset[str], tz: ZoneInfo | None
    ) -> bytes:
        def build() -> bytes:
            return _dumps(self._incident_object(pos, snap, includes, tz))

        return snap.fragment(("incident", pos, includes, tz), build)

    def _incident_object(
        self, pos: int, snap: _Snapshot, includes: frozenset[str], tz: ZoneInfo | None
    ) -> dict:
        incident, entries, _ = snap.state(pos)
        if includes:
            incident = dict(incident)
            by_id = self._index.by_id
            if "services" in includes and incident.get("service"):
                incident["service"] = by_id["services"].get(
                    incident["service"]["id"], incident["service"]
                )
            if "teams" in includes:
                incident["teams"] = [
                    by_id["teams"].get(t["id"], t) for t in incident.get("teams") or []
                ]
            if "escalation_policies" in includes and incident.get("escalation_policy"):
                ref = incident["escalation_policy"]
                incident["escalation_policy"] = by_id["escalation_policies"].get(ref["id"], ref)
            if "priorities" in includes and incident.get("priority"):
                ref = incident["priority"]
                incident["priority"] = by_id["priorities"].get(ref["id"], ref)
            if "first_trigger_log_entries" in includes:
                trigger = next(
                    (
                        e
                        for e in sorted(entries, key=lambda e: (e["created_at"], e["id"]))
                        if e.get("type") == "trigger_log_entry"
                    ),
                    None,
                )
                if trigger is not None:
                    incident["first_trigger_log_entry"] = trigger
            if "assignees" in includes:
                incident["assignments"] = [
                    {**a, "assignee": by_id["users"].get(a["assignee"]["id"], a["assignee"])}
                    if isinstance(a.get("assignee"), dict)
                    else a
                    for a in incident.get("assignments") or []
                ]
            if "acknowledgers" in includes:
                incident["acknowledgements"] = [
                    {
                        **a,
                        "acknowledger": by_id["users"].get(
                            a["acknowledger"].get("id"), a["acknowledger"]
                        ),
                    }
                    if isinstance(a.get("acknowledger"), dict)
                    else a
                    for a in incident.get("acknowledgements") or []
                ]
        if tz is not None:
            incident = _render_tz(incident, tz)
        return incident

    @staticmethod
    def _render_zone(query: _Query) -> ZoneInfo | None:
        """The ``time_zone`` to render in, or None for UTC as stored."""
        name = query.one("time_zone")
        if not name or name in ("UTC", "Etc/UTC"):
            return None
        return _zone(name, ZoneInfo("UTC"))

    def _list_incidents(self, query: _Query, snap: _Snapshot) -> bytes:
        index = self._index
        page = _Page.parse(query)
        render_tz = self._render_zone(query)
        parse_tz = _zone(query.one("time_zone"), index.tz)
        includes = frozenset(query.many("include")) & INCIDENT_INCLUDES
        if query.one("date_range") == "all":
            lo, hi = 0, snap.incident_count
            window: tuple[float, float] = (_FAR_PAST, math.inf)
        else:
            if query.one("date_range") not in (None, ""):
                raise _invalid("date_range must be 'all'")
            since_text, until_text = query.one("since"), query.one("until")
            until = _parse_time("until", until_text, parse_tz) if until_text else snap.now
            if since_text:
                since = _parse_time("since", since_text, parse_tz)
            else:
                since = add_months(until, -INCIDENT_DEFAULT_MONTHS)
            if since > until:
                raise _invalid("since must not be after until")
            if since < add_months(until, -INCIDENT_MAX_MONTHS):
                raise _invalid(f"The date range may not exceed {INCIDENT_MAX_MONTHS} months")
            window = (since.timestamp(), until.timestamp())
            lo = bisect.bisect_left(index.incident_ts, window[0], 0, snap.incident_count)
            hi = bisect.bisect_left(index.incident_ts, window[1], 0, snap.incident_count)

        statuses = frozenset(query.many("statuses"))
        bad = statuses - {"triggered", "acknowledged", "resolved"}
        if bad:
            raise _invalid("Status must be a list of triggered, acknowledged, or resolved.")
        service_ids = frozenset(query.many("service_ids"))
        team_ids = frozenset(query.many("team_ids"))
        urgencies = frozenset(query.many("urgencies"))
        if urgencies - {"high", "low"}:
            raise _invalid("Urgencies must be a list of high or low.")
        sort_keys = self._parse_incident_sort(query.many("sort_by"))
        user_ids = frozenset(query.many("user_ids"))
        incident_key = query.one("incident_key") or None

        positions: Sequence[int]
        filtered = statuses or service_ids or team_ids or urgencies or user_ids or incident_key
        if not (filtered or sort_keys):
            positions = range(lo, hi)  # the index order is the default order: no copy needed
        else:
            key = (
                "incidents",
                lo,
                hi,
                statuses,
                service_ids,
                team_ids,
                urgencies,
                user_ids,
                incident_key,
                tuple(sort_keys),
            )

            def compute() -> list[int]:
                kept = []
                for pos in range(lo, hi):
                    incident = snap.state(pos)[0]
                    if statuses and incident.get("status") not in statuses:
                        continue
                    if service_ids and (incident.get("service") or {}).get("id") not in service_ids:
                        continue
                    if team_ids and not team_ids & {t["id"] for t in incident.get("teams") or []}:
                        continue
                    if urgencies and incident.get("urgency") not in urgencies:
                        continue
                    if incident_key and incident.get("incident_key") != incident_key:
                        continue
                    # "Currently assigned to": a resolved incident has no assignments.
                    if user_ids and not user_ids & {
                        (a.get("assignee") or {}).get("id")
                        for a in incident.get("assignments") or []
                    }:
                        continue
                    kept.append(pos)
                return self._sort_incidents(kept, sort_keys, snap)

            positions = snap.query(key, compute)
        fragments = [
            self._incident_fragment(positions[i], snap, includes, render_tz)
            for i in page.slice(len(positions))
        ]
        return page.body("incidents", fragments, len(positions))

    @staticmethod
    def _parse_incident_sort(values: list[str]) -> list[tuple[str, bool]]:
        keys = []
        for value in values:
            field, _, direction = value.partition(":")
            if field not in (
                "incident_number",
                "created_at",
                "resolved_at",
                "urgency",
            ) or direction not in ("", "asc", "desc"):
                raise _invalid(f"sort_by {value!r} is not supported")
            keys.append((field, direction == "desc"))
        if len(keys) > 2:
            raise _invalid("sort_by takes at most two fields")
        return keys

    @staticmethod
    def _sort_incidents(
        positions: list[int], keys: list[tuple[str, bool]], snap: _Snapshot
    ) -> list[int]:
        # Stable sorts applied from the last key to the first give a multi-key sort with
        # per-key directions; the index order (created_at, incident_number) breaks ties.
        for field, descending in reversed(keys):

            def sort_key(pos: int, field: str = field) -> tuple:
                value = snap.state(pos)[0].get(field)
                if field in ("created_at", "resolved_at"):
                    value = _ts(value) if value else None
                elif field == "urgency":
                    value = URGENCY_RANK.get(value)
                # None (never resolved) sorts last ascending, first descending.
                return (value is None, value if value is not None else 0)

            positions = sorted(positions, key=sort_key, reverse=descending)
        return positions

    def _get_incident(self, pos: int, query: _Query, snap: _Snapshot) -> bytes:
        includes = frozenset(query.many("include")) & INCIDENT_INCLUDES
        fragment = self._incident_fragment(pos, snap, includes, self._render_zone(query))
        return b'{"incident":' + fragment + b"}"

    def _incident_alerts(self, pos: int, query: _Query, snap: _Snapshot) -> bytes:
        page = _Page.parse(query)
        alerts = list(snap.state(pos)[2])
        statuses = frozenset(query.many("statuses"))
        if statuses - {"triggered", "resolved"}:
            raise _invalid("Status must be a list of triggered or resolved.")
        if statuses:
            alerts = [a for a in alerts if a.get("status") in statuses]
        alert_key = query.one("alert_key")
        if alert_key:
            alerts = [a for a in alerts if a.get("alert_key") == alert_key]
        sort = query.one("sort_by") or "created_at:asc"
        field, _, direction = sort.partition(":")
        if field not in ("created_at", "resolved_at") or direction not in ("", "asc", "desc"):
            raise _invalid(f"sort_by {sort!r} is not supported")
        alerts.sort(
            key=lambda a: (a.get(field) is None, _ts(a.get(field)), a.get("id", "")),
            reverse=direction == "desc",
        )
        tz = self._render_zone(query)
        fragments = [
            _dumps(_render_tz(alerts[i], tz) if tz else alerts[i]) for i in page.slice(len(alerts))
        ]
        return page.body("alerts", fragments, len(alerts))

    # ----------------------------------------------------------------- log entries

    def _entry_fragment(
        self, gidx: int, snap: _Snapshot, includes: frozenset[str], tz: ZoneInfo | None
    ) -> bytes:
        def build() -> bytes:
            entry = self._index.entries[gidx]
            channel = entry.get("channel")
            reduce_channel = (
                "channels" not in includes
                and isinstance(channel, dict)
                and entry.get("type") == "trigger_log_entry"
            )
            if not (reduce_channel or includes or tz):
                return _dumps(entry)
            entry = dict(entry)
            if reduce_channel:
                entry["channel"] = {
                    k: v for k, v in channel.items() if k not in CHANNEL_DETAIL_KEYS
                }
            by_id = self._index.by_id
            if "incidents" in includes:
                # The incident as of the clock: what the real API would show right now.
                entry["incident"] = snap.state(self._index.entry_incident[gidx])[0]
            if "services" in includes and isinstance(entry.get("service"), dict):
                entry["service"] = by_id["services"].get(entry["service"]["id"], entry["service"])
            if "teams" in includes and entry.get("teams"):
                entry["teams"] = [by_id["teams"].get(t["id"], t) for t in entry["teams"]]
            if tz is not None:
                entry = _render_tz(entry, tz)
            return _dumps(entry)

        key = ("entry", gidx, includes, tz)
        if "incidents" in includes:
            return snap.fragment(key, build)
        found = self._index.entry_fragments.get(key)
        if found is None:
            found = self._index.entry_fragments[key] = build()
        return found

    def _list_log_entries(self, query: _Query, snap: _Snapshot) -> bytes:
        index = self._index
        page = _Page.parse(query)
        render_tz = self._render_zone(query)
        parse_tz = _zone(query.one("time_zone"), index.tz)
        includes = frozenset(query.many("include")) & LOG_ENTRY_INCLUDES
        until_text, since_text = query.one("until"), query.one("since")
        until = _parse_time("until", until_text, parse_tz) if until_text else snap.now
        since = (
            _parse_time("since", since_text, parse_tz)
            if since_text
            else add_months(until, -LOG_ENTRY_DEFAULT_MONTHS)
        )
        if since > until:
            raise _invalid("since must not be after until")
        team_ids = frozenset(query.many("team_ids")) or None
        ts_list, gidx_list = index.entry_subset(query.flag("is_overview"), team_ids)
        # Entries exist up to the clock; the window is [since, until).
        hi = min(
            bisect.bisect_left(ts_list, until.timestamp()),
            bisect.bisect_right(ts_list, snap.now_ts),
        )
        lo = bisect.bisect_left(ts_list, since.timestamp())
        count = max(0, hi - lo)
        fragments = [
            self._entry_fragment(gidx_list[hi - 1 - i], snap, includes, render_tz)
            for i in page.slice(count)
        ]
        return page.body("log_entries", fragments, count)

    def _incident_log_entries(self, pos: int, query: _Query, snap: _Snapshot) -> bytes:
        index = self._index
        page = _Page.parse(query)
        render_tz = self._render_zone(query)
        parse_tz = _zone(query.one("time_zone"), index.tz)
        includes = frozenset(query.many("include")) & LOG_ENTRY_INCLUDES
        since_text, until_text = query.one("since"), query.one("until")
        since_ts = (
            _parse_time("since", since_text, parse_tz).timestamp() if since_text else _FAR_PAST
        )
        until_ts = (
            _parse_time("until", until_text, parse_tz).timestamp() if until_text else math.inf
        )
        if since_ts > until_ts:
            raise _invalid("since must not be after until")
        overview = query.flag("is_overview")
        kept = [
            gidx
            for gidx in index.incident_entries[pos]
            if index.entry_ts[gidx] <= snap.now_ts
            and since_ts <= index.entry_ts[gidx] < until_ts
            and (not overview or index.entries[gidx].get("type") not in NON_OVERVIEW_TYPES)
        ]
        kept.reverse()  # newest first, like the account-wide list
        fragments = [
            self._entry_fragment(kept[i], snap, includes, render_tz) for i in page.slice(len(kept))
        ]
        return page.body("log_entries", fragments, len(kept))

    # ----------------------------------------------------------------- catalogs

    def _catalog_fragment(self, name: str, item_index: int, includes: frozenset[str]) -> bytes:
        key = (name, item_index, includes)
        found = self._index.catalog_fragments.get(key)
        if found is None:
            item = self._index.catalogs[name][item_index]
            if name == "users":
                item = dict(item)
                for field in USER_INCLUDES - includes:
                    if isinstance(item.get(field), list):
                        item[field] = [
                            _reference(x) if isinstance(x, dict) else x for x in item[field]
                        ]
            found = _dumps(item)
            self._index.catalog_fragments[key] = found
        return found

    def _list_catalog(self, name: str, query: _Query) -> bytes:
        page = _Page.parse(query)
        if query.one("time_zone"):
            _zone(query.one("time_zone"), ZoneInfo("UTC"))  # validated, rendered as stored
        includes = (
            frozenset(query.many("include")) & USER_INCLUDES if name == "users" else frozenset()
        )
        items = self._index.catalogs[name]
        positions: Sequence[int] = range(len(items))
        text = (query.one("query") or "").lower()
        team_ids = frozenset(query.many("team_ids"))
        exact_name = query.one("name")
        if text or team_ids or exact_name:
            positions = [
                i
                for i in positions
                if text in str(items[i].get("name", "")).lower()
                and (not exact_name or items[i].get("name") == exact_name)
                and (not team_ids or team_ids & {t["id"] for t in items[i].get("teams") or []})
            ]
        sort = query.one("sort_by")
        if sort in ("name:desc",) and name in ("services", "escalation_policies"):
            positions = list(reversed(positions))
        fragments = [
            self._catalog_fragment(name, positions[i], includes) for i in page.slice(len(positions))
        ]
        return page.body(name, fragments, len(positions))

    def _get_catalog_item(self, name: str, item_id: str, query: _Query) -> bytes:
        items = self._index.catalogs[name]
        for i, item in enumerate(items):
            if item["id"] == item_id:
                includes = (
                    frozenset(query.many("include")) & USER_INCLUDES
                    if name == "users"
                    else frozenset()
                )
                singular = name[:-3] + "y" if name.endswith("ies") else name[:-1]
                return (
                    b'{"'
                    + singular.encode()
                    + b'":'
                    + self._catalog_fragment(name, i, includes)
                    + b"}"
                )
        raise _not_found()

    # ----------------------------------------------------------------- on-calls

    def _list_oncalls(self, query: _Query, snap: _Snapshot) -> bytes:
        index = self._index
        page = _Page.parse(query)
        parse_tz = _zone(query.one("time_zone"), index.tz)
        render_tz = self._render_zone(query)
        since_text, until_text = query.one("since"), query.one("until")
        # "Defaults to current time": the clock, for both ends.
        since = _parse_time("since", since_text, parse_tz) if since_text else snap.now
        until = _parse_time("until", until_text, parse_tz) if until_text else snap.now
        if since > until:
            raise _invalid("until cannot be before since")
        since_ts, until_ts = since.timestamp(), until.timestamp()
        schedule_ids = frozenset(query.many("schedule_ids"))
        ep_ids = frozenset(query.many("escalation_policy_ids"))
        user_ids = frozenset(query.many("user_ids"))
        earliest = query.flag("earliest")

        key = ("oncalls", since_ts, until_ts, schedule_ids, ep_ids, user_ids, earliest)

        def compute() -> list[int]:
            # Candidates: permanent on-calls plus shifts starting no earlier than the longest
            # shift before `since` and no later than `until` (bisect on the sorted starts).
            lo = bisect.bisect_left(index.oncall_start, since_ts - index.longest_oncall)
            hi = bisect.bisect_right(index.oncall_start, until_ts)
            candidates = sorted(set(index.permanent_oncalls) | set(range(lo, hi)))
            kept: list[int] = []
            seen: set[tuple] = set()
            for i in candidates:
                oncall = index.oncalls[i]
                start, end = index.oncall_start[i], index.oncall_end[i]
                # Overlap with [since, until]; a zero-length query asks "who is on call then".
                if not (start <= until_ts and end > since_ts):
                    continue
                schedule_id = (oncall.get("schedule") or {}).get("id")
                ep_id = (oncall.get("escalation_policy") or {}).get("id")
                user_id = (oncall.get("user") or {}).get("id")
                if schedule_ids and schedule_id not in schedule_ids:
                    continue
                if ep_ids and ep_id not in ep_ids:
                    continue
                if user_ids and user_id not in user_ids:
                    continue
                if earliest:
                    group = (ep_id, oncall.get("escalation_level"), user_id)
                    if group in seen:
                        continue
                    seen.add(group)
                kept.append(i)
            return kept

        positions = snap.query(key, compute)
        fragments = [
            _dumps(_render_tz(index.oncalls[positions[i]], render_tz))
            if render_tz
            else index.oncall_fragments[positions[i]]
            for i in page.slice(len(positions))
        ]
        return page.body("oncalls", fragments, len(positions))


# --------------------------------------------------------------------------- entry points


def start_background_server(
    seed: int = 7, days: int = 90, scale: float = 1.0, end: datetime | None = None, **kwargs: Any
) -> SimServer:
    """Generate an account and serve it in a background thread; the caller stops it.

    ``kwargs`` go to :class:`SimServer` (port, faults, rate_per_minute, latency_ms, tls, ...).
    """
    from simulator.account import generate_account

    server = SimServer(generate_account(seed=seed, days=days, scale=scale, end=end), **kwargs)
    server.start()
    return server


def serve_forever(
    seed: int = 7,
    days: int = 90,
    scale: float = 1.0,
    *,
    port: int = 8765,
    faults: FaultSpec | str | None = None,
    rate_per_minute: int = 960,
    latency_ms: float = 0,
    tls: bool = False,
    echo: Callable[[str], None] = print,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve a generated account until Ctrl-C or ``stop_event`` is set.

    This is ``pagerlens simulate serve``: it prints the base URL and the token to use.
    """
    spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults
    server = start_background_server(
        seed,
        days,
        scale,
        port=port,
        faults=spec,
        rate_per_minute=rate_per_minute,
        latency_ms=latency_ms,
        tls=tls,
    )
    # The simulator's token is generated from the seed, not a credential: printing it is how
    # a user points `pagerlens sync` at the simulator.
    echo(f"simulated PagerDuty at {server.url} (token: {server.token}); Ctrl-C to stop")
    if server.ca_pem_path is not None:
        echo(f"CA certificate: {server.ca_pem_path}")
    try:
        if stop_event is None:
            server.wait()
        else:
            stop_event.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
