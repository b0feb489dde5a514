"""The report's data and CSVs on the canonical warehouse: the default week, the headline and
the tables against figures computed independently (pandas over the incidents mart, plain
queries of the marts), file names and columns."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from reports import weekly
from reports.weekly import ReportError, ReportWeek, collect
from tests.reports.helpers import (
    PREVIOUS_WEEK_START_TS,
    REPORT_WEEK,
    REPORT_WEEK_START,
    WEEK_END_TS,
    WEEK_START_TS,
    incidents_of_week,
    query,
    read_csv,
)

# ------------------------------------------------------------------ weeks and defaults


def test_week_parsing_and_bounds():
    week = ReportWeek.parse("2026-W47")
    assert week.monday == date(2026, 11, 16)
    assert week.start == datetime(2026, 11, 16, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 23, tzinfo=UTC)
    assert week.shift(-1).label == "2026-W46"
    assert ReportWeek.parse("2026-W01").monday == date(2025, 12, 29)  # ISO year != calendar year
    assert ReportWeek.parse("2026-W53", "Europe/Berlin").start.utcoffset().total_seconds() == 3600
    for bad in ("2026-47", "2026-W5", "W47", "2025-W53"):
        with pytest.raises(ReportError):
            ReportWeek.parse(bad)


def test_default_week_is_the_last_complete_one(pipeline_db):
    data = collect(pipeline_db)
    ((until, finished),) = query(
        pipeline_db, "select max(until), max(finished_at) from _sync_runs where status = 'ok'"
    )
    assert data.week.label == REPORT_WEEK
    assert data.data_end == until
    assert data.freshness == finished
    assert [w.label for w in data.trend_weeks][-2:] == ["2026-W08", REPORT_WEEK]
    assert len(data.trend_weeks) == 12


def test_an_incomplete_week_says_so(hostile_db):
    data = collect(hostile_db, week="2026-W12")  # the data end on Wednesday 2026-03-18
    assert any("not complete" in n for n in data.notes)


def test_syncs_failed_after_the_data_are_noted(pipeline_db, tmp_path):
    from etl.warehouse import note_sync_failure

    db = tmp_path / "pagerlens.duckdb"
    shutil.copyfile(pipeline_db, db)
    db.chmod(0o644)
    ((finished,),) = query(db, "select max(finished_at) from _sync_runs where status = 'ok'")
    before = (finished - pd.Timedelta(hours=1)).isoformat()
    after = (finished + pd.Timedelta(hours=1)).replace(second=0, microsecond=0)
    entry = {"run_id": "r", "started_at": before, "requests": 9}
    # Before the warehouse's last good sync: already superseded.
    note_sync_failure(db, entry | {"failed_at": before, "reason": "old"})
    assert not any("sync run" in n for n in collect(db).notes)
    note_sync_failure(
        db, entry | {"failed_at": after.isoformat(), "reason": "AuthenticationError: 401"}
    )
    (note,) = [n for n in collect(db).notes if "sync run" in n]
    assert note == (
        "1 sync run(s) failed after this data was synced; the latest at "
        f"{after.astimezone(UTC):%Y-%m-%d %H:%M} UTC: AuthenticationError: 401"
    )


# ------------------------------------------------------------------ figures vs warehouse


def test_headline_figures_equal_the_incidents_mart(pipeline_db):
    data = collect(pipeline_db)
    week = incidents_of_week(pipeline_db)
    by_key = {m.key: m for m in data.headline}
    assert by_key["total_incident_count"].value == len(week) > 0
    assert by_key["mean_seconds_to_first_ack"].value == pytest.approx(
        week["seconds_to_first_ack"].mean()
    )
    assert by_key["p90_seconds_to_resolve"].value == pytest.approx(
        week["seconds_to_resolve"].quantile(0.9)
    )
    assert by_key["noise_ratio"].value == pytest.approx(week["is_noise"].mean())
    ((sleep,),) = query(
        pipeline_db,
        "select sum(total_sleep_hour_interruptions) from responder_weekly where week_start = ?",
        [REPORT_WEEK_START],
    )
    assert by_key["total_sleep_hour_interruptions"].value == sleep
    previous = incidents_of_week(pipeline_db, PREVIOUS_WEEK_START_TS)
    assert by_key["total_incident_count"].change == len(week) - len(previous)


def test_up_time_and_major_free_streaks_follow_the_account_windows(pipeline_db):
    data = collect(pipeline_db)
    windows = query(
        pipeline_db,
        "select window_start, window_end from impact_windows "
        "where scope = 'account' order by window_start",
    )
    assert windows, "the simulated account has major incidents"
    impacted = sum(
        max((min(e, WEEK_END_TS) - max(s, WEEK_START_TS)).total_seconds(), 0) for s, e in windows
    )
    by_key = {m.key: m for m in data.headline}
    assert by_key["up_time_pct"].value == pytest.approx(100 * (1 - impacted / 604800))
    last_end = max(e for s, e in windows if s < WEEK_END_TS)
    assert by_key["current_major_free_seconds"].value == pytest.approx(
        max((WEEK_END_TS - min(last_end, WEEK_END_TS)).total_seconds(), 0)
    )
    assert by_key["longest_major_free_seconds"].value >= by_key["current_major_free_seconds"].value


def test_team_counts_cover_every_team_of_the_week(pipeline_db):
    data = collect(pipeline_db)
    week = incidents_of_week(pipeline_db)
    teams = data.teams.set_index("team_id")
    expected = week.groupby("team_id").size()
    assert set(expected.index) <= set(teams.index)
    for team_id, count in expected.items():
        assert teams.loc[team_id, "total_incident_count"] == count, team_id
    assert (teams["total_incident_count"] >= 0).all()


# ------------------------------------------------------------------ CSVs


def test_csv_files_are_named_and_complete(csv_report):
    for table in weekly.TABLE_NAMES:
        assert f"pagerlens-{REPORT_WEEK}-{table}.csv" in csv_report
        assert f"pagerlens-{REPORT_WEEK}-{table}.parquet" in csv_report


def test_team_and_service_csvs_equal_the_marts(csv_report, pipeline_db):
    week = incidents_of_week(pipeline_db)
    for grain, key in (("team", "team_id"), ("service", "service_id")):
        rows = read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-{grain}_weekly.csv"])
        assert list(rows[0])[:3] == [key, f"{grain}_name", "week_start"]
        mart = pd.DataFrame(
            query(
                pipeline_db,
                f"select {key}, noise_ratio, up_time_pct from {grain}_weekly where week_start = ?",
                [REPORT_WEEK_START],
            ),
            columns=[key, "noise", "up"],
        ).set_index(key)
        counts = week.groupby(key).size()
        mtta = week.groupby(key)["seconds_to_first_ack"].mean()
        current = [r for r in rows if r[key] in counts.index]
        assert len(current) == len(counts)
        for row in current:
            assert row["week_start"] == str(REPORT_WEEK_START)
            assert int(row["total_incident_count"]) == counts[row[key]]
            assert float(row["noise_ratio"]) == pytest.approx(mart.loc[row[key], "noise"])
            assert float(row["up_time_pct"]) == pytest.approx(mart.loc[row[key], "up"])
            if pd.notna(mtta[row[key]]):
                assert float(row["mean_seconds_to_first_ack"]) == pytest.approx(mtta[row[key]])
        # sorted by what got worse
        worst = [float(r["worst_change"]) for r in rows]
        assert worst == sorted(worst, reverse=True)


def test_headline_csv_matches_the_incidents_mart(csv_report, pipeline_db):
    rows = {r["metric"]: r for r in read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-headline.csv"])}
    count = len(incidents_of_week(pipeline_db))
    assert float(rows["total_incident_count"]["value"]) == count
    assert rows["total_incident_count"]["week"] == REPORT_WEEK
    trend = json.loads(rows["total_incident_count"]["trend_12w"])
    assert len(trend) == 12 and trend[-1] == count
    assert rows["mean_seconds_to_first_ack"]["unit"] == "seconds"


def test_responders_and_impact_csvs(csv_report, pipeline_db):
    responders = read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-responders.csv"])
    mart = dict(
        query(
            pipeline_db,
            "select user_id, total_sleep_hour_interruptions from "
            "responder_weekly where week_start = ?",
            [REPORT_WEEK_START],
        )
    )
    assert {r["user_id"]: int(r["total_sleep_hour_interruptions"]) for r in responders} == mart

    windows = read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-impact_windows.csv"])
    ((expected,),) = query(
        pipeline_db,
        "select count(*) from impact_windows where window_start < ? and window_end > ?",
        [WEEK_END_TS, WEEK_START_TS],
    )
    assert len(windows) == expected > 0
    for row in windows:
        start = datetime.fromisoformat(row["window_start"])
        assert start.tzinfo is not None  # ISO 8601 with offset
        assert int(row["incident_count"]) == len(row["incident_ids"].split(";"))


def test_templates_and_recommendations_csvs(csv_report, pipeline_db):
    templates = read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-noisy_templates.csv"])
    counts = [int(r["incidents_this_week"]) for r in templates]
    assert counts == sorted(counts, reverse=True) and counts
    # Each incident's alert type is in int_incident_noise: count the week's per type and service.
    noise = pd.DataFrame(
        query(
            pipeline_db,
            "select template_id, service_id from int_incident_noise "
            "where created_at >= ? and created_at < ?",
            [WEEK_START_TS, WEEK_END_TS],
        ),
        columns=["template_id", "service_id"],
    )
    expected = noise.groupby(["template_id", "service_id"]).size()
    for row in templates:
        assert int(row["incidents_this_week"]) == expected[(row["template_id"], row["service_id"])]
    assert datetime.fromisoformat(templates[0]["first_seen"]).tzinfo is not None

    recs = read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-recommendations.csv"])
    mart = query(pipeline_db, "select recommendation_id, pages_saved from recommendations")
    assert recs and {r["recommendation_id"] for r in recs} == {r for r, _ in mart}
    saved = [int(r["pages_saved"]) for r in recs]
    assert saved == sorted(saved, reverse=True)
    assert list(recs[0])[:4] == ["recommendation_id", "team_id", "team_name", "kind"]


def test_parquet_equals_csv(csv_report):
    for table in ("team_weekly", "responders"):
        parquet = pd.read_parquet(csv_report[f"pagerlens-{REPORT_WEEK}-{table}.parquet"])
        frame = pd.read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-{table}.csv"])
        assert list(parquet.columns) == list(frame.columns)
        assert len(parquet) == len(frame)
