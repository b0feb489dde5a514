"""Every dashboard page under Streamlit's AppTest: fixture warehouse, filters, empty warehouse,
hostile text, and the republish-aware cache."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import HOSTILE_TITLE, build_fixture_warehouse

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = [
    "views/overview.py",
    "views/services_teams.py",
    "views/responders.py",
    "views/noise.py",
    "views/alert_groups.py",
    "views/impact.py",
    "views/reports.py",
    "views/sync_data.py",
]
TIMEOUT = 30


@pytest.fixture
def app(monkeypatch):
    """An AppTest factory for a warehouse path (passed the way `pagerlens dashboard` does)."""

    def make(db: Path, query: dict | None = None) -> AppTest:
        monkeypatch.setenv("PAGERLENS_DB", str(db))
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        if query:
            at.query_params = dict(query)
        return at

    return make


def _texts(at: AppTest) -> str:
    parts = [
        str(e.value)
        for kind in (
            "markdown",
            "caption",
            "text",
            "subheader",
            "title",
            "info",
            "warning",
            "success",
            "error",
            "code",
        )
        for e in getattr(at, kind)
    ]
    parts += [m.label + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)


def _frame(at: AppTest, *columns: str):
    """The first table showing all ``columns`` (AppTest does not expose dataframe keys)."""
    for element in at.dataframe:
        frame = element.value
        if all(c in frame.columns for c in columns):
            return frame
    raise AssertionError(f"no table with columns {columns}")


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_fixture_warehouse(app, fixture_db, page):
    at = app(fixture_db).run()
    _no_errors(at)
    at.switch_page(page).run()
    _no_errors(at)
    assert at.title, f"{page} drew no title"


def test_overview_shows_headline_figures_with_change(app, fixture_db):
    at = app(fixture_db).run()
    _no_errors(at)
    labels = {m.label: m for m in at.metric}
    assert {"Incidents", "MTTA (mean)", "MTTR (mean)", "Noise ratio", "Up-time (account)"} <= set(
        labels
    )
    # The fixture's last week (Mon 16 Nov .. Sun 22 Nov) has incidents and a week before it.
    assert labels["Incidents"].value not in ("", "–", "0")
    assert labels["Incidents"].delta is not None
    assert "Week starting 2026-11-16" in _texts(at)


def test_filters_are_read_from_and_written_to_the_url(app, fixture_db):
    at = app(
        fixture_db, {"start": "2026-11-02", "end": "2026-11-15", "team": "PT1", "urgency": "high"}
    ).run()
    _no_errors(at)
    assert at.date_input(key="f_dates").value == (date(2026, 11, 2), date(2026, 11, 15))
    assert at.multiselect(key="f_team").value == ["PT1"]
    assert at.multiselect(key="f_urgency").value == ["high"]
    # Only services of the chosen team are offered.
    assert set(at.multiselect(key="f_service").options) == {"checkout-api", "billing-worker"}
    assert "Week starting 2026-11-09" in _texts(at)

    at.multiselect(key="f_service").set_value(["PS2"]).run()
    _no_errors(at)
    assert at.query_params["service"] == "PS2"
    assert at.query_params["team"] == "PT1"
    assert at.query_params["start"] == "2026-11-02"

    at.multiselect(key="f_team").set_value([]).run()
    at.multiselect(key="f_urgency").set_value([]).run()
    _no_errors(at)
    assert "team" not in at.query_params and "urgency" not in at.query_params


def test_filters_change_the_figures(app, fixture_db):
    at = app(fixture_db).run()
    everyone = {m.label: m.value for m in at.metric}["Incidents"]
    at.multiselect(key="f_team").set_value(["PT2"]).run()
    _no_errors(at)
    one_team = {m.label: m.value for m in at.metric}["Incidents"]
    assert int(one_team.replace(",", "")) < int(everyone.replace(",", ""))


def test_bad_url_values_are_ignored(app, fixture_db):
    at = app(
        fixture_db,
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


@pytest.mark.parametrize(
    "page",
    [
        "views/overview.py",
        "views/services_teams.py",
        "views/responders.py",
        "views/noise.py",
        "views/alert_groups.py",
        "views/impact.py",
        "views/sync_data.py",
    ],
)
def test_every_page_with_all_filters_exercised(app, fixture_db, page):
    at = app(fixture_db).run()
    at.switch_page(page).run()
    at.date_input(key="f_dates").set_value((date(2026, 10, 20), date(2026, 11, 22))).run()
    at.multiselect(key="f_team").set_value(["PT1"]).run()
    at.multiselect(key="f_service").set_value(["PS1"]).run()
    at.multiselect(key="f_urgency").set_value(["low"]).run()
    _no_errors(at)
    # A range without any incident is an honest empty view, not an exception.
    at.date_input(key="f_dates").set_value((date(2026, 10, 12), date(2026, 10, 12))).run()
    at.multiselect(key="f_service").set_value(["PS2"]).run()
    _no_errors(at)


def test_drill_down_team_to_services_to_incidents(app, fixture_db):
    at = app(fixture_db).run()
    at.switch_page("views/services_teams.py").run()
    at.selectbox(key="drill_team").set_value("PT1").run()
    _no_errors(at)
    services = _frame(at, "up_time_pct", "service_name")
    assert set(services["service_name"]) == {"checkout-api", "billing-worker"}
    at.selectbox(key="drill_service").set_value("PS1").run()
    incidents = _frame(at, "title")
    assert set(incidents["service_name"]) == {"checkout-api"}
    urls = incidents["html_url"].dropna()
    assert len(urls) > 0 and all(u.startswith("https://") for u in urls)


def test_hostile_incident_title_is_shown_as_text(app, fixture_db):
    at = app(fixture_db).run()
    at.switch_page("views/services_teams.py").run()
    at.selectbox(key="drill_team").set_value("PT1").run()
    at.selectbox(key="drill_service").set_value("PS1").run()
    _no_errors(at)
    incidents = _frame(at, "title")
    assert HOSTILE_TITLE in set(incidents["title"])  # the raw text, in a text cell
    # A javascript: link never becomes a link.
    assert not incidents["html_url"].dropna().str.startswith("javascript").any()
    # Nothing is handed to Streamlit as HTML, and markdown never carries the raw markup.
    assert not at.get("html")
    for md in at.markdown:
        assert "<script>" not in md.value
        assert not md.allow_html


def test_hostile_text_in_noise_page_is_escaped(app, fixture_db):
    at = app(fixture_db).run()
    at.switch_page("views/noise.py").run()
    _no_errors(at)
    recs = _frame(at, "title", "pages_saved")
    assert "Suppress <script>x</script> alerts" in set(recs["title"])  # text cell, verbatim
    assert any("timeout: 300" in c.value for c in at.code)  # config snippet to copy
    at.selectbox(key="recommendation_detail").set_value("R2").run()
    _no_errors(at)
    assert any(HOSTILE_TITLE in t.value for t in at.text)  # the alert type, as text
    assert any("event_rule" in c.value for c in at.code)
    assert not at.get("html")
    for md in at.markdown:
        assert "<script>" not in md.value


def test_metric_help_quotes_the_definitions(app, fixture_db, monkeypatch):
    from dashboard import labels

    monkeypatch.setattr(labels, "definition", lambda name: f"definition of {name}")
    at = app(fixture_db).run()
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["MTTA (mean)"] == "definition of mean_seconds_to_first_ack"


def test_metric_help_is_the_paragraph_of_docs_metrics(app, fixture_db):
    from etl.queries.definitions import definition

    quoted = definition("noise_ratio")
    assert quoted, "docs/metrics.md defines noise_ratio"
    at = app(fixture_db).run()
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["Noise ratio"] == quoted


def test_responders_page_names_the_overloaded(app, fixture_db):
    at = app(fixture_db).run()
    at.switch_page("views/responders.py").run()
    _no_errors(at)
    assert any("overloaded" in w.value for w in at.warning)
    at.multiselect(key="heatmap_users").set_value(["PU1"]).run()
    _no_errors(at)
    assert "Ada Lovelace" in _texts(at)


def test_impact_page_warns_about_stale_open_majors(app, fixture_db):
    at = app(fixture_db).run()
    at.switch_page("views/impact.py").run()
    _no_errors(at)
    assert any("still open" in w.value for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    # The fixture's open major runs to the end of the data: no current major-free stretch.
    assert metrics["Current stretch without a major incident"] == "0 s"
    assert metrics["Longest stretch in the data"] not in ("0 s", "–")
    stale = _frame(at, "open_seconds")
    assert stale["open_seconds"].between(0, 72).all()  # shown in hours, not minutes


def test_data_page_shows_last_sync_and_rejects(app, fixture_db):
    at = app(fixture_db).run()
    at.switch_page("views/sync_data.py").run()
    _no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Status"] == "ok"
    assert metrics["API requests"] == "420"
    summary = _frame(at, "reason", "records")
    assert set(summary["reason"]) == {"missing created_at", "invalid json"}


def test_data_page_says_when_syncs_failed_after_the_last_good_one(app, fixture_db, tmp_path):
    import shutil

    from etl.warehouse import note_sync_failure

    db = tmp_path / "pagerlens.duckdb"
    shutil.copyfile(fixture_db, db)
    failure = {
        "run_id": "20261127T020000Z-0000",
        "started_at": "2026-11-27T02:00:00+00:00",
        "api_url": "https://api.pagerduty.com",
        "requests": 9,
        "retries": 8,
    }
    # One before the fixture's successful sync (not news), one after it (news).
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
def test_reports_page_builds_the_pdf_and_csvs(app, fixture_db):
    at = app(fixture_db).run()
    at.switch_page("views/reports.py").run()
    _no_errors(at)
    assert at.selectbox(key="report_week").value == date(2026, 11, 16)  # last complete week
    at.button(key="report_build").click().run(timeout=180)
    _no_errors(at)
    names = [d.label for d in at.get("download_button")]
    assert "Download pagerlens-2026-W47.pdf" in names
    assert any(n.endswith(".csv") for n in names)


def test_reports_page_explains_a_failed_build(app, fixture_db, monkeypatch):
    import reports.weekly

    def broken(*args, **kwargs):
        raise reports.weekly.ReportError("no incidents in 2026-W47")

    monkeypatch.setattr(reports.weekly, "write_report", broken)
    at = app(fixture_db).run()
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


def test_republished_warehouse_is_picked_up(app, tmp_path):
    db = build_fixture_warehouse(tmp_path / "w.duckdb", seed=1)
    at = app(db).run()
    before = {m.label: m.value for m in at.metric}["Incidents"]
    build_fixture_warehouse_again(db)
    at.run()
    _no_errors(at)
    after = {m.label: m.value for m in at.metric}["Incidents"]
    assert after != before


def build_fixture_warehouse_again(db: Path) -> None:
    """Republish with other rows (what a nightly sync does), through the atomic rename."""
    from etl.warehouse import building

    with building(db) as con:
        con.execute("delete from incidents where team_id = 'PT1'")
    assert os.path.exists(db)


def test_filters_survive_page_switches(app, fixture_db):
    at = app(fixture_db, {"team": "PT1", "urgency": "low"}).run()
    for page in ("views/overview.py", "views/noise.py", "views/responders.py"):
        at.switch_page(page).run()
        _no_errors(at)
        assert at.multiselect(key="f_team").value == ["PT1"], page
        assert at.multiselect(key="f_urgency").value == ["low"], page
        assert at.query_params["team"] == "PT1", page


@pytest.fixture(scope="module")
def simulated_db(tmp_path_factory) -> Path:
    """A small warehouse built by the real pipeline: simulator raw data, then every mart."""
    generate = pytest.importorskip("simulator.generate")
    transform = pytest.importorskip("etl.transform")
    path = tmp_path_factory.mktemp("sim") / "pagerlens.duckdb"
    generate.generate_to_warehouse(path, seed=11, days=21, scale=0.5, workers=0)
    transform.build(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_page_on_a_warehouse_built_by_the_pipeline(app, simulated_db, page):
    at = app(simulated_db).run()
    _no_errors(at)
    at.switch_page(page).run()
    _no_errors(at)
    team = at.multiselect(key="f_team").options
    assert team, "the simulated account has teams"
    at.multiselect(key="f_urgency").set_value(["high"]).run()
    _no_errors(at)


def test_markdown_escaping_and_durations():
    from dashboard import fmt

    escaped = fmt.md_escape("[x](javascript:alert(1)) **b** <i> :red[y] $z$")
    for raw in ("[x](", "**b**", "<i>", ":red[", "$z$"):
        assert raw not in escaped
    assert fmt.md_escape("a\nb") == "a b"
    assert fmt.duration(45) == "45 s"
    assert fmt.duration(600) == "10 min"
    assert fmt.duration(3 * 3600) == "3.0 h"
    assert fmt.duration(None) == "–"
    assert fmt.change(10, 7) == "+3"
    assert fmt.change(0.25, 0.2, kind="ratio") == "+5.0 pts"
    assert fmt.change(1, None) is None


def test_first_sync_is_picked_up_without_a_restart(app, tmp_path):
    db = tmp_path / "later.duckdb"
    at = app(db).run()
    assert any("pagerlens demo" in c.value for c in at.code)
    build_fixture_warehouse(db)  # the first sync publishes the warehouse
    at.run()
    _no_errors(at)
    assert {m.label for m in at.metric} >= {"Incidents", "MTTA (mean)"}


def test_alert_groups_show_templates_services_and_examples(app, fixture_db):
    at = app(fixture_db).run()
    at.switch_page("views/alert_groups.py").run()
    _no_errors(at)
    groups = _frame(at, "member_templates", "service_names")
    row = groups.iloc[0]
    assert row["service_names"] == "checkout-api | billing-worker"
    assert row["example_incidents"] == "Q1001 | Q1002"
    assert "team_ids" not in groups.columns


def test_timeline_keeps_account_windows_and_the_longest_service_windows():
    import pandas as pd

    from dashboard.data import timeline_windows

    windows = pd.DataFrame(
        {
            "scope": ["account"] + ["service"] * 5,
            "window_start": pd.to_datetime(
                [
                    "2026-01-01",
                    "2026-01-05",
                    "2026-01-02",
                    "2026-01-04",
                    "2026-01-03",
                    "2026-01-06",
                ],
                utc=True,
            ),
            "duration_seconds": [10.0, 50.0, 40.0, 30.0, 20.0, 5.0],
        }
    )
    shown = timeline_windows(windows, limit=2)
    assert shown["scope"].tolist() == ["account", "service", "service"]
    assert sorted(shown["duration_seconds"].tolist()) == [10.0, 40.0, 50.0]
    assert shown["window_start"].is_monotonic_increasing
    assert len(timeline_windows(windows, limit=10)) == 6


def test_library_objects_are_left_out_of_the_post_run_collection(app, fixture_db):
    # Streamlit collects garbage after every run; frozen objects make that cheap (issue 7).
    import gc

    at = app(fixture_db).run()
    _no_errors(at)
    assert gc.get_freeze_count() > 0
    at.multiselect(key="f_team").set_value(["PT2"]).run()
    _no_errors(at)
