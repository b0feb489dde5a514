"""Every dashboard page under Streamlit's AppTest on the canonical warehouse (tests/conftest.py:
pipeline_db): filters, drill-down, empty warehouse, hostile text (hostile_db), and the
republish-aware cache. Expected values are plain queries of the marts."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboard import fmt
from tests.dashboard.conftest import FILTERED_PAGES, PAGES, busiest_team, mart
from tests.dashboard.conftest import frame_with as _frame
from tests.dashboard.conftest import no_errors as _no_errors
from tests.dashboard.conftest import page_texts as _texts
from tests.warehouse import HOSTILE_TITLE, HOSTILE_URL, writable_copy


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_fixture_warehouse(app, pipeline_db, page):
    at = app(pipeline_db).run()
    _no_errors(at)
    at.switch_page(page).run()
    _no_errors(at)
    assert at.title, f"{page} drew no title"


def test_overview_shows_headline_figures_with_change(app, pipeline_db):
    at = app(pipeline_db).run()
    _no_errors(at)
    labels = {m.label: m for m in at.metric}
    assert {"Incidents", "MTTA (mean)", "MTTR (mean)", "Noise ratio", "Up-time (account)"} <= set(
        labels
    )
    # The warehouse's last week (Mon 23 Feb .. Sun 1 Mar 2026) has incidents and a week before.
    ((count,),) = mart(
        pipeline_db,
        "select total_incident_count from incident_weekly_by_dimension "
        "where dimension = 'account' and week_start = '2026-02-23'",
    )
    assert labels["Incidents"].value == fmt.number(count)
    assert labels["Incidents"].delta is not None
    assert "Week starting 2026-02-23" in _texts(at)


def test_filters_are_read_from_and_written_to_the_url(app, pipeline_db):
    team_id, service_ids, service_names = busiest_team(pipeline_db)
    at = app(
        pipeline_db,
        {"start": "2026-02-02", "end": "2026-02-15", "team": team_id, "urgency": "high"},
    ).run()
    _no_errors(at)
    assert at.date_input(key="f_dates").value == (date(2026, 2, 2), date(2026, 2, 15))
    assert at.multiselect(key="f_team").value == [team_id]
    assert at.multiselect(key="f_urgency").value == ["high"]
    # Only services of the chosen team are offered.
    assert set(at.multiselect(key="f_service").options) == service_names
    assert "Week starting 2026-02-09" in _texts(at)

    service_id = sorted(service_ids)[0]
    at.multiselect(key="f_service").set_value([service_id]).run()
    _no_errors(at)
    assert at.query_params["service"] == service_id
    assert at.query_params["team"] == team_id
    assert at.query_params["start"] == "2026-02-02"

    at.multiselect(key="f_team").set_value([]).run()
    at.multiselect(key="f_urgency").set_value([]).run()
    _no_errors(at)
    assert "team" not in at.query_params and "urgency" not in at.query_params


def test_filters_change_the_figures(app, pipeline_db):
    at = app(pipeline_db).run()
    team_id, _, _ = busiest_team(pipeline_db)
    everyone = {m.label: m.value for m in at.metric}["Incidents"]
    at.multiselect(key="f_team").set_value([team_id]).run()
    _no_errors(at)
    one_team = {m.label: m.value for m in at.metric}["Incidents"]
    ((count,),) = mart(
        pipeline_db,
        "select total_incident_count from team_weekly where week_start = '2026-02-23' "
        "and team_id = ?",
        [team_id],
    )
    assert one_team == fmt.number(count)
    assert int(one_team.replace(",", "")) < int(everyone.replace(",", ""))


def test_bad_url_values_are_ignored(app, pipeline_db):
    at = app(
        pipeline_db,
        {
            "start": "not-a-date",
            "end": "2026-13-40",
            "team": "NOPE",
            "service": "'; drop table incidents; --",
        },
    ).run()
    _no_errors(at)
    assert at.multiselect(key="f_team").value == []
    assert at.multiselect(key="f_service").value == []


@pytest.mark.parametrize("page", FILTERED_PAGES)
def test_every_page_with_all_filters_exercised(app, pipeline_db, page):
    team_id, service_ids, _ = busiest_team(pipeline_db)
    first, second = sorted(service_ids)[:2]
    at = app(pipeline_db).run()
    at.switch_page(page).run()
    at.date_input(key="f_dates").set_value((date(2026, 2, 2), date(2026, 3, 1))).run()
    at.multiselect(key="f_team").set_value([team_id]).run()
    at.multiselect(key="f_service").set_value([first]).run()
    at.multiselect(key="f_urgency").set_value(["low"]).run()
    top_two = mart(pipeline_db, "select priority_id from stg_priorities where priority_rank <= 2")
    at.multiselect(key="f_priority").set_value([p for (p,) in top_two]).run()
    _no_errors(at)
    # A range without any incident is an honest empty view, not an exception.
    at.date_input(key="f_dates").set_value((date(2026, 2, 2), date(2026, 2, 2))).run()
    at.multiselect(key="f_service").set_value([second]).run()
    _no_errors(at)


def test_drill_down_team_to_services_to_incidents(app, pipeline_db):
    team_id, service_ids, service_names = busiest_team(pipeline_db)
    service_id = sorted(service_ids)[0]
    at = app(pipeline_db).run()
    at.switch_page("views/services_teams.py").run()
    at.selectbox(key="drill_team").set_value(team_id).run()
    _no_errors(at)
    services = _frame(at, "up_time_pct", "service_name")
    assert set(services["service_name"]) <= service_names and len(services) > 0
    at.selectbox(key="drill_service").set_value(service_id).run()
    incidents = _frame(at, "title")
    ((name,),) = mart(
        pipeline_db,
        "select distinct service_name from incidents where service_id = ?",
        [service_id],
    )
    assert set(incidents["service_name"]) == {name}
    urls = incidents["html_url"].dropna()
    assert len(urls) > 0 and all(u.startswith("https://") for u in urls)


@pytest.mark.parametrize("team_id, service_id", [("PTEAM01", "PSVC001"), ("PTEAM02", "PSVC002")])
def test_hostile_incident_title_is_shown_as_text(app, hostile_db, team_id, service_id):
    at = app(hostile_db, {"start": "2026-03-02", "end": "2026-03-18"}).run()
    at.switch_page("views/services_teams.py").run()
    at.selectbox(key="drill_team").set_value(team_id).run()
    at.selectbox(key="drill_service").set_value(service_id).run()
    _no_errors(at)
    incidents = _frame(at, "title")
    if service_id == "PSVC002":
        assert HOSTILE_TITLE in set(incidents["title"])  # the raw text, in a text cell
    # A javascript: link (PSVC001's first incident) never becomes a link.
    assert HOSTILE_URL not in set(incidents["html_url"].dropna())
    assert not incidents["html_url"].dropna().str.startswith("javascript").any()
    # Nothing is handed to Streamlit as HTML, and markdown never carries the raw markup.
    assert not at.get("html")
    for md in at.markdown:
        assert "<script>" not in md.value
        assert not md.allow_html


def test_hostile_text_in_noise_page_is_escaped(app, hostile_db):
    at = app(hostile_db).run()
    at.switch_page("views/noise.py").run()
    _no_errors(at)
    templates = _frame(at, "template")
    assert HOSTILE_TITLE in set(templates["template"])  # text cell, verbatim
    assert not at.get("html")
    for md in at.markdown:
        assert "<script>" not in md.value


def test_noise_page_shows_recommendations_with_evidence(app, pipeline_db):
    at = app(pipeline_db).run()
    at.switch_page("views/noise.py").run()
    _no_errors(at)
    recs = _frame(at, "title", "pages_saved")
    rows = mart(pipeline_db, "select recommendation_id, title, template from recommendations")
    assert set(recs["title"]) == {title for _, title, _ in rows}
    recommendation_id, _, template = rows[-1]
    at.selectbox(key="recommendation_detail").set_value(recommendation_id).run()
    _no_errors(at)
    assert any(t.value == f"Alert type: {template}" for t in at.text)
    assert at.code  # the configuration snippet to copy


def test_metric_help_quotes_the_definitions(app, pipeline_db, monkeypatch):
    from dashboard import labels

    monkeypatch.setattr(labels, "definition", lambda name: f"definition of {name}")
    at = app(pipeline_db).run()
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["MTTA (mean)"] == "definition of mean_seconds_to_first_ack"


def test_metric_help_is_the_paragraph_of_docs_metrics(app, pipeline_db):
    from etl.queries.definitions import definition

    quoted = definition("noise_ratio")
    assert quoted, "docs/metrics.md defines noise_ratio"
    at = app(pipeline_db).run()
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["Noise ratio"] == quoted


def test_responders_page_names_the_overloaded(app, pipeline_db):
    at = app(pipeline_db).run()
    at.switch_page("views/responders.py").run()
    _no_errors(at)
    assert any("overloaded" in w.value for w in at.warning)
    ((user_id, name),) = mart(
        pipeline_db,
        "select user_id, any_value(user_name) from responder_weekly "
        "where week_start = '2026-02-23' group by user_id order by user_id limit 1",
    )
    at.multiselect(key="heatmap_users").set_value([user_id]).run()
    _no_errors(at)
    assert name in _texts(at)


def test_impact_page_warns_about_stale_open_majors(app, pipeline_db):
    at = app(pipeline_db).run()
    at.switch_page("views/impact.py").run()
    _no_errors(at)
    assert any("still open" in w.value for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    ((current, longest),) = mart(
        pipeline_db, "select current_streak_seconds, longest_streak_seconds from major_free_streaks"
    )
    # The simulated account's stale open majors run to the end of the data.
    assert current == 0
    assert metrics["Current stretch without a major incident"] == fmt.duration(current)
    assert metrics["Longest stretch in the data"] == fmt.duration(longest)
    stale = _frame(at, "open_seconds")
    hours = sorted(
        s / 3600 for (s,) in mart(pipeline_db, "select seconds_open from stale_open_majors")
    )
    assert sorted(stale["open_seconds"]) == pytest.approx(hours)  # shown in hours


def test_data_page_shows_last_sync_and_rejects(app, pipeline_db, tmp_path):
    db = writable_copy(pipeline_db, tmp_path)
    with duckdb.connect(str(db)) as con:
        ((run_id, requests),) = con.execute("select run_id, requests from _sync_runs").fetchall()
        con.execute(
            "insert into _rejects values "
            "('log_entries', 'LE1', 'missing created_at', '{}', ?, now()), "
            "('incidents', 'Q9', 'invalid json', ?, ?, now())",
            [run_id, HOSTILE_TITLE, run_id],
        )
    at = app(db).run()
    at.switch_page("views/sync_data.py").run()
    _no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Status"] == "ok"
    assert metrics["API requests"] == fmt.number(requests)
    summary = _frame(at, "reason", "records")
    assert set(summary["reason"]) == {"missing created_at", "invalid json"}


def test_data_page_says_when_syncs_failed_after_the_last_good_one(app, pipeline_db, tmp_path):
    from etl.warehouse import note_sync_failure

    db = writable_copy(pipeline_db, tmp_path)
    failure = {
        "run_id": "20261127T020000Z-0000",
        "started_at": "2026-11-27T02:00:00+00:00",
        "api_url": "https://api.pagerduty.com",
        "requests": 9,
        "retries": 8,
    }
    # One before the warehouse's successful sync (not news), one after it (news).
    note_sync_failure(db, failure | {"failed_at": "2000-01-01T00:00:00+00:00", "reason": "old"})
    note_sync_failure(
        db,
        failure
        | {
            "failed_at": "2099-01-01T02:05:00+00:00",
            "reason": "PagerDutyError: GET /incidents failed after 8 attempts (last: http 503) *x*",
        },
    )
    at = app(db).run()
    at.switch_page("views/sync_data.py").run()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("1 sync run(s) failed since the last successful one")
    assert "2099-01-01 02:05 UTC" in error.value and "http 503" in error.value
    assert "\\*x\\*" in error.value  # markdown in the reason is escaped
    assert len(_frame(at, "failed_at", "reason")) == 2


@pytest.mark.slow
def test_reports_page_builds_the_pdf_and_csvs(app, pipeline_db):
    at = app(pipeline_db).run()
    at.switch_page("views/reports.py").run()
    _no_errors(at)
    assert at.selectbox(key="report_week").value == date(2026, 2, 23)  # last complete week
    at.button(key="report_build").click().run(timeout=180)
    _no_errors(at)
    names = [d.label for d in at.get("download_button")]
    assert "Download pagerlens-2026-W09.pdf" in names
    assert any(n.endswith(".csv") for n in names)


def test_reports_page_explains_a_failed_build(app, pipeline_db, monkeypatch):
    import reports.weekly

    def broken(*args, **kwargs):
        raise reports.weekly.ReportError("no incidents in 2026-W47")

    monkeypatch.setattr(reports.weekly, "write_report", broken)
    at = app(pipeline_db).run()
    at.switch_page("views/reports.py").run()
    at.checkbox(key="report_anonymize").check().run()  # a cache key the other test did not use
    at.button(key="report_build").click().run()
    assert not at.exception
    assert any("no incidents in 2026-W47" in e.value for e in at.error)


@pytest.mark.parametrize("page", PAGES)
def test_missing_warehouse_shows_how_to_sync(app, tmp_path, page):
    at = app(tmp_path / "nothing-here.duckdb").run()
    _no_errors(at)
    at.switch_page(page).run()
    _no_errors(at)
    codes = "\n".join(c.value for c in at.code)
    assert "pagerlens demo" in codes and "pagerlens sync" in codes


def test_unbuilt_warehouse_shows_how_to_build(app, empty_db):
    at = app(empty_db).run()
    _no_errors(at)
    codes = "\n".join(c.value for c in at.code)
    assert "pagerlens build" in codes and "pagerlens sync" in codes


def test_republished_warehouse_is_picked_up(app, pipeline_db, tmp_path):
    db = writable_copy(pipeline_db, tmp_path)
    at = app(db).run()
    before = {m.label: m.value for m in at.metric}["Incidents"]
    build_fixture_warehouse_again(db, busiest_team(pipeline_db)[0])
    at.run()
    _no_errors(at)
    after = {m.label: m.value for m in at.metric}["Incidents"]
    assert after != before


def build_fixture_warehouse_again(db: Path, team_id: str) -> None:
    """Republish with other rows (what a nightly sync does), through the atomic rename."""
    from etl.warehouse import building

    with building(db) as con:
        con.execute("delete from incidents where team_id = ?", [team_id])
    assert os.path.exists(db)


def test_filters_survive_page_switches(app, pipeline_db):
    team_id, _, _ = busiest_team(pipeline_db)
    at = app(pipeline_db, {"team": team_id, "urgency": "low"}).run()
    for page in ("views/overview.py", "views/noise.py", "views/responders.py"):
        at.switch_page(page).run()
        _no_errors(at)
        assert at.multiselect(key="f_team").value == [team_id], page
        assert at.multiselect(key="f_urgency").value == ["low"], page
        assert at.query_params["team"] == team_id, page


def test_first_sync_is_picked_up_without_a_restart(app, pipeline_db, tmp_path):
    db = tmp_path / "later.duckdb"
    at = app(db).run()
    assert any("pagerlens demo" in c.value for c in at.code)
    staged = writable_copy(pipeline_db, tmp_path / "staged")
    os.replace(staged, db)  # the first sync publishes the warehouse (an atomic rename)
    at.run()
    _no_errors(at)
    assert {m.label for m in at.metric} >= {"Incidents", "MTTA (mean)"}


def test_alert_groups_show_templates_services_and_examples(app, pipeline_db):
    at = app(pipeline_db).run()
    at.switch_page("views/alert_groups.py").run()
    _no_errors(at)
    groups = _frame(at, "member_templates", "service_names")
    # The page's order (etl/queries/sql/dashboard/alert_groups.sql): its first row.
    first = "select service_names from alert_groups order by occurrences desc, group_id limit 1"
    ((names,),) = mart(pipeline_db, first)
    row = groups.iloc[0]
    assert row["service_names"] == " | ".join(names)
    assert row["example_incidents"]
    assert "team_ids" not in groups.columns


def test_library_objects_are_left_out_of_the_post_run_collection(app, pipeline_db):
    # Streamlit collects garbage after every run; frozen objects make that cheap (issue 7).
    import gc

    at = app(pipeline_db).run()
    _no_errors(at)
    assert gc.get_freeze_count() > 0
    at.multiselect(key="f_team").set_value([busiest_team(pipeline_db)[0]]).run()
    _no_errors(at)
