"""An HTTP server served from a background thread, for the webhook receiver and the simulator.

Both bind a loopback (or given) address, serve from a daemon thread so the caller keeps its
own, and stop by shutting the server down, closing it and joining the thread. Standard library
only: the simulator may import this module without reaching anything else of ``etl``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from socketserver import BaseServer


def base_url(scheme: str, host: str, port: int) -> str:
    """``scheme://host:port``, with an IPv6 host in brackets."""
    host = f"[{host}]" if ":" in str(host) else host
    return f"{scheme}://{host}:{port}"


def serve_in_background(httpd: BaseServer, name: str, poll_interval: float) -> threading.Thread:
    """Start ``httpd.serve_forever`` in a daemon thread named ``name``; returns the thread."""
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": poll_interval},
        name=name,
        daemon=True,
    )
    thread.start()
    return thread


def stop_serving(
    httpd: BaseServer,
    thread: threading.Thread | None,
    *,
    close_connections: Callable[[], None] | None = None,
) -> None:
    """Stop ``httpd``'s loop, close open connections (when given a way) and the socket, join."""
    httpd.shutdown()
    if close_connections is not None:
        close_connections()
    httpd.server_close()
    if thread is not None:
        thread.join(timeout=5)
