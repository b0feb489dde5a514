"""The simulated PagerDuty: a real HTTP server speaking a subset of REST API v2.

:class:`SimServer` serves a :class:`~simulator.account.SimAccount` on loopback with the
shapes of PagerDuty's OpenAPI spec (``PagerDuty/api-schema``, ``reference/REST/openapiv3.json``):
classic pagination (:mod:`simulator.pagination`), ``since``/``until`` windows, token auth and
``ratelimit-*`` headers with HTTP 429 (:mod:`simulator.ratelimit`), seeded fault injection
(:mod:`simulator.faults`) and a request log that tests assert on. The account is shown *as of*
the server's clock (default ``account.end``): incidents and log entries created after the
clock do not exist, and statuses are the ones at the clock. This module routes; the endpoints
are in :mod:`simulator.endpoints`, the account's index and clock snapshots in
:mod:`simulator.index`, the HTTP plumbing in :mod:`simulator.transport`.

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

import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from etl.serving import base_url, serve_in_background, stop_serving
from simulator.analytics import AnalyticsSettings
from simulator.dependencies import account_answers
from simulator.endpoints import analytics, catalogs, incidents, log_entries, maintenance
from simulator.endpoints.dependencies import get_service_dependencies
from simulator.endpoints.orchestrations import get_service_orchestration
from simulator.faults import ERROR_STATUS_KINDS, Fault, FaultSpec
from simulator.index import Snapshot, index_for
from simulator.protocol import (
    ApiError,
    Query,
    dumps,
    invalid,
    is_loopback,
    iso_utc,
    not_found,
    parse_time,
    status_error,
)
from simulator.ratelimit import RateLimiter, authorized
from simulator.transport import Handler, LoopbackHTTPServer, Reply, RequestRecord, log


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
        if not is_loopback(host):
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
        # The Analytics API's access and quirks (simulator/analytics.py); tests change it.
        self.analytics = AnalyticsSettings()
        self._index = index_for(account)
        self._maintenance_windows = maintenance.account_windows(account)
        self._dependencies = account_answers(account)
        self._snapshot = Snapshot(self._index, self._check_clock(now or account.end))
        self._limiter = RateLimiter(rate_per_minute)
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._counter = 0
        self._counter_lock = threading.Lock()
        self._httpd: LoopbackHTTPServer | None = None
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
        self._httpd = LoopbackHTTPServer((self.host, self.port), self._handle, context)
        self.port = self._httpd.server_address[1]
        self.url = base_url("https" if self.tls else "http", self.host, self.port)
        self._thread = serve_in_background(self._httpd, f"sim-pagerduty:{self.port}", 0.1)
        return self.url

    def stop(self) -> None:
        """Stop serving, close open connections and remove the temporary CA file."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            stop_serving(httpd, self._thread, close_connections=httpd.close_connections)
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
        self._snapshot = Snapshot(self._index, self._check_clock(now))

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

    def _handle(self, handler: Handler, method: str) -> None:
        started = time.perf_counter()
        started_at = time.time()
        parts = urlsplit(handler.path)
        path = parts.path.rstrip("/") or "/"
        query = Query(parse_qsl(parts.query, keep_blank_values=True))
        length = int(handler.headers.get("Content-Length") or 0)
        # Read in any case, to keep the connection's framing right; Analytics POSTs use it.
        request_body = handler.rfile.read(length) if length else b""
        if path.startswith("/_sim/"):
            self._handle_admin(handler, method, path, query)
            return

        with self._counter_lock:
            self._counter += 1
            number = self._counter
        fault = self.faults.decide(number)
        reply: Reply | None = None
        try:
            reply = self._respond(handler, method, path, query, number, fault, request_body)
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
        handler: Handler,
        method: str,
        path: str,
        query: Query,
        number: int,
        fault: Fault | None,
        request_body: bytes = b"",
    ) -> Reply | None:
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
            return Reply.error(status_error(int(fault.kind)), headers)

        allowed, headers = self._limiter.take(credential)
        if not allowed:
            return Reply.error(status_error(429), headers)
        if not authorized(credential, self.token) or self.faults.token_expired(number):
            return Reply.error(status_error(401), headers)
        gate = self.faults.gate(path)
        if gate is not None:  # a disabled endpoint: the plan, the key or the account lacks it
            return Reply.error(gate, headers)
        if method == "POST" and path.startswith("/analytics/"):
            route = lambda: analytics.handle(  # noqa: E731
                self._index, self.now, self.analytics, path, request_body
            )
        elif method != "GET":
            return Reply.error(status_error(405), headers)
        else:
            route = lambda: self._route(path, query, self._snapshot)  # noqa: E731
        try:
            body = route()
        except ApiError as error:
            return Reply.error(error, headers)
        except Exception:
            # A simulator bug: answer like PagerDuty would (500) and leave a trace for the
            # developer instead of a connection that silently dies.
            log.exception("simulator failed on %s %s", method, path)
            return Reply.error(status_error(500), headers)

        if fault is not None and fault.kind == "malformed":
            # A prefix of a JSON object is never valid JSON; the length still matches.
            return Reply(200, body[: max(1, len(body) // 2)], headers)
        if fault is not None and fault.kind == "truncated":
            return Reply(200, body[: len(body) // 2], headers, content_length=len(body), abort=True)
        return Reply(200, body, headers)

    @staticmethod
    def _send(
        handler: Handler,
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

    def _handle_admin(self, handler: Handler, method: str, path: str, query: Query) -> None:
        if not is_loopback(handler.client_address[0]):
            self._send(handler, 403, ApiError(403, "Forbidden", 2010).body(), {})
            return
        try:
            if path == "/_sim/ground_truth" and method == "GET":
                body = dumps(self.account.ground_truth)
            elif path == "/_sim/requests" and method == "GET":
                body = dumps([record.to_dict() for record in self.request_log])
            elif path == "/_sim/requests" and method == "DELETE":
                self.clear_log()
                body = b"{}"
            elif path == "/_sim/clock" and method in ("GET", "POST"):
                if method == "POST":
                    value = query.one("now")
                    if not value:
                        raise invalid("now is required, e.g. ?now=2026-01-01T00:00:00Z")
                    self.set_clock(parse_time("now", value, UTC))
                body = dumps({"now": iso_utc(self.now)})
            else:
                raise not_found()
        except ApiError as error:
            self._send(handler, error.status, error.body(), {})
            return
        self._send(handler, 200, body, {})

    # ----------------------------------------------------------------- routing

    def _route(self, path: str, query: Query, snap: Snapshot) -> bytes:
        index = self._index
        parts = path.strip("/").split("/")
        head = parts[0]
        if head == "incidents":
            if len(parts) == 1:
                return incidents.list_incidents(index, query, snap)
            pos = incidents.incident_pos(index, parts[1], snap)
            if len(parts) == 2:
                return incidents.get_incident(index, pos, query, snap)
            if len(parts) == 3 and parts[2] == "log_entries":
                return log_entries.incident_log_entries(index, pos, query, snap)
            if len(parts) == 3 and parts[2] == "alerts":
                return incidents.incident_alerts(index, pos, query, snap)
        elif head == "log_entries" and len(parts) == 1:
            return log_entries.list_log_entries(index, query, snap)
        elif head == "oncalls" and len(parts) == 1:
            return catalogs.list_oncalls(index, query, snap)
        elif parts[:2] == ["event_orchestrations", "services"] and len(parts) == 3:
            return get_service_orchestration(index, parts[2])
        elif parts[:2] == ["service_dependencies", "technical_services"] and len(parts) == 3:
            return get_service_dependencies(self._dependencies, parts[2])
        elif head == "maintenance_windows" and len(parts) == 1:
            return maintenance.list_maintenance_windows(self._maintenance_windows, query, snap)
        elif head in index.catalogs:
            if len(parts) == 1:
                return catalogs.list_catalog(index, head, query)
            if len(parts) == 2 and head != "priorities":
                return catalogs.get_catalog_item(index, head, parts[1], query)
        raise not_found()


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
