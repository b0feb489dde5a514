"""Fixtures of the simulator tests: ``tiny``, a server over the hand-built four-incident
account (``tests/simulator/tiny_account.py``) with a client authenticated for it."""

from __future__ import annotations

import pytest

from simulator.server import SimServer
from tests.simulator.server_helpers import client
from tests.simulator.tiny_account import tiny_account


@pytest.fixture
def tiny():
    """(server, client) over the tiny account, stopped afterwards."""
    with SimServer(tiny_account()) as server, client(server) as http:
        yield server, http
