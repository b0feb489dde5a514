"""The webhook receiver: a small HTTP server that verifies, stores, then acknowledges.

Each ``POST`` is checked in this order, and every refusal is counted (:attr:`Receiver.counts`),
never stored:

1. size: no ``Content-Length`` -> 411; over ``max_body`` bytes -> 413, before reading it;
2. signature (:func:`etl.live.signature.verify`): missing, forged or of another scheme -> 401;
3. shape (:func:`etl.live.events.parse_event`): not a v3 event -> 400 with the reason;
4. the spool (:class:`etl.live.spool.Spool`): committed and fsync'd, then 200 (``stored`` or
   ``duplicate``). A spool failure answers 503 so PagerDuty retries.

The server keeps working under slow or half-open clients: every socket has a timeout, the body
must arrive within ``read_deadline`` seconds, and at most ``max_threads`` connections are served
at once (one more is answered 503 at once, with ``Retry-After``). ``GET /healthz`` returns the
counters. Nothing logged carries a body, a signature or the secret.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from etl.live.events import EventError, parse_event
from etl.live.signature import SIGNATURE_HEADER, WebhookSecret, verify
from etl.live.spool import Spool
from etl.serving import base_url, serve_in_background, stop_serving

log = logging.getLogger(__name__)

# PagerDuty's v3 payloads are a few kB; a delivery with a long incident title and many
# assignees stays far below this.
DEFAULT_MAX_BODY = 256 * 1024
DEFAULT_MAX_THREADS = 32
DEFAULT_SOCKET_TIMEOUT = 10.0
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n"
)


class _BoundedServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` with at most ``max_threads`` connections served at once."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address, handler, max_threads: int, on_busy: Callable[[], None]):
        self._slots = threading.BoundedSemaphore(max_threads)
        self._on_busy = on_busy
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            self._on_busy()
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def handle_error(self, request, client_address) -> None:
        # socketserver prints a traceback to stderr; a client that hung up is routine here.
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class Receiver:
    """The HTTP receiver over a :class:`Spool`; ``start()`` serves in a background thread.

    ``on_stored`` is called after each newly stored event (the apply worker's wake-up).
    """

    def __init__(
        self,
        spool: Spool,
        secrets: Sequence[WebhookSecret],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = DEFAULT_MAX_BODY,
        max_threads: int = DEFAULT_MAX_THREADS,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        read_deadline: float = 30.0,
        on_stored: Callable[[], None] | None = None,
    ):
        if not secrets:
            raise ValueError("the receiver needs at least one webhook secret")
        self.spool = spool
        self.secrets = list(secrets)
        self.max_body = max_body
        self.read_deadline = read_deadline
        self.on_stored = on_stored
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._httpd = _BoundedServer(
            (host, port), _handler_class(self, socket_timeout), max_threads, self._busy
        )
        self.host, self.port = self._httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return base_url("http", self.host, self.port)

    def start(self) -> str:
        """Serve in a background thread; returns the base URL."""
        self._thread = serve_in_background(self._httpd, f"pagerlens-listen:{self.port}", 0.2)
        return self.url

    def stop(self) -> None:
        stop_serving(self._httpd, self._thread)

    def count(self, name: str) -> None:
        with self._counts_lock:
            self.counts[name] += 1

    def snapshot(self) -> dict[str, int]:
        with self._counts_lock:
            return dict(self.counts)

    def _busy(self) -> None:
        self.count("busy")

    # -- one delivery -------------------------------------------------------------------------
    def handle(self, headers: Any, body: bytes) -> tuple[int, dict]:
        """Decide the answer to one delivery whose body was read in full."""
        if not verify(body, headers.get(SIGNATURE_HEADER), self.secrets):
            self.count("unauthorized")
            return 401, {"error": "missing or invalid X-PagerDuty-Signature"}
        try:
            event = parse_event(body)
        except EventError as exc:
            self.count("bad_request")
            return 400, {"error": str(exc)}
        try:
            stored = self.spool.add(event, body)
        except Exception as exc:  # noqa: BLE001 - answer 503 so that PagerDuty retries
            self.count("spool_errors")
            log.error("could not store webhook event %s: %s", event.event_id[:80], exc)
            return 503, {"error": "could not store the event; retry"}
        if not stored:
            self.count("duplicates")
            return 200, {"status": "duplicate"}
        self.count("stored")
        if self.on_stored is not None:
            self.on_stored()
        return 200, {"status": "stored"}


def _handler_class(receiver: Receiver, socket_timeout: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "pagerlens-listen"
        sys_version = ""
        timeout = socket_timeout

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            receiver.count("requests")
            length_text = self.headers.get("Content-Length")
            if length_text is None or not length_text.strip().isdigit():
                receiver.count("bad_request")
                self._reply(411, {"error": "Content-Length required"}, close=True)
                return
            length = int(length_text)
            if length > receiver.max_body:
                receiver.count("too_large")
                self._reply(413, {"error": f"body over {receiver.max_body} bytes"}, close=True)
                return
            body = self._read_body(length)
            if body is None:
                receiver.count("timeouts")
                self.close_connection = True
                return
            status, answer = receiver.handle(self.headers, body)
            self._reply(status, answer)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.split("?", 1)[0].rstrip("/") == "/healthz":
                self._reply(200, {"ok": True, "counts": receiver.snapshot()})
            else:
                self._reply(404, {"error": "not found"})

        def _read_body(self, length: int) -> bytes | None:
            deadline = time.monotonic() + receiver.read_deadline
            chunks: list[bytes] = []
            remaining = length
            try:
                while remaining > 0:
                    if time.monotonic() > deadline:
                        return None
                    chunk = self.rfile.read1(min(remaining, 65536))
                    if not chunk:
                        return None
                    chunks.append(chunk)
                    remaining -= len(chunk)
            except (TimeoutError, OSError):
                return None
            return b"".join(chunks)

        def _reply(self, status: int, answer: dict, *, close: bool = False) -> None:
            payload = json.dumps(answer).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            log.debug("%s %s", self.address_string(), format % args)

    return Handler
