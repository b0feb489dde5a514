"""Incremental staging models (etl/incremental.py): a build re-parses only the raw rows that
changed, and the warehouse it leaves equals a full build's row for row.

The proof runs the real sync against the simulator over several irregular steps, building after
each, and compares every table with a full rebuild of the same raw layer. The unit tests below
pin the cases the proof may not meet on a given account: a row re-loaded under a frozen clock,
a row gone from the raw layer, a changed model, a generated account replacing the raw layer,
and the declarations the runner must refuse.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from etl.load import Loader, Scope
from etl.transform import (
    AUTO,
    DEFAULT_MEMORY_LIMIT,
    INCREMENTAL_MEMORY_LIMIT,
    build,
    build_marts,
    discover_models,
    refresh_model,
)
from etl.warehouse import ensure_raw_schema
from simulator.account import generate_account
from tests.etl.models_support import default_config
from tests.etl.test_sync import END, account, serving, sync  # noqa: F401

# The incremental models, and how their builds report the incremental path.
INCREMENTAL = {
    "stg_incidents": "raw rows re-parsed",
    "stg_log_entries": "raw rows re-parsed",
    "int_incident_log_summary": "incident_id recomputed",
    "int_incident_acknowledgers": "incident_id recomputed",
    "int_incident_responders": "incident_id recomputed",
    "int_notifications": "log_entry_id recomputed",
    "int_interruption_sequence": "user_id recomputed",
    "int_interruptions": "interruption_id recomputed",
    "incidents": "incident_id recomputed",
    "noise_incidents": "incident_id recomputed",
    "stg_custom_field_changes": "log_entry_id recomputed",
    "incident_custom_fields": "incident_id recomputed",
}
# Models that keep few of their keyed input's keys: a build recomputes every touched log
# entry, most of which have no custom field change, so more keys than the model has rows.
SPARSE = {"stg_custom_field_changes"}
STAGED = ("stg_incidents", "stg_log_entries")
T0 = datetime(2026, 1, 5, tzinfo=UTC)
SCOPE = Scope(T0, T0 + timedelta(days=30))


def _tables(db: Path) -> dict[str, list[str]]:
    """Every table but the bookkeeping ones (``_*``), as sorted row texts."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'main' and table_name not like '\\_%' escape '\\'"
            ).fetchall()
        ]
        return {
            name: sorted(map(repr, con.execute(f"select * from {name}").fetchall()))  # noqa: S608
            for name in names
        }
    finally:
        con.close()


# The week grain: a week's rows are redone when the build touched any incident or interruption
# of that week. The shared two-week account has no week a sync leaves alone (every build would
# redo all of them, so the runner rebuilds whole), so these are proven on six weeks.
WEEKLY = {
    "int_group_weekly": "week_start recomputed",
    "incident_weekly_by_dimension": "week_start recomputed",
}


@pytest.fixture(scope="module")
def six_weeks():
    return generate_account(seed=7, days=42, end=END)


@pytest.mark.slow
def test_incremental_builds_equal_a_full_build_over_several_syncs(
    account,  # noqa: F811 - the shared fixture
    tmp_path,
    caplog,
):
    _prove_incremental_equals_full(account, tmp_path, caplog, INCREMENTAL)


@pytest.mark.slow
def test_week_grain_builds_equal_a_full_build_over_several_syncs(six_weeks, tmp_path, caplog):
    _prove_incremental_equals_full(six_weeks, tmp_path, caplog, INCREMENTAL | WEEKLY)


def _prove_incremental_equals_full(sim, tmp_path, caplog, expected: dict[str, str]) -> None:
    """Sync and build in irregular steps; every later build takes the incremental path of
    each ``expected`` model on part of its rows, and the result equals a full rebuild."""
    db = tmp_path / "incremental.duckdb"
    first_until = END - timedelta(days=4)
    clocks = [
        first_until + timedelta(hours=9),
        first_until + timedelta(days=1, hours=2, minutes=7),
        first_until + timedelta(days=3),
        END,
    ]
    caplog.set_level(logging.INFO, logger="etl.transform")
    with serving(sim, now=first_until) as server:
        sync(db, server, since=sim.start, until=first_until, build=True)
        for clock in clocks:
            server.set_clock(clock)
            caplog.clear()
            sync(db, server, until=clock, build=True)
            # Each later build took the incremental path for every incremental model, on part
            # of the rows.
            for model, unit in expected.items():
                line = next(
                    r.getMessage() for r in caplog.records if f"model {model}:" in r.getMessage()
                )
                assert unit in line, line
                rows, changed = [int(w) for w in line.replace("(", " ").split() if w.isdigit()][:2]
                assert 0 < changed and (changed < rows or model in SPARSE), line

    full = tmp_path / "full.duckdb"
    shutil.copyfile(db, full)
    build(full, default_config(), full=True, memory_limit=None)
    incremental, rebuilt = _tables(db), _tables(full)
    assert incremental.keys() == rebuilt.keys()
    assert set(expected) <= incremental.keys()
    for name in rebuilt:
        assert incremental[name] == rebuilt[name], name


def _incident(iid: str, status: str = "triggered") -> dict:
    return {
        "id": iid,
        "type": "incident",
        "incident_number": int(iid[1:]),
        "title": f"incident {iid}",
        "status": status,
        "urgency": "high",
        "created_at": "2026-01-05T10:00:00Z",
        "service": {"id": "PSVC001", "type": "service_reference"},
        "escalation_policy": {"id": "PEP1", "type": "escalation_policy_reference"},
        "html_url": f"https://x.pagerduty.com/incidents/{iid}",
    }


def _entry(lid: str, iid: str, kind: str = "trigger_log_entry") -> dict:
    return {
        "id": lid,
        "type": kind,
        "created_at": "2026-01-05T10:00:00Z",
        "incident": {"id": iid, "type": "incident_reference"},
        "channel": {"type": "api", "summary": f"disk full on {lid}"},
    }


def _load(con, clock: datetime, incidents=(), entries=()) -> None:
    loader = Loader(con, "run", SCOPE, clock=lambda: clock)
    loader.add("incidents", list(incidents))
    loader.add("log_entries", list(entries))
    loader.flush()


def _staged(con, model: str = "stg_log_entries") -> dict[str, tuple]:
    if model == "stg_log_entries":
        sql = "select log_entry_id, entry_type, trigger_summary from stg_log_entries"
    else:
        sql = "select incident_id, status, title from stg_incidents"
    return {row[0]: row[1:] for row in con.execute(sql).fetchall()}


def _refresh(con, *, full: bool = False) -> dict[str, int | None]:
    """Run the two incremental models; their ``changed`` (None: built from scratch)."""
    params = default_config().sql_params()
    return {
        m.name: refresh_model(con, m, params, full=full).changed
        for m in discover_models()
        if m.name in STAGED
    }


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_raw_schema(con)
    con.execute("set TimeZone = 'UTC'")
    # Rows no case touches: past half the rows changed, a build starts from scratch.
    filler = [_incident(f"P9{i}") for i in range(4)]
    _load(con, T0 - timedelta(days=1), filler, [_entry(f"L9{i}", f"P9{i}") for i in range(4)])
    yield con
    con.close()


def test_first_build_is_full_then_only_changed_rows_are_reparsed(con):
    _load(con, T0, [_incident("P1")], [_entry("L1", "P1"), _entry("L2", "P1")])
    assert _refresh(con) == {"stg_incidents": None, "stg_log_entries": None}
    assert _refresh(con) == {"stg_incidents": 0, "stg_log_entries": 0}
    _load(con, T0 + timedelta(hours=1), [_incident("P1", "resolved")], [_entry("L3", "P1")])
    assert _refresh(con) == {"stg_incidents": 1, "stg_log_entries": 1}
    assert _staged(con, "stg_incidents")["P1"] == ("resolved", "incident P1")
    assert set(_staged(con)) == {"L1", "L2", "L3", "L90", "L91", "L92", "L93"}
    # Most rows fetched again (`sync --full`): cheaper to build the table anew.
    reloaded = [_incident(f"P9{i}") for i in range(4)]
    _load(con, T0 + timedelta(hours=2), reloaded, [_entry(f"L9{i}", f"P9{i}") for i in range(4)])
    assert _refresh(con) == {"stg_incidents": None, "stg_log_entries": None}


def test_a_row_reloaded_under_a_frozen_clock_is_reparsed(con):
    _load(con, T0, [_incident("P1")], [_entry("L1", "P1")])
    _refresh(con)
    # Same id, same clock, another payload: the loader moves fetched_at forward all the same.
    _load(con, T0, [_incident("P1", "acknowledged")], [_entry("L1", "P1", "resolve_log_entry")])
    assert _refresh(con) == {"stg_incidents": 1, "stg_log_entries": 1}
    assert _staged(con, "stg_incidents")["P1"][0] == "acknowledged"
    assert _staged(con)["L1"] == ("resolve_log_entry", None)


def test_rows_gone_from_the_raw_layer_leave_the_model(con):
    _load(con, T0, [_incident("P1"), _incident("P2")], [_entry("L1", "P1"), _entry("L2", "P2")])
    _refresh(con)
    con.execute("delete from raw_incidents where id = 'P2'")
    con.execute("delete from raw_log_entries where id = 'L2'")
    assert _refresh(con) == {"stg_incidents": 1, "stg_log_entries": 1}
    assert "P2" not in _staged(con, "stg_incidents") and "P1" in _staged(con, "stg_incidents")
    assert "L2" not in _staged(con) and "L1" in _staged(con)


def test_full_a_generated_account_or_lost_state_rebuild_from_scratch(con):
    _load(con, T0, [_incident("P1")], [_entry("L1", "P1")])
    _refresh(con)
    assert _refresh(con, full=True) == {"stg_incidents": None, "stg_log_entries": None}
    # A generated account replaces the raw layer with rows of one fixed fetched_at.
    con.execute(
        "insert into _sync_runs (run_id, started_at, status, mode) values ('g', ?, 'ok', 'generate')",
        [T0],
    )
    assert _refresh(con) == {"stg_incidents": None, "stg_log_entries": None}
    assert _refresh(con) == {"stg_incidents": 0, "stg_log_entries": 0}
    con.execute("drop table _incremental_stg_log_entries")
    assert _refresh(con) == {"stg_incidents": 0, "stg_log_entries": None}


def test_a_changed_model_is_rebuilt_from_scratch(con, tmp_path):
    staging = tmp_path / "staging"
    staging.mkdir()
    for layer in ("marts", "noise"):
        (tmp_path / layer).mkdir()
    path = staging / "stg_x.sql"
    header = "-- incremental: per raw_incidents row, keyed by incident_id\n"
    path.write_text(header + "select id as incident_id, 1 as version from raw_incidents")
    _load(con, T0, [_incident("P1")])
    params = default_config().sql_params()

    def refreshed() -> int | None:
        (model,) = discover_models(tmp_path)
        return refresh_model(con, model, params, full=False).changed

    assert refreshed() is None and refreshed() == 0
    path.write_text(header + "select id as incident_id, 2 as version from raw_incidents")
    assert refreshed() is None
    assert {row[0] for row in con.execute("select version from stg_x").fetchall()} == {2}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "-- incremental: per raw_incidents row, keyed by incident_id\n"
            "select i.id as incident_id from raw_incidents i join raw_services s on true",
            "must read raw_incidents alone",
        ),
        (
            "-- incremental: per raw_incidents row, keyed by incident_id\n"
            "select id as incident_id, now() as seen from raw_incidents",
            "calls now",
        ),
        (
            "-- incremental: per raw_incidents row, keyed by incident_id\n"
            "select id as incident_id from raw_incidents where id in (select x from stg_y)",
            "reads other models",
        ),
        ("-- incremental: raw_incidents\nselect id from raw_incidents", "header must read"),
        # The key grain (etl/incremental_keyed.py; its own tests: test_incremental_keyed.py).
        ("-- incremental: per incident_id of stg_y\nselect 1 as incident_id", "does not read"),
        (
            "-- incremental: per incident_id of raw_incidents\n"
            "select id as incident_id from raw_incidents",
            "a raw table has no delta",
        ),
        (
            "-- incremental: per incident_id of stg_y\n-- incremental: and more\n"
            "select x as incident_id from stg_y",
            "unreadable incremental declaration",
        ),
        (
            "-- incremental: per incident_id of stg_y\n"
            "select x as incident_id, current_date as d from stg_y",
            "calls current_date",
        ),
    ],
)
def test_declarations_the_runner_refuses(tmp_path, sql, message):
    for layer in ("staging", "marts", "noise"):
        (tmp_path / layer).mkdir()
    (tmp_path / "staging" / "stg_x.sql").write_text(sql)
    (tmp_path / "staging" / "stg_y.sql").write_text("select 1 as x")
    with pytest.raises(ValueError, match=message):
        discover_models(tmp_path)


def test_build_marts_reports_the_incremental_models(con):
    _load(con, T0, [_incident("P1")], [_entry("L1", "P1")])
    config = default_config()
    build_marts(con, config, noise=False)
    _load(con, T0 + timedelta(minutes=5), entries=[_entry("L2", "P1")])
    summary = build_marts(con, config, noise=False)
    changed = {r.name: r.changed for r in summary.runs if r.changed is not None}
    # The new entry touched one incident of five. The filler incidents are open, so the
    # incidents mart (which redoes open incidents) has most rows to redo and builds anew, and
    # so does every model with no rows yet (nobody acknowledged; no notifications).
    assert changed == {"stg_incidents": 0, "stg_log_entries": 1, "int_incident_log_summary": 1}
    assert "stg_log_entries: 1 raw rows re-parsed" in summary.log_line()
    assert "int_incident_log_summary: 1 incident_id recomputed" in summary.log_line()


def test_a_build_that_continues_the_last_one_runs_under_the_lower_memory_limit(con):
    def shown(limit: str) -> str:
        reference = duckdb.connect()
        reference.execute(f"set memory_limit = '{limit}'")
        return reference.execute("select current_setting('memory_limit')").fetchall()[0][0]

    def built_under(**options) -> str:
        build_marts(con, default_config(), noise=False, memory_limit=AUTO, **options)
        return con.execute("select current_setting('memory_limit')").fetchall()[0][0]

    # From scratch: the default; a nightly (the state of the last build kept): the lower one.
    assert built_under() == shown(DEFAULT_MEMORY_LIMIT)
    assert built_under() == shown(INCREMENTAL_MEMORY_LIMIT)
    assert built_under(full=True) == shown(DEFAULT_MEMORY_LIMIT)


def test_a_full_build_reuses_the_blocks_of_the_tables_it_replaces(pipeline_db, tmp_path):
    """A full build drops the models' tables before it builds them again, so the file stays
    the size of one build: without it, each table's new version was written beside the old
    one and the freed blocks stayed in the file (1 GB of 4.4 at a million incidents)."""

    def blocks(db: Path) -> int:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute("select total_blocks from pragma_database_size()").fetchall()[0][0]
        finally:
            con.close()

    db = tmp_path / "rebuilt.duckdb"
    shutil.copyfile(pipeline_db, db)
    db.chmod(0o644)
    build(db, default_config(), full=True, memory_limit=None)
    once = blocks(db)
    before = _tables(db)
    for _ in range(2):
        build(db, default_config(), full=True, memory_limit=None)
    assert blocks(db) <= once
    assert _tables(db) == before
