"""Fixtures of the simulator tests: ``account``, the generated 90-day account (seed 7, ending at
``SIM_END``; generated once per test module), and ``tiny``, a server over the hand-built
four-incident account (``tests/simulator/tiny_account.py``) with a client authenticated for it."""

from __future__ import annotations

import pytest

from simulator.account import SimAccount, generate_account
from simulator.server import SimServer
from tests.conftest import SIM_END
from tests.simulator.server_helpers import client
from tests.simulator.tiny_account import tiny_account


@pytest.fixture
def tiny():
    """(server, client) over the tiny account, stopped afterwards."""
    with SimServer(tiny_account()) as server, client(server) as http:
        yield server, http


@pytest.fixture(scope="module")
def account() -> SimAccount:
    """Seed 7, 90 days ending at SIM_END (tests must not change it)."""
    return generate_account(seed=7, days=90, end=SIM_END)
