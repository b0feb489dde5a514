"""Helpers shared by the simulated server's tests: an authenticated client, the ids of a page,
and the ``tiny`` fixture (in ``tests/simulator/conftest.py``)."""

from __future__ import annotations

import httpx2

from simulator.server import SimServer


def client(server: SimServer, token: str | None = None, **kw) -> httpx2.Client:
    """An httpx2 client for ``server`` sending ``Authorization: Token token=<token>``."""
    return httpx2.Client(
        base_url=server.url,
        headers={"Authorization": f"Token token={token or server.token}"},
        timeout=10,
        **kw,
    )


def ids(body: dict, wrapper: str) -> list[str]:
    """The ids of a list response's records, in order."""
    return [item["id"] for item in body[wrapper]]
