"""HTTP plumbing of the simulated PagerDuty: the threaded loopback server (optionally TLS),
its request handler, the reply of one request and the request log's records."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from simulator.protocol import ApiError

log = logging.getLogger("simulator.server")


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
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    content_length: int | None = None  # larger than len(body) for the truncated fault
    abort: bool = False  # close the connection right after writing

    @classmethod
    def error(cls, error: ApiError, headers: dict[str, str]) -> Reply:
        return cls(error.status, error.body(), headers)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length framing
    server_version = "pagerlens-sim/1"
    sys_version = ""
    # Headers and body are two writes; without TCP_NODELAY Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 30

    server: LoopbackHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Silenced: the request log is the record, and stderr noise helps nobody."""

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        self.server.handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.handle(self, "POST")

    def do_PUT(self) -> None:  # noqa: N802
        self.server.handle(self, "PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.handle(self, "DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self.server.handle(self, "PATCH")


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handle: Callable[[Handler, str], None],
        tls_context: ssl.SSLContext | None,
    ) -> None:
        # handle(handler, method) answers one request: SimServer._handle.
        self.handle = handle
        self.tls_context = tls_context
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6  # "::1"
        super().__init__(address, Handler)

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
