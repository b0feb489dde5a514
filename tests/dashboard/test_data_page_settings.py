"""The Data page and the weekly report say what the last sync skipped (plan-gated or missing
endpoints) and which services' settings distort their metrics (issue 14 parts 2 and 5)."""

from __future__ import annotations

import duckdb

from reports.weekly import data as report_data
from tests.dashboard.conftest import frame_with as _frame
from tests.dashboard.conftest import mart
from tests.dashboard.conftest import no_errors as _no_errors
from tests.dashboard.conftest import page_texts as _texts
from tests.warehouse import writable_copy

SKIPPED = (
    "priorities",
    "/priorities",
    404,
    "absent (feature switched off)",
    "Not Found",
    "no priorities: priority filters show names unranked",
    5,
    "run-x",
)


def with_skip(pipeline_db, tmp_path):
    db = writable_copy(pipeline_db, tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into skipped_resources (resource, endpoint, http_status, reason, "
            "pagerduty_message, consequence, rows_kept, run_id) values (?, ?, ?, ?, ?, ?, ?, ?)",
            list(SKIPPED),
        )
    return db


def test_data_page_lists_skipped_resources_and_distorting_settings(app, pipeline_db, tmp_path):  # noqa: F811
    db = with_skip(pipeline_db, tmp_path)
    at = app(db).run()
    at.switch_page("views/sync_data.py").run()
    _no_errors(at)
    (warning,) = [w.value for w in at.warning if "optional resource" in w.value]
    assert warning.startswith("The last sync could not read 1 optional resource(s)")
    skipped = _frame(at, "resource", "consequence")
    assert list(skipped["resource"]) == ["priorities"]
    assert list(skipped["http_status"]) == [404]
    flagged = mart(
        db,
        "select service_name from service_setting_flags "
        "where auto_resolve_distorts_mttr or ack_timeout_retriggers",
    )
    assert flagged, "the simulated account has services whose acknowledgement timeout re-triggers"
    assert "Service settings that distort the metrics" in _texts(at)
    shown = _frame(at, "service_name", "distortion")
    assert sorted(shown["service_name"]) == sorted(name for (name,) in flagged)


def test_data_page_without_skips_or_flags_shows_neither(app, pipeline_db, tmp_path):  # noqa: F811
    db = writable_copy(pipeline_db, tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from service_setting_flags")
    at = app(db).run()
    at.switch_page("views/sync_data.py").run()
    _no_errors(at)
    assert not [w for w in at.warning if "optional resource" in w.value]
    assert "Service settings that distort" not in _texts(at)


def test_the_weekly_report_notes_each_skipped_resource(pipeline_db, tmp_path):
    assert not [n for n in report_data.collect(pipeline_db).notes if "could not read" in n]
    db = with_skip(pipeline_db, tmp_path)
    (note,) = [n for n in report_data.collect(db).notes if "could not read" in n]
    assert note == (
        "The last sync could not read priorities (HTTP 404, absent (feature switched off)): "
        "no priorities: priority filters show names unranked."
    )
