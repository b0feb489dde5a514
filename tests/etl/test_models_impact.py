"""Business impact: `impact_windows`, `up_time_pct`, `major_free_streaks`, stale open majors.

The synced period is [2026-03-02 00:00, 2026-03-16 00:00) UTC, two reporting weeks.
Majors (P1 unless said otherwise), hand-placed:
  PM1 on S1 [03-03 10:00, 12:00)      PM2 on S2 [03-03 11:00, 13:00)
  PM3 on S1 [03-03 12:00, 12:30)  (touches PM1's end: half-open intervals join)
  PM4 on S1 [03-05 00:00, 01:00)
  PM5 on S2 from 03-08 22:00, still open (runs to the end of the data; stale after 7 days)
  PM6 on S1 [03-10 09:00, 09:30), P4 but acknowledged by two people (major)
  PN1 on S1, P3, not major: never in a window.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from etl.transform import build_marts
from tests.etl.models_support import base_account, default_config, fetch, records

SINCE = datetime.fromisoformat("2026-03-02T00:00:00Z")
UNTIL = datetime.fromisoformat("2026-03-16T00:00:00Z")


def ts(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}:00Z")


def _account(with_open_major: bool = True):
    account = base_account(PUSER01="UTC", PUSER02="UTC")
    account.service("PSVC002", "PTEAM01", "ledger")

    def major(incident_id, service_id, start, end, priority="P1"):
        account.incident(
            incident_id,
            ts(start),
            service_id=service_id,
            priority=priority,
            status="resolved" if end else "triggered",
        )
        if end:
            account.resolve(incident_id, ts(end))

    major("PM1", "PSVC001", "03-03T10:00", "03-03T12:00")
    major("PM2", "PSVC002", "03-03T11:00", "03-03T13:00")
    major("PM3", "PSVC001", "03-03T12:00", "03-03T12:30")
    major("PM4", "PSVC001", "03-05T00:00", "03-05T01:00")
    if with_open_major:
        major("PM5", "PSVC002", "03-08T22:00", None)
    major("PM6", "PSVC001", "03-10T09:00", "03-10T09:30", priority="P4")
    account.ack("PM6", ts("03-10T09:05"), "PUSER01")
    account.ack("PM6", ts("03-10T09:06"), "PUSER02")
    major("PN1", "PSVC001", "03-04T10:00", "03-04T20:00", priority="P3")
    return account


def _build(with_open_major: bool = True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    account = _account(with_open_major)
    account.write(con)
    account.sync_run(con, SINCE, UNTIL)
    build_marts(con, default_config(), noise=False)
    return con


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return _build()


def test_impact_windows(con: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(
        con,
        "select scope, service_id, window_start, window_end, duration_seconds, incident_ids,"
        " has_open_incident from impact_windows order by scope, service_id, window_start",
    )
    expected = [
        ("account", None, "03-03T10:00", "03-03T13:00", 3 * 3600, ["PM1", "PM2", "PM3"], False),
        ("account", None, "03-05T00:00", "03-05T01:00", 3600, ["PM4"], False),
        ("account", None, "03-08T22:00", "03-16T00:00", 7 * 86400 + 2 * 3600, ["PM5", "PM6"], True),
        ("service", "PSVC001", "03-03T10:00", "03-03T12:30", 9000, ["PM1", "PM3"], False),
        ("service", "PSVC001", "03-05T00:00", "03-05T01:00", 3600, ["PM4"], False),
        ("service", "PSVC001", "03-10T09:00", "03-10T09:30", 1800, ["PM6"], False),
        ("service", "PSVC002", "03-03T11:00", "03-03T13:00", 7200, ["PM2"], False),
        ("service", "PSVC002", "03-08T22:00", "03-16T00:00", 7 * 86400 + 2 * 3600, ["PM5"], True),
    ]
    assert rows == [
        dict(
            scope=s,
            service_id=sid,
            window_start=ts(a),
            window_end=ts(b),
            duration_seconds=float(d),
            incident_ids=ids,
            has_open_incident=o,
        )
        for s, sid, a, b, d, ids, o in expected
    ]


def test_up_time_pct_per_service_and_week(con: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(
        con,
        "select service_id, week_start, impacted_seconds, up_time_pct, total_major_incidents"
        " from service_weekly order by service_id, week_start",
    )
    week = 604800.0

    def up_time(impacted: float):
        return pytest.approx(100 * (1 - impacted / week))

    assert rows == records(
        "service_id week_start impacted_seconds up_time_pct total_major_incidents",
        [
            ("PSVC001", date(2026, 3, 2), 12600.0, up_time(12600), 3),
            ("PSVC001", date(2026, 3, 9), 1800.0, up_time(1800), 1),
            # PM2 (2 h) and the first two hours of the open PM5 before Monday.
            ("PSVC002", date(2026, 3, 2), 14400.0, up_time(14400), 2),
            # A week with no incident of its own, fully inside the open major's window.
            ("PSVC002", date(2026, 3, 9), week, 0.0, 0),
        ],
    )


def test_major_free_streaks_with_an_open_major(con: duckdb.DuckDBPyConnection) -> None:
    (row,) = fetch(con, "select * from major_free_streaks")
    assert row["data_start"] == SINCE and row["data_end"] == UNTIL
    assert row["account_impact_window_count"] == 3
    # Open major: no current streak. Longest gap: 03-05 01:00 to 03-08 22:00 (93 hours).
    assert row["current_streak_start"] is None
    assert row["current_streak_seconds"] == 0
    assert (row["longest_streak_start"], row["longest_streak_end"]) == (
        ts("03-05T01:00"),
        ts("03-08T22:00"),
    )
    assert row["longest_streak_seconds"] == 93 * 3600


def test_major_free_streaks_when_all_majors_are_resolved() -> None:
    (row,) = fetch(_build(with_open_major=False), "select * from major_free_streaks")
    # Last window ends 03-10 09:30; the current streak runs to the end of the data and is
    # the longest (5 days 14.5 hours).
    assert row["current_streak_start"] == ts("03-10T09:30")
    assert row["current_streak_seconds"] == 5 * 86400 + 14.5 * 3600
    assert row["longest_streak_start"] == ts("03-10T09:30")
    assert row["longest_streak_seconds"] == row["current_streak_seconds"]


def test_stale_open_majors(con: duckdb.DuckDBPyConnection) -> None:
    rows = fetch(con, "select incident_id, seconds_open from stale_open_majors")
    assert rows == [dict(incident_id="PM5", seconds_open=7 * 86400 + 2 * 3600.0)]
    flags = dict(con.execute("select incident_id, is_stale_open_major from incidents").fetchall())
    assert [i for i, stale in flags.items() if stale] == ["PM5"]


def test_stale_threshold_is_configuration() -> None:
    con = duckdb.connect()
    account = _account()
    account.write(con)
    account.sync_run(con, SINCE, UNTIL)
    build_marts(con, default_config(stale_open_major_days=8), noise=False)
    assert fetch(con, "select * from stale_open_majors") == []


def test_open_major_runs_to_latest_fetch_without_sync_runs() -> None:
    con = duckdb.connect()
    account = _account()
    account.write(con, fetched_at=datetime.fromisoformat("2026-03-09T00:00:00Z"))
    build_marts(con, default_config(), noise=False)
    (window,) = fetch(
        con,
        "select window_end from impact_windows where service_id = 'PSVC002' and has_open_incident",
    )
    assert window["window_end"] == datetime.fromisoformat("2026-03-09T00:00:00Z")


def test_team_weekly_up_time_uses_the_union_of_its_services(con) -> None:
    rows = fetch(
        con,
        "select week_start, impacted_seconds, total_incident_count from team_weekly"
        " order by week_start",
    )
    # Team windows equal the account windows here (one team): 3 h + 1 h + 2 h in week one.
    assert rows == [
        dict(week_start=date(2026, 3, 2), impacted_seconds=6 * 3600.0, total_incident_count=6),
        dict(week_start=date(2026, 3, 9), impacted_seconds=604800.0, total_incident_count=1),
    ]


def test_mtta_mttr_by_urgency_and_priority(con) -> None:
    rows = fetch(
        con,
        "select dimension, dimension_value, total_incident_count, mean_seconds_to_resolve,"
        " total_major_incidents from incident_weekly_by_dimension"
        " where week_start = '2026-03-02' order by dimension, dimension_value",
    )
    every_resolve = (7200 + 7200 + 1800 + 3600 + 36000) / 5
    assert rows == records(
        "dimension dimension_value total_incident_count mean_seconds_to_resolve"
        " total_major_incidents",
        [
            ("account", "all", 6, every_resolve, 5),
            ("priority", "P1", 5, (7200 + 7200 + 1800 + 3600) / 4, 5),
            ("priority", "P3", 1, 36000.0, 0),
            ("urgency", "high", 6, every_resolve, 5),
        ],
    )


def test_up_time_in_a_daylight_saving_week_of_the_reporting_zone() -> None:
    # New York's week of 2026-03-02 lasts 167 hours (clocks go forward on 03-08). An open
    # major covering the whole week gives 0 % up-time, not a negative one.
    account = base_account()
    account.incident("PDST001", ts("03-01T00:00"), priority="P1", status="triggered")
    con = duckdb.connect()
    account.write(con)
    account.sync_run(con, ts("03-01T00:00"), ts("03-20T00:00"))
    build_marts(con, default_config(reporting_time_zone="America/New_York"), noise=False)
    rows = fetch(
        con,
        "select week_start, impacted_seconds, up_time_pct from service_weekly order by week_start",
    )
    assert rows[1] == dict(
        week_start=date(2026, 3, 2), impacted_seconds=167 * 3600.0, up_time_pct=0.0
    )
    assert rows[2] == dict(
        week_start=date(2026, 3, 9), impacted_seconds=168 * 3600.0, up_time_pct=0.0
    )
