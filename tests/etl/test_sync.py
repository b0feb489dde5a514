"""The nightly ETL end to end against the simulated PagerDuty (a real HTTP server).

Asserts on the rows loaded and on the requests the server saw: windows, total=true on first
pages, pagination stopping, alerts fetched only where they add information, and the cost of an
incremental run. The central proof: any sequence of incremental runs, with the simulator's
clock moving between them, leaves the same rows as one full re-sync of the same period.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from etl.pd_client import RetryPolicy
from etl.per_service import PER_SERVICE_READS
from etl.queries import MART_TABLES
from etl.sync import SyncSummary, run_sync
from etl.warehouse import RAW_RESOURCES
from simulator.account import generate_account
from simulator.server import SimServer
from tests.conftest import SIM_END as END

FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.02, retry_after_cap=0.02)
# Tests do not exercise the rate limit unless they say so: a bucket nobody empties.
NO_LIMIT = 1_000_000
CATALOGS = ("services", "teams", "users", "escalation_policies", "schedules", "priorities")
PER_SERVICE_PREFIXES = tuple(read.path_for("") for read in PER_SERVICE_READS)


# -- shared helpers (also used by test_faults and test_crash) ----------------------------------
@pytest.fixture(scope="session")
def account(sim_account):
    """Two weeks of the default account ending at END (the session's shared account)."""
    assert sim_account.end == END
    return sim_account


@contextmanager
def serving(account, **kw) -> Iterator[SimServer]:
    kw.setdefault("rate_per_minute", NO_LIMIT)
    server = SimServer(account, **kw)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def sync(db: Path, server: SimServer, **kw) -> SyncSummary:
    kw.setdefault("build", False)
    kw.setdefault("retry", FAST_RETRY)
    kw.setdefault("rate_per_minute", NO_LIMIT)
    return run_sync(db, api_url=server.url, token=server.token, **kw)


def raw_rows(db: Path) -> dict[str, set[tuple[str, str]]]:
    """Every raw table as a set of (id, payload text): fetched_at deliberately left out."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            name: set(con.execute(f"select id, payload::varchar from raw_{name}").fetchall())
            for name in RAW_RESOURCES
        }
    finally:
        con.close()


def clean_rows(account, db: Path, since: datetime) -> dict[str, set[tuple[str, str]]]:
    """The raw rows of a sync of [since, END) with every endpoint answering: the reference a
    faulty or refused run of the same period is compared with."""
    with serving(account) as server:
        sync(db, server, since=since, until=END)
    return raw_rows(db)


def api_requests(server: SimServer, path: str | None = None, prefix: str | None = None) -> list:
    return [
        r
        for r in server.request_log
        if (path is None or r.path == path) and (prefix is None or r.path.startswith(prefix))
    ]


def ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def expected_alert_incidents(account, now: datetime, since: datetime) -> set[str]:
    """The rule of docs/etl.md: >1 alert, or one alert and a trigger entry without content."""
    chosen = set()
    for sim in account.incidents:
        state = sim.as_of(now)
        if state is None:
            continue
        incident, entries, _ = state
        if not since <= ts(incident["created_at"]) < now:
            continue
        count = incident["alert_counts"]["all"]
        described = any(
            e["type"] == "trigger_log_entry"
            and (
                (e.get("channel") or {}).get("details")
                or (e.get("channel") or {}).get("cef_details")
            )
            for e in entries
        )
        if count > 1 or (count == 1 and not described):
            chosen.add(incident["id"])
    return chosen


# -- full backfill ----------------------------------------------------------------------------
def test_full_sync_loads_every_resource_with_the_right_requests(account, tmp_path):
    db = tmp_path / "w.duckdb"
    since = account.start
    with serving(account) as server:
        summary = sync(db, server, since=since, until=END)
        log = server.request_log

    rows = raw_rows(db)
    states = [sim.as_of(END) for sim in account.incidents]
    states = [s for s in states if s is not None and since <= ts(s[0]["created_at"]) < END]
    entries = [e for s in states for e in s[1]]
    assert {i for i, _ in rows["incidents"]} == {s[0]["id"] for s in states}
    assert {i for i, _ in rows["log_entries"]} == {e["id"] for e in entries}
    for name in CATALOGS:
        assert {i for i, _ in rows[name]} == {item["id"] for item in getattr(account, name)}, name
    assert rows["oncalls"], "on-call entries overlapping the range"
    # The incidents' payloads are the API's (current state), the log entries keep a reference.
    loaded = {i: json.loads(p) for i, p in rows["incidents"]}
    for incident, _, _ in states[:50]:
        assert loaded[incident["id"]] == json.loads(json.dumps(incident))
    entry = json.loads(next(iter(rows["log_entries"]))[1])
    assert entry["incident"]["type"] == "incident_reference"

    # Alerts: one request per incident that needs them, none for the others.
    wanted = expected_alert_incidents(account, END, since)
    asked = {r.path.split("/")[2] for r in log if r.path.endswith("/alerts")}
    assert asked == wanted
    assert 0 < len(wanted) < len(states) / 3
    alert_incidents = {json.loads(p)["incident"]["id"] for _, p in rows["alerts"]}
    assert alert_incidents == wanted

    # Pagination: the first page of every listing asks for the total; pages stop at the total.
    assert all(r.status == 200 for r in log)
    by_listing: dict[tuple, list] = {}
    # A service's Event Orchestration and its dependencies are one object each, no pages:
    # one request per service for each.
    for read in PER_SERVICE_READS:
        prefix = read.path_for("")
        asked = [r.path for r in log if r.path.startswith(prefix)]
        assert sorted(asked) == sorted(read.path_for(s["id"]) for s in account.services)
    for r in log:
        if r.path.startswith(PER_SERVICE_PREFIXES):
            continue
        key = (r.path, r.query.get("since"), r.query.get("until"))
        by_listing.setdefault(key, []).append(r)
    for key, requests in by_listing.items():
        offsets = sorted(int(r.query.get("offset", 0)) for r in requests)
        assert offsets == list(range(0, 100 * len(offsets), 100)), key
        first = [r for r in requests if int(r.query.get("offset", 0)) == 0]
        assert len(first) == 1 and first[0].query.get("total") == "true", key
    entry_pages = [r for r in log if r.path == "/log_entries"]
    assert len(entry_pages) == math.ceil(len(entries) / 100)
    assert all(r.query["include[]"] == ["channels"] for r in entry_pages)
    incident_windows = {(r.query["since"], r.query["until"]) for r in log if r.path == "/incidents"}
    assert incident_windows == {("2026-02-16T00:00:00Z", "2026-03-02T00:00:00Z")}
    assert not [r for r in log if r.path.endswith("/log_entries") and r.path != "/log_entries"]

    assert summary.mode == "full"
    assert summary.requests == len(log)
    assert summary.records["incidents"] == len(states)
    assert summary.rejects == 0 and summary.retries == 0


def test_default_since_is_90_days_and_summary_is_recorded(account, tmp_path):
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        summary = sync(db, server, until=END)
        first = api_requests(server, "/log_entries")[0]
    assert first.query["since"] == "2025-12-02T00:00:00Z"
    con = duckdb.connect(str(db), read_only=True)
    run = con.execute(
        "select run_id, status, mode, requests, rejects, records_json, since, until from _sync_runs"
    ).fetchall()
    marks = dict(con.execute("select resource, value from _watermarks").fetchall())
    con.close()
    assert len(run) == 1
    run_id, status, mode, requests, rejects, records, since, until = run[0]
    assert (run_id, status, mode, requests, rejects) == (
        summary.run_id,
        "ok",
        "full",
        summary.requests,
        0,
    )
    assert json.loads(records) == summary.records
    assert until == END and since == END - timedelta(days=90)
    assert marks["scope_since"] == END - timedelta(days=90) and marks["log_entries"] == END
    line = summary.log_line()
    assert line.startswith("sync ok: full run") and "\n" not in line
    assert f"{summary.requests} requests" in line


# -- incremental == full ----------------------------------------------------------------------
def test_incremental_runs_equal_a_full_resync(account, tmp_path):
    start = account.start
    first_until = END - timedelta(days=11)
    # Irregular steps: half a day, hours, a second, days.
    clocks = [
        first_until + timedelta(hours=12),
        first_until + timedelta(days=1),
        first_until + timedelta(days=1, hours=7, minutes=13),
        first_until + timedelta(days=1, hours=7, minutes=13, seconds=1),
        first_until + timedelta(days=3),
        first_until + timedelta(days=6),
        END,
    ]
    incremental_db = tmp_path / "incremental.duckdb"
    with serving(account, now=first_until) as server:
        sync(incremental_db, server, since=start, until=first_until)
        for clock in clocks:
            server.set_clock(clock)
            summary = sync(incremental_db, server, until=clock)
            assert summary.mode == "incremental"
    full_db = tmp_path / "full.duckdb"
    with serving(account, now=END) as server:
        sync(full_db, server, since=start, until=END)

    incremental, full = raw_rows(incremental_db), raw_rows(full_db)
    for name in RAW_RESOURCES:
        assert incremental[name] == full[name], name

    # The proof covers what it claims: incidents resolved by a run whose window starts more
    # than a day after they were created (so neither their creation nor their trigger entry
    # was in the window that saw them resolved).
    edges = [first_until, *clocks]
    final = [json.loads(p) for _, p in full["incidents"]]
    long_open = []
    for incident in final:
        resolved = ts(incident.get("resolved_at"))
        if resolved is None or resolved < first_until:
            continue
        window_start = max(edge for edge in edges if edge < resolved)
        if ts(incident["created_at"]) < window_start - timedelta(days=1):
            long_open.append(incident["id"])
    assert long_open, "the clocks should catch an incident resolved long after its creation"


@pytest.mark.slow
def test_incremental_marts_equal_full_marts(account, tmp_path):
    transform = pytest.importorskip("etl.transform")
    assert hasattr(transform, "build_marts")
    dbs = {}
    for name in ("incremental", "full"):
        dbs[name] = tmp_path / f"{name}.duckdb"
    mid = END - timedelta(days=2)
    with serving(account, now=mid) as server:
        # Marts are rebuilt from the raw tables each time: only the last build matters.
        sync(dbs["incremental"], server, since=account.start, until=mid, build=False)
        server.set_clock(END)
        sync(dbs["incremental"], server, until=END, build=True)
    with serving(account, now=END) as server:
        sync(dbs["full"], server, since=account.start, until=END, build=True)
    tables = {}
    for name, db in dbs.items():
        con = duckdb.connect(str(db), read_only=True)
        tables[name] = {
            table: sorted(map(repr, con.execute(f"select * from {table}").fetchall()))
            for table in MART_TABLES
            if con.execute(
                "select count(*) from information_schema.tables where table_name = ?", [table]
            ).fetchall()[0][0]
        }
        con.close()
    assert tables["incremental"].keys() == tables["full"].keys() and tables["full"]
    for table in tables["full"]:
        assert tables["incremental"][table] == tables["full"][table], table


# -- cost of a nightly run --------------------------------------------------------------------
def nightly_requests(days: int, tmp_path: Path) -> tuple[list, datetime]:
    account = generate_account(seed=7, days=days, end=END)
    db = tmp_path / f"h{days}.duckdb"
    yesterday = END - timedelta(days=1)
    with serving(account, now=yesterday) as server:
        sync(db, server, since=account.start, until=yesterday)
        server.set_clock(END)
        server.clear_log()
        sync(db, server, until=END)
        return server.request_log, yesterday


@pytest.mark.slow
def test_nightly_cost_is_small_and_independent_of_history(tmp_path):
    short, yesterday = nightly_requests(14, tmp_path)
    long, _ = nightly_requests(56, tmp_path)
    for log in (short, long):
        windowed = [r for r in log if "since" in r.query]
        # Nothing reaches back into history: every window starts at the watermark less 1 h.
        assert min(ts(r.query["since"]) for r in windowed) == yesterday - timedelta(hours=1)
        open_refresh = [r for r in log if r.query.get("date_range") == "all"]
        assert open_refresh and all(
            r.query["statuses[]"] == ["triggered", "acknowledged"] for r in open_refresh
        )
        change_feed = [r for r in log if r.path == "/log_entries"]
        assert all(r.query["include[]"] == ["channels", "incidents"] for r in change_feed)
        # One request per service for each per-service read (25 services at scale 1); the
        # rest fits in a few pages whatever the history.
        per_service = [r for r in log if r.path.startswith(PER_SERVICE_PREFIXES)]
        assert len(per_service) == 25 * len(PER_SERVICE_READS)
        assert len(log) - len(per_service) < 15
    # Four times the history, the same nightly cost (up to the day's own volume).
    assert abs(len(long) - len(short)) <= 4
    kinds = lambda log: Counter(  # noqa: E731
        "alerts" if r.path.endswith("/alerts") else r.path for r in log
    )
    for path in ("/services", "/teams", "/users", "/escalation_policies", "/schedules"):
        assert kinds(short)[path] == kinds(long)[path] == 1


# -- bad records and secrets -----------------------------------------------------------------
def test_bad_records_go_to_rejects_and_the_run_goes_on(account, tmp_path):
    broken = copy.copy(account)
    broken.services = copy.deepcopy(account.services)
    broken.users = copy.deepcopy(account.users)
    broken.services[0]["id"] = None
    broken.users[0]["name"] = 12345
    broken.incidents = list(account.incidents)
    victim = copy.deepcopy(account.incidents[-1])
    victim.log_entries[-1]["type"] = "brand_new_log_entry"
    broken.incidents[-1] = victim
    db = tmp_path / "w.duckdb"
    with serving(broken) as server:
        summary = sync(db, server, since=account.start, until=END)
    con = duckdb.connect(str(db), read_only=True)
    rejects = con.execute(
        "select source, record_key, reason, run_id from _rejects order by source"
    ).fetchall()
    kept = con.execute(
        "select count(*) from raw_log_entries where payload->>'$.type' = 'brand_new_log_entry'"
    ).fetchall()
    con.close()
    assert rejects == [
        ("/services", None, "missing id", summary.run_id),
        ("/users", account.users[0]["id"], "name: expected str, got int", summary.run_id),
    ]
    assert summary.rejects == 2
    assert kept == [(1,)]
    assert summary.records["services"] == len(account.services)


def test_token_never_reaches_the_warehouse_or_logs(account, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        token = server.token
        summary = sync(db, server, since=END - timedelta(days=3), until=END)
    assert token not in caplog.text and token not in repr(summary)
    con = duckdb.connect(str(db), read_only=True)
    tables = [
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    ]
    for table in tables:
        text = con.execute(f"select string_agg(t::varchar, '') from {table} as t").fetchall()[0][0]
        assert token not in (text or ""), table
    con.close()
    assert token not in db.read_bytes().decode("latin-1")


# -- scope changes ----------------------------------------------------------------------------
def test_an_earlier_since_extends_the_history_in_an_incremental_run(account, tmp_path):
    db = tmp_path / "w.duckdb"
    early, late = END - timedelta(days=10), END - timedelta(days=4)
    with serving(account, now=END - timedelta(days=1)) as server:
        sync(db, server, since=late, until=END - timedelta(days=1))
        server.set_clock(END)
        server.clear_log()
        summary = sync(db, server, since=early, until=END)
        gap = [r for r in server.request_log if r.path == "/incidents" and "since" in r.query]
    assert summary.mode == "incremental"
    # The gap [early, late) is backfilled alongside the usual incremental requests.
    assert {(r.query["since"], r.query["until"]) for r in gap} >= {
        ("2026-02-20T00:00:00Z", "2026-02-26T00:00:00Z")
    }
    reference = tmp_path / "reference.duckdb"
    with serving(account, now=END) as server:
        sync(reference, server, since=early, until=END)
    assert raw_rows(db) == raw_rows(reference)


def test_until_before_the_last_sync_is_refused(account, tmp_path):
    from etl.sync import SyncError

    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        sync(db, server, since=END - timedelta(days=3), until=END)
        with pytest.raises(SyncError, match="before the last sync"):
            sync(db, server, until=END - timedelta(days=2))
        # --full re-syncs an earlier period explicitly.
        assert sync(db, server, until=END - timedelta(days=2), full=True).mode == "full"


def test_progress_reports_stages(account, tmp_path):
    seen: list[tuple[str, int | None, int | None]] = []
    with serving(account) as server:
        sync(
            tmp_path / "w.duckdb",
            server,
            since=END - timedelta(days=2),
            until=END,
            progress=lambda step, done, total: seen.append((step, done, total)),
        )
    stages = [step for step, _, _ in seen]
    assert stages[0] == "extract" and "alerts" in stages
    last_extract = [s for s in seen if s[0] == "extract"][-1]
    assert last_extract[1] == last_extract[2] > 0
