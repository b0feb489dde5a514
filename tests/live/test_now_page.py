"""The dashboard's "Now" page under AppTest: open incidents and who is engaged, the day so far,
freshness and the last webhook event applied (tests/conftest.py: pipeline_db)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from streamlit.testing.v1 import AppTest

from dashboard import fmt
from etl.config import load_config
from etl.sqlfiles import sql_text
from tests.warehouse import writable_copy

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def run_now_page(db: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("PAGERLENS_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at.switch_page("views/now.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def texts(at: AppTest) -> str:
    parts = [
        str(e.value)
        for kind in ("caption", "success", "warning", "info")
        for e in getattr(at, kind)
    ]
    return "\n".join(parts + [f"{m.label} {m.value}" for m in at.metric])


def test_now_page_on_a_synced_warehouse(pipeline_db, monkeypatch):
    at = run_now_page(pipeline_db, monkeypatch)
    con = duckdb.connect(str(pipeline_db), read_only=True)
    open_numbers = {
        row[0]
        for row in con.execute(
            "select incident_number from incidents where status in ('triggered', 'acknowledged')"
        ).fetchall()
    }
    (today,) = con.execute(
        "select count(*) from incidents, stg_data_period where created_at < data_end and"
        " created_at >= timezone($tz, date_trunc('day', timezone($tz, data_end)))",
        {"tz": load_config().reporting_time_zone},
    ).fetchone()
    con.close()
    shown = texts(at)
    assert "No webhook event has been applied" in shown
    assert "by a sync" in shown
    assert f"Incidents {fmt.number(today)}" in shown
    if open_numbers:
        table = next(e.value for e in at.dataframe if "assigned_to" in e.value.columns)
        assert set(table["incident_number"]) == open_numbers
    else:
        assert "No incident is open." in shown


def test_now_page_shows_the_last_webhook_event(pipeline_db, tmp_path, monkeypatch):
    db = writable_copy(pipeline_db, tmp_path / "live")
    con = duckdb.connect(str(db))
    con.execute(sql_text("sql/live/live_status_schema.sql"))
    con.execute(
        sql_text("sql/live/upsert_live_status.sql"),
        {
            "run_id": "live-test",
            "applied_at": "2026-03-02T00:00:05Z",
            "events_applied": 1234,
            "last_event_received_at": "2026-03-02T00:00:03Z",
            "last_event_type": "incident.acknowledged",
            "last_event_occurred_at": "2026-03-01T23:59:58Z",
        },
    )
    con.close()
    shown = texts(run_now_page(db, monkeypatch))
    assert f"Last webhook event applied: {fmt.md_escape('incident.acknowledged')}" in shown
    assert "1,234 events this session" in shown
