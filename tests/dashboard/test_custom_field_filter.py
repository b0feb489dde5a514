"""The custom-field filter (issue 14 part 4): offered only when the account has incident custom
fields (incident_custom_fields), one field and some of its values ('(none)': not set) kept in
the URL (``custom_field=root_cause&custom_value=deploy``), applied like the other filters.

The warehouse is the hand-made week of tests/reports/hand_made.py with its root causes: deploy
on #1 and #2, config on #3, capacity on #5 (corrected from config), none on #4 and #6."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.dashboard.conftest import FILTERED_PAGES, frame_with, mart, no_errors
from tests.reports.hand_made import SINCE, UNTIL, sev_account, with_custom_fields
from tests.selection import no_picks
from tests.warehouse import build_raw_warehouse

WEEK = {"start": "2026-03-02", "end": "2026-03-08"}
FIELDS = ("f_custom_field", "f_custom_values")


@pytest.fixture(scope="module")
def fields_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("custom-fields") / "pagerlens.duckdb"
    return build_raw_warehouse(path, with_custom_fields(sev_account()), since=SINCE, until=UNTIL)


def _team_incidents(at) -> int:
    at.switch_page("views/services_teams.py").run()
    no_errors(at)
    return int(frame_with(at, "team_name", "total_incident_count")["total_incident_count"].sum())


def test_fields_and_values_are_offered_commonest_first(app, fields_db):
    at = app(fields_db, WEEK).run()
    no_errors(at)
    field = at.selectbox(key="f_custom_field")
    assert field.options == ["Any", "customer_impact", "root_cause"]
    assert field.value == "" and at.multiselect(key="f_custom_values").disabled
    field.set_value("root_cause").run()
    assert at.multiselect(key="f_custom_values").options == [
        "deploy",
        "capacity",
        "config",
        "(not set)",
    ]
    at.selectbox(key="f_custom_field").set_value("customer_impact").run()
    # A hostile value is an option's text, never markup.
    assert "<b>outage</b>" in at.multiselect(key="f_custom_values").options
    assert not at.get("html")


@pytest.mark.parametrize(
    "values, count",
    [(["deploy"], 2), (["config", "capacity"], 2), (["(none)"], 2), (["deploy", "(none)"], 4)],
)
def test_custom_field_filter_round_trips_through_the_url(app, fields_db, values, count):
    at = app(fields_db, {**WEEK, "custom_field": "root_cause", "custom_value": values}).run()
    no_errors(at)
    assert at.selectbox(key="f_custom_field").value == "root_cause"
    assert at.multiselect(key="f_custom_values").value == values
    assert _team_incidents(at) == count
    assert at.query_params["custom_field"] == "root_cause"  # still in the URL after a page switch
    assert at.query_params["custom_value"] == (values[0] if len(values) == 1 else values)


def test_changing_and_clearing_the_filter_rewrites_the_url(app, fields_db):
    at = app(fields_db, WEEK).run()
    assert _team_incidents(at) == 6
    at.selectbox(key="f_custom_field").set_value("root_cause").run()
    at.multiselect(key="f_custom_values").set_value(["config"]).run()
    no_errors(at)
    assert at.query_params["custom_field"] == "root_cause"
    assert at.query_params["custom_value"] == "config"
    assert int(frame_with(at, "team_name")["total_incident_count"].sum()) == 1
    # Another field drops the values of the first.
    at.selectbox(key="f_custom_field").set_value("customer_impact").run()
    no_errors(at)
    assert at.multiselect(key="f_custom_values").value == []
    assert "custom_value" not in at.query_params
    at.selectbox(key="f_custom_field").set_value("").run()
    assert "custom_field" not in at.query_params
    assert int(frame_with(at, "team_name")["total_incident_count"].sum()) == 6


def test_unknown_fields_and_values_in_the_url_are_ignored(app, fields_db):
    at = app(fields_db, {"custom_field": "root_cause", "custom_value": ["nope", "deploy"]}).run()
    no_errors(at)
    assert at.multiselect(key="f_custom_values").value == ["deploy"]
    at = app(fields_db, {"custom_field": "<script>", "custom_value": "deploy"}).run()
    no_errors(at)
    assert at.selectbox(key="f_custom_field").value == ""
    assert at.multiselect(key="f_custom_values").value == []


def test_no_control_when_the_account_has_no_custom_fields(app, hostile_db):
    at = app(hostile_db, {"custom_field": "root_cause", "custom_value": "deploy"}).run()
    no_errors(at)
    keys = {w.key for w in [*at.selectbox, *at.multiselect]}
    assert not keys & set(FIELDS)
    assert "custom_field" not in at.query_params


# The noise page's alert types follow only the team and service filters (the page says so).
PAGES = tuple(page for page in FILTERED_PAGES if page != "views/noise.py")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_with_the_custom_field_filter(app, fields_db, page):
    at = app(fields_db, {**WEEK, "custom_field": "root_cause", "custom_value": "deploy"}).run()
    at.switch_page(page).run()
    no_errors(at)
    at.date_input(key="f_dates").set_value((date(2026, 3, 2), date(2026, 3, 2))).run()
    at.multiselect(key="f_custom_values").set_value(["(none)"]).run()
    no_errors(at)


def test_reports_page_offers_the_breakdown_only_with_custom_fields(app, fields_db, hostile_db):
    at = app(hostile_db).run()
    at.switch_page("views/reports.py").run()
    no_errors(at)
    assert "report_by_field" not in {s.key for s in at.selectbox}
    at = app(fields_db).run()
    at.switch_page("views/reports.py").run()
    no_errors(at)
    assert at.selectbox(key="report_by_field").options == [
        "(no custom field)",
        "customer_impact",
        "root_cause",
    ]


@pytest.mark.slow
@pytest.mark.browser
def test_reports_page_builds_the_breakdown(app, fields_db):
    at = app(fields_db).run()
    at.switch_page("views/reports.py").run()
    at.selectbox(key="report_by_field").set_value("root_cause").run()
    at.button(key="report_build").click().run(timeout=180)
    no_errors(at)
    names = [d.label for d in at.get("download_button")]
    assert "Download pagerlens-2026-W10-by_field.csv" in names


def test_on_the_canonical_account_the_filter_keeps_the_marts_incidents(app, pipeline_db):
    # The simulated account's responders set root_cause on some services' incidents.
    weeks = "week_start between '2026-02-02' and '2026-02-23'"
    ((value, count),) = mart(
        pipeline_db,
        "select field_value, sum(total_incident_count) from custom_field_weekly "
        f"where field_name = 'root_cause' and field_value <> '(none)' and {weeks} "
        "group by field_value order by 2 desc, 1 limit 1",
    )
    at = app(
        pipeline_db,
        {
            "start": "2026-02-02",
            "end": "2026-03-01",
            "custom_field": "root_cause",
            "custom_value": value,
        },
    ).run()
    no_errors(at)
    assert _team_incidents(at) == count


def test_a_warehouse_built_before_custom_fields_still_reads(app, pipeline_db, tmp_path):
    """Queries that narrow by custom field say `-- if-absent: incident_custom_fields`: on a
    warehouse without the table the reader stands in an empty one (etl/queries/sql_files.py)."""
    import duckdb

    from etl.queries import Reader
    from tests.warehouse import writable_copy

    db = writable_copy(pipeline_db, tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute("drop table incident_custom_fields")
    reader = Reader(db)
    try:
        february = (datetime(2026, 2, 2, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))

        def root_causes(*values):
            args = no_picks(*february, custom_field="root_cause", custom_values=list(values))
            return reader.query("dashboard/weekly_incidents", **args)

        everything, unset, picked = root_causes(), root_causes("(none)"), root_causes("deploy")
        assert everything["total_incident_count"].sum() > 0
        assert everything.equals(unset)  # nothing is set on any incident
        assert picked.empty
        assert reader.query("dashboard/custom_field_values") is None
    finally:
        reader.close()
    at = app(db, {"custom_field": "root_cause"}).run()
    no_errors(at)
    assert "f_custom_field" not in {s.key for s in at.selectbox}
