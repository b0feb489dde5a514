"""The apply worker: events stay pending (and the published warehouse untouched) while the
apply cannot run; API faults are retried; a sync and the worker share the writer lock and
neither loses the other's work."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import timedelta

import duckdb
import pytest

from etl.cli.simulated import sync_simulated
from etl.live import ApplyWorker, NotSynced, Spool, parse_event
from etl.pd_client import PagerDutyClient, PagerDutyError, RateLimiter, RetryPolicy
from etl.sync import run_sync
from etl.warehouse import WarehouseBusy, building
from tests.conftest import SIM_END, SIM_SEED

T0 = SIM_END - timedelta(hours=10)


@pytest.fixture(scope="module")
def account():
    from simulator.account import generate_account

    return generate_account(seed=SIM_SEED, days=2, end=SIM_END)


@pytest.fixture
def server(account):
    from simulator.server import SimServer

    with SimServer(account, now=T0) as running:
        yield running


@pytest.fixture
def synced(server, tmp_path):
    """A warehouse synced up to T0; the server's clock then moves to SIM_END."""
    db = tmp_path / "w.duckdb"
    sync_simulated(db, server, T0, rate_per_minute=1e6)
    server.set_clock(SIM_END)
    server.clear_log()
    return db


def client_for(server, attempts: int = 8) -> PagerDutyClient:
    return PagerDutyClient(
        server.token,
        base_url=server.url,
        limiter=RateLimiter(1e6),
        retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.05),
    )


def spool_events_after(account, spool: Spool, since) -> set[str]:
    """Store the webhook events of every log entry after ``since``; their incident ids."""
    from simulator.webhooks import event_for

    touched = set()
    for sim in account.incidents:
        for entry in sim.log_entries:
            event = event_for(sim, entry)
            if event is not None and entry["created_at"] >= since.isoformat()[:19]:
                body = json.dumps(event).encode()
                spool.add(parse_event(body), body)
                touched.add(sim.id)
    return touched


def incident_states(db) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("select incident_id, status from incidents").fetchall())
    finally:
        con.close()


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def worker_for(server, db, spool, **kwargs) -> ApplyWorker:
    return ApplyWorker(spool, db, client_for(server, **kwargs), clock=lambda: server.now)


def test_apply_brings_the_touched_incidents_up_to_date(account, server, synced, tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    touched = spool_events_after(account, spool, T0)
    before = incident_states(synced)
    result = worker_for(server, synced, spool).apply_pending()
    after = incident_states(synced)
    assert result.incidents == len(touched) and not result.missing
    assert spool.status()["pending"] == 0
    for sim in account.incidents:
        assert after[sim.id] == sim.as_of(SIM_END)[0]["status"]
    assert set(after) - set(before)  # incidents created after T0 arrived
    paths = {r.path for r in server.request_log}
    assert {f"/incidents/{i}" for i in touched} <= paths
    assert {f"/incidents/{i}/log_entries" for i in touched} <= paths
    assert "/log_entries" not in paths  # the change feed is the nightly sync's


def test_busy_writer_postpones_and_keeps_every_event(account, server, synced, tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    spool_events_after(account, spool, T0)
    pending = spool.status()["pending"]
    published = digest(synced)
    worker = worker_for(server, synced, spool)
    with building(synced):  # a sync is writing
        with pytest.raises(WarehouseBusy):
            worker.apply_pending()
    assert spool.status()["pending"] == pending
    assert worker.apply_pending() is not None
    assert spool.status()["pending"] == 0 and digest(synced) != published


def test_never_synced_warehouse_keeps_events(account, server, tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    spool_events_after(account, spool, T0)
    with pytest.raises(NotSynced, match="pagerlens sync"):
        worker_for(server, tmp_path / "empty.duckdb", spool).apply_pending()
    assert spool.status()["applied"] == 0


def test_api_faults_are_retried_and_a_dead_api_changes_nothing(account, server, synced, tmp_path):
    from simulator.faults import FaultSpec

    spool = Spool(tmp_path / "spool.sqlite")
    spool_events_after(account, spool, T0)
    published = digest(synced)
    server.faults = FaultSpec.parse("503=1.0")
    with pytest.raises(PagerDutyError):
        worker_for(server, synced, spool, attempts=2).apply_pending()
    assert digest(synced) == published and spool.status()["applied"] == 0
    server.faults = FaultSpec.parse("429=0.1,500=0.1,502=0.05,seed=4")
    worker_for(server, synced, spool).apply_pending()
    assert spool.status()["pending"] == 0
    assert any(r.status in (429, 500, 502) for r in server.request_log)
    states = incident_states(synced)
    assert all(states[s.id] == s.as_of(SIM_END)[0]["status"] for s in account.incidents)


def test_sync_and_worker_side_by_side_lose_nothing(account, server, synced, tmp_path):
    """The worker applies while a sync runs: whichever publishes second starts from what the
    first published; at the end both runs' work is in the warehouse."""
    spool = Spool(tmp_path / "spool.sqlite")
    spool_events_after(account, spool, T0)
    worker = worker_for(server, synced, spool)
    worker.poll_interval, worker.debounce = 0.05, 0.0
    worker.start()
    worker.notify()
    errors = []

    def nightly():
        for _ in range(50):  # the cron retries a run that found the lock taken
            try:
                run_sync(
                    synced,
                    api_url=server.url,
                    token=server.token,
                    until=SIM_END,
                    rate_per_minute=1e6,
                )
                return
            except WarehouseBusy as exc:
                errors.append(exc)
                time.sleep(0.1)

    sync_thread = threading.Thread(target=nightly)
    sync_thread.start()
    sync_thread.join()
    for _ in range(100):
        if spool.status()["pending"] == 0:
            break
        time.sleep(0.1)
    worker.stop()
    assert spool.status()["pending"] == 0
    con = duckdb.connect(str(synced), read_only=True)
    modes = {row[0] for row in con.execute("select mode from _sync_runs").fetchall()}
    con.close()
    assert {"full", "incremental", "live"} <= modes
    states = incident_states(synced)
    assert all(states[s.id] == s.as_of(SIM_END)[0]["status"] for s in account.incidents)


def test_order_of_deliveries_does_not_matter(account, server, synced, tmp_path):
    """Events stored newest first (a resolve before its acknowledge, retries late) give the
    same warehouse as in order: the apply reads each incident's state from the API."""
    from simulator.webhooks import event_for

    spool = Spool(tmp_path / "spool.sqlite")
    bodies = [
        json.dumps(event).encode()
        for sim in account.incidents
        for entry in sim.log_entries
        if entry["created_at"] >= T0.isoformat()[:19]
        and (event := event_for(sim, entry)) is not None
    ]
    for body in reversed(bodies + bodies[:5]):  # reversed, and five of them twice
        spool.add(parse_event(body), body)
    worker_for(server, synced, spool).apply_pending()
    assert spool.status()["duplicate_deliveries"] == 5
    states = incident_states(synced)
    assert all(states[s.id] == s.as_of(SIM_END)[0]["status"] for s in account.incidents)
