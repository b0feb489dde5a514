"""Shared fixtures: a small simulated PagerDuty account, a live simulated API server, and the
canonical test warehouse (``pipeline_db``) with its hand-made companion (``hostile_db``).

``sim_account`` is generated once per test session (14 days ending at :data:`SIM_END`, seed 7);
``sim_server`` is a fresh :class:`~simulator.server.SimServer` on 127.0.0.1 per test,
serving that account over plain http, with an empty request log and the clock at
``sim_account.end``. Tests may change the server's clock, faults and log freely.

Example::

    def test_sync(sim_server, tmp_path):
        run_sync(tmp_path / "w.duckdb", api_url=sim_server.url, token=sim_server.token, ...)
        assert any(r.path == "/log_entries" for r in sim_server.request_log)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

# The one end date of simulated accounts in the tests: results never depend on today (a
# Monday, 00:00 UTC). Accounts are generated with ``end=SIM_END`` (or a QUALITY_DRAWS end),
# never with the simulator's default (today).
SIM_END = datetime(2026, 3, 2, tzinfo=UTC)
SIM_DAYS = 14
SIM_SEED = 7

# Quality tests (storm ARI, noise precision/recall, maintenance windows, chance groups) hold
# on every one of these accounts, not on one lucky draw: (seed, end). The ends put the
# history in winter, across the EU and US summer-time changes, and in high summer.
QUALITY_DRAWS: tuple[tuple[int, datetime], ...] = (
    (SIM_SEED, SIM_END),
    (11, datetime(2026, 11, 23, tzinfo=UTC)),
    (23, datetime(2026, 7, 13, tzinfo=UTC)),
)


@pytest.fixture(scope="session")
def sim_account():
    """The session's small simulated account: seed 7, 14 days ending at SIM_END."""
    from simulator.account import generate_account

    return generate_account(seed=SIM_SEED, days=SIM_DAYS, end=SIM_END)


@pytest.fixture
def sim_server(sim_account) -> Iterator:
    """A running SimServer over ``sim_account`` (plain http on loopback), stopped afterwards."""
    from simulator.server import SimServer

    with SimServer(sim_account) as server:
        yield server


@pytest.fixture(scope="session")
def pipeline_db(tmp_path_factory) -> Iterator:
    """The canonical test warehouse, shared by the report, dashboard and notebook tests: the
    simulator's account (seed SIM_SEED, the four weeks before SIM_END) run through the real
    pipeline (:func:`tests.warehouse.build_pipeline_warehouse`), built once per session and
    published read-only (file and folder): a test that needs to change it copies it first."""
    from tests.warehouse import build_pipeline_warehouse

    folder = tmp_path_factory.mktemp("pipeline")
    path = build_pipeline_warehouse(folder / "pagerlens.duckdb", end=SIM_END, seed=SIM_SEED)
    path.chmod(0o444)
    folder.chmod(0o555)
    yield path
    folder.chmod(0o755)


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory) -> Iterator:
    """A small hand-made raw layer built by the real pipeline: hostile alert text, team name and
    incident URL in 2026-W10, and a quiet last week (:func:`tests.warehouse.hostile_account`)."""
    from tests.warehouse import HOSTILE_SINCE, HOSTILE_UNTIL, build_raw_warehouse, hostile_account

    folder = tmp_path_factory.mktemp("hostile")
    path = build_raw_warehouse(
        folder / "pagerlens.duckdb", hostile_account(), since=HOSTILE_SINCE, until=HOSTILE_UNTIL
    )
    path.chmod(0o444)
    folder.chmod(0o555)
    yield path
    folder.chmod(0o755)


# CI's third run sets every clock a month ahead with libfaketime (.ci/run). libfaketime 0.9.10
# fakes the monotonic clock but not the deadline of a timed thread wait (sem_clockwait), so
# under it threading.Event().wait(0.05) never returns. A test whose code relies on a timed wait
# that nobody notifies skips there, saying so; CI's first two runs (real clock) run it.
UNDER_LIBFAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")
TIMED_WAITS_REASON = (
    "under libfaketime (CI's clock-ahead run) timed thread waits never end: "
    "this test runs in the runs on the real clock"
)
