"""The weekly report end to end on the fixture warehouse: PDF text and pixels, CSVs, escaping,
anonymization, and the failure modes a user meets (never synced, empty week, bad --week)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl.config import load_config
from etl.queries import definitions as defs
from reports import weekly
from reports.charts import format_duration
from reports.weekly import ReportError, ReportWeek, collect, tables, write_report
from tests.reports.conftest import (
    DATA_END,
    HOSTILE_TEMPLATE,
    HOSTILE_TITLE,
    REPORT_WEEK,
    REPORT_WEEK_START,
    USERS,
    FixtureOptions,
    build_fixture_warehouse,
)

WEEK_START_TS = datetime(2026, 11, 16, tzinfo=UTC)
WEEK_END_TS = datetime(2026, 11, 23, tzinfo=UTC)


def _pdf_pages(path: Path, layout: bool = True) -> list[str]:
    """The PDF's text per page (``-layout`` keeps columns; without it, reading order)."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def _tile_value(page: str, label: str) -> str:
    """The figure printed under a headline tile's label (same column, within three lines)."""
    lines = page.splitlines()
    for i, line in enumerate(lines):
        column = line.find(label)
        if column < 0:
            continue
        for below in lines[i + 1 : i + 4]:
            value = below[column:].split("  ")[0].strip()
            if value:
                return value
    raise AssertionError(f"no tile {label!r}")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def report(fixture_db, tmp_path_factory) -> dict[str, Path]:
    """The PDF (needs Chromium for the charts: tests using it are marked browser)."""
    out = tmp_path_factory.mktemp("report")
    paths = write_report(fixture_db, out_dir=out, formats=("pdf",))
    return {p.name: p for p in paths}


@pytest.fixture(scope="module")
def csv_report(fixture_db, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("csv")
    paths = write_report(fixture_db, out_dir=out, formats=("csv", "parquet"))
    return {p.name: p for p in paths}


@pytest.fixture(scope="module")
def stale_db(tmp_path_factory) -> Path:
    return build_fixture_warehouse(
        tmp_path_factory.mktemp("stale") / "w.duckdb", options=FixtureOptions(stale_open_major=True)
    )


@pytest.fixture(scope="module")
def anonymized(stale_db, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("anon")
    paths = write_report(stale_db, out_dir=out, formats=("pdf", "csv"), anonymize=True)
    return {p.name: p for p in paths}


# ------------------------------------------------------------------ weeks and defaults


def test_week_parsing_and_bounds():
    week = ReportWeek.parse("2026-W47")
    assert week.monday == date(2026, 11, 16)
    assert week.start == WEEK_START_TS and week.end == WEEK_END_TS
    assert week.shift(-1).label == "2026-W46"
    assert ReportWeek.parse("2026-W01").monday == date(2025, 12, 29)  # ISO year != calendar year
    assert ReportWeek.parse("2026-W53", "Europe/Berlin").start.utcoffset().total_seconds() == 3600
    for bad in ("2026-47", "2026-W5", "W47", "2025-W53"):
        with pytest.raises(ReportError):
            ReportWeek.parse(bad)


def test_default_week_is_the_last_complete_one(fixture_db):
    data = collect(fixture_db)
    assert data.week.label == REPORT_WEEK
    assert data.data_end == DATA_END
    assert data.freshness == datetime(2026, 11, 25, 12, 4, 31, tzinfo=UTC)
    assert [w.label for w in data.trend_weeks][-2:] == ["2026-W46", "2026-W47"]
    assert len(data.trend_weeks) == 12


def test_an_incomplete_week_says_so(fixture_db):
    data = collect(fixture_db, week="2026-W48")
    assert any("not complete" in n for n in data.notes)


def test_syncs_failed_after_the_data_are_noted(fixture_db, tmp_path):
    import shutil

    from etl.warehouse import note_sync_failure

    db = tmp_path / "pagerlens.duckdb"
    shutil.copyfile(fixture_db, db)
    entry = {"run_id": "r", "started_at": "2026-11-26T02:00:00+00:00", "requests": 9}
    # Before the fixture's last good sync (2026-11-25 12:04:31): already superseded.
    note_sync_failure(db, entry | {"failed_at": "2026-11-25T02:00:00+00:00", "reason": "old"})
    assert not any("sync run" in n for n in collect(db).notes)
    note_sync_failure(
        db, entry | {"failed_at": "2026-11-26T02:01:00+00:00", "reason": "AuthenticationError: 401"}
    )
    (note,) = [n for n in collect(db).notes if "sync run" in n]
    assert note == (
        "1 sync run(s) failed after this data was synced; the latest at "
        "2026-11-26 02:01 UTC: AuthenticationError: 401"
    )


# ------------------------------------------------------------------ figures vs warehouse


def test_headline_figures_equal_the_incidents_mart(fixture_db):
    data = collect(fixture_db)
    ((count, mtta, mttr_p90, noise),) = _query(
        fixture_db,
        """
        select count(*), avg(seconds_to_first_ack), quantile_cont(seconds_to_resolve, 0.9),
               avg(case when is_noise then 1.0 else 0.0 end)
        from incidents where created_at >= ? and created_at < ?""",
        [WEEK_START_TS, WEEK_END_TS],
    )
    by_key = {m.key: m for m in data.headline}
    assert by_key["total_incident_count"].value == count
    assert by_key["mean_seconds_to_first_ack"].value == pytest.approx(mtta)
    assert by_key["p90_seconds_to_resolve"].value == pytest.approx(mttr_p90)
    assert by_key["noise_ratio"].value == pytest.approx(noise)
    ((sleep,),) = _query(
        fixture_db,
        "select sum(total_sleep_hour_interruptions) from responder_weekly where week_start = ?",
        [REPORT_WEEK_START],
    )
    assert by_key["total_sleep_hour_interruptions"].value == sleep
    ((prev_count,),) = _query(
        fixture_db,
        "select count(*) from incidents where created_at >= ? and created_at < ?",
        [datetime(2026, 11, 9, tzinfo=UTC), WEEK_START_TS],
    )
    assert by_key["total_incident_count"].change == count - prev_count


def test_up_time_and_major_free_streaks_follow_the_account_windows(fixture_db):
    data = collect(fixture_db)
    windows = _query(
        fixture_db,
        "select window_start, window_end from impact_windows "
        "where scope = 'account' order by window_start",
    )
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


@pytest.mark.browser
def test_pdf_figures_equal_the_warehouse(report, fixture_db):
    pages = _pdf_pages(report[f"pagerlens-{REPORT_WEEK}.pdf"])
    text = _flat("\n".join(pages))
    ((count, mtta, mttr, mttr_p90),) = _query(
        fixture_db,
        """
        select count(*), avg(seconds_to_first_ack), avg(seconds_to_resolve),
               quantile_cont(seconds_to_resolve, 0.9)
        from incidents where created_at >= ? and created_at < ?""",
        [WEEK_START_TS, WEEK_END_TS],
    )
    assert _tile_value(pages[0], "Incidents") == str(count)
    assert _tile_value(pages[0], "MTTA (mean)") == format_duration(mtta)
    assert _tile_value(pages[0], "MTTR (mean)") == format_duration(mttr)
    assert _tile_value(pages[0], "MTTR (p90)") == format_duration(mttr_p90)
    # Every team row of the week: its name followed by its incident count and MTTA mean.
    for name, incidents, team_mtta in _query(
        fixture_db,
        """
            select team_name, total_incident_count, mean_seconds_to_first_ack
            from team_weekly where week_start = ?""",
        [REPORT_WEEK_START],
    ):
        assert re.search(
            rf"{name} {incidents} (?:[+-±]\S* )?"
            rf"{re.escape(format_duration(team_mtta))}",
            text,
        ), name


@pytest.mark.browser
def test_every_page_carries_week_freshness_and_page_number(report):
    pages = _pdf_pages(report[f"pagerlens-{REPORT_WEEK}.pdf"])
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        flat = _flat(page)
        assert f"pagerlens weekly review · {REPORT_WEEK}" in flat
        assert "data as of 2026-11-25 12:04 UTC" in flat
        assert f"Page {number} of {len(pages)}" in flat


@pytest.mark.browser
def test_pdf_pages_are_not_blank(report, tmp_path):
    pdf = report[f"pagerlens-{REPORT_WEEK}.pdf"]
    subprocess.run(["pdftoppm", "-r", "30", "-gray", str(pdf), str(tmp_path / "page")], check=True)
    from PIL import Image, ImageStat

    images = sorted(tmp_path.glob("page*.pgm"))
    assert len(images) == len(_pdf_pages(pdf))
    for image in images:
        stat = ImageStat.Stat(Image.open(image))
        assert stat.var[0] > 50, image.name  # a blank page has (almost) zero variance


@pytest.mark.browser
def test_pdf_embeds_charts_as_vector_graphics(report):
    from pypdf import PdfReader

    reader = PdfReader(report[f"pagerlens-{REPORT_WEEK}.pdf"])
    # SVG charts are drawn as vectors; the one bitmap is the sleep heatmap's cells, which plotly
    # itself draws as an image (pypdf lists the shared resource on every page).
    images = {image.name for page in reader.pages for image in page.images}
    assert len(images) <= 1
    text = _flat(" ".join(page.extract_text() for page in reader.pages))
    assert "Week starting" in text  # axis title from inside an SVG chart


@pytest.mark.browser
def test_definitions_are_quoted_from_the_metrics_document(report):
    text = _flat("\n".join(_pdf_pages(report[f"pagerlens-{REPORT_WEEK}.pdf"])))
    quoted = defs.definitions(weekly.DEFINED_COLUMNS)
    found = {k: v for k, v in quoted.items() if v}
    if not found:
        pytest.skip("docs/metrics.md has none of the report's metrics yet")
    for name, paragraph in found.items():
        words = paragraph.replace("`", "").split()[:12]
        assert " ".join(words) in text, name


# ------------------------------------------------------------------ CSVs


def test_csv_files_are_named_and_complete(csv_report):
    for table in weekly.TABLE_NAMES:
        assert f"pagerlens-{REPORT_WEEK}-{table}.csv" in csv_report
        assert f"pagerlens-{REPORT_WEEK}-{table}.parquet" in csv_report


def test_team_and_service_csvs_equal_the_marts(csv_report, fixture_db):
    for grain, key in (("team", "team_id"), ("service", "service_id")):
        rows = _read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-{grain}_weekly.csv"])
        assert list(rows[0])[:3] == [key, f"{grain}_name", "week_start"]
        mart = pd.DataFrame(
            _query(
                fixture_db,
                f"""
            select {key}, total_incident_count, mean_seconds_to_first_ack,
                   p90_seconds_to_resolve, noise_ratio, up_time_pct
            from {grain}_weekly where week_start = ?""",
                [REPORT_WEEK_START],
            ),
            columns=[key, "n", "mtta", "p90", "noise", "up"],
        ).set_index(key)
        current = [r for r in rows if r[key] in mart.index]
        assert len(current) == len(mart)
        for row in current:
            expected = mart.loc[row[key]]
            assert row["week_start"] == "2026-11-16"
            assert int(row["total_incident_count"]) == expected["n"]
            assert float(row["noise_ratio"]) == pytest.approx(expected["noise"])
            assert float(row["up_time_pct"]) == pytest.approx(expected["up"])
            if pd.notna(expected["mtta"]):
                assert float(row["mean_seconds_to_first_ack"]) == pytest.approx(expected["mtta"])
        # sorted by what got worse
        worst = [float(r["worst_change"]) for r in rows]
        assert worst == sorted(worst, reverse=True)


def test_headline_csv_matches_the_report_data(csv_report, fixture_db):
    rows = {r["metric"]: r for r in _read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-headline.csv"])}
    ((count,),) = _query(
        fixture_db,
        "select count(*) from incidents where created_at >= ? and created_at < ?",
        [WEEK_START_TS, WEEK_END_TS],
    )
    assert float(rows["total_incident_count"]["value"]) == count
    assert rows["total_incident_count"]["week"] == REPORT_WEEK
    trend = json.loads(rows["total_incident_count"]["trend_12w"])
    assert len(trend) == 12 and trend[-1] == count
    assert rows["mean_seconds_to_first_ack"]["unit"] == "seconds"


def test_responders_impact_templates_recommendations_csvs(csv_report, fixture_db):
    responders = _read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-responders.csv"])
    mart = dict(
        _query(
            fixture_db,
            "select user_id, total_sleep_hour_interruptions from "
            "responder_weekly where week_start = ?",
            [REPORT_WEEK_START],
        )
    )
    assert {r["user_id"]: int(r["total_sleep_hour_interruptions"]) for r in responders} == mart

    windows = _read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-impact_windows.csv"])
    ((expected,),) = _query(
        fixture_db,
        "select count(*) from impact_windows where window_start < ? and window_end > ?",
        [WEEK_END_TS, WEEK_START_TS],
    )
    assert len(windows) == expected > 0
    for row in windows:
        start = datetime.fromisoformat(row["window_start"])
        assert start.tzinfo is not None  # ISO 8601 with offset
        assert int(row["incident_count"]) == len(row["incident_ids"].split(";"))

    templates = _read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-noisy_templates.csv"])
    counts = [int(r["incidents_this_week"]) for r in templates]
    assert counts == sorted(counts, reverse=True) and counts
    expected = dict(
        _query(
            fixture_db,
            """
        select case when incident_id = 'PHOSTILE' then 'tpl5'
                    else 'tpl' || (cast(substr(service_id, 2) as integer) - 1) end, count(*)
        from incidents where created_at >= ? and created_at < ? group by 1""",
            [WEEK_START_TS, WEEK_END_TS],
        )
    )
    assert {r["template_id"]: int(r["incidents_this_week"]) for r in templates} == expected
    assert datetime.fromisoformat(templates[0]["first_seen"]).tzinfo is not None

    recs = _read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-recommendations.csv"])
    assert [r["recommendation_id"] for r in recs] == ["R1", "R2", "R3"]
    assert list(recs[0])[:4] == ["recommendation_id", "team_id", "team_name", "kind"]


def test_parquet_equals_csv(csv_report):
    for table in ("team_weekly", "responders"):
        parquet = pd.read_parquet(csv_report[f"pagerlens-{REPORT_WEEK}-{table}.parquet"])
        frame = pd.read_csv(csv_report[f"pagerlens-{REPORT_WEEK}-{table}.csv"])
        assert list(parquet.columns) == list(frame.columns)
        assert len(parquet) == len(frame)


# ------------------------------------------------------------------ escaping


@pytest.mark.browser
def test_hostile_alert_text_is_shown_as_text(report, fixture_db):
    text = _flat("\n".join(_pdf_pages(report[f"pagerlens-{REPORT_WEEK}.pdf"], layout=False)))
    # The title is in an impact window (a major incident of the week) and the template in the
    # noise tables: both printed literally, tags and all.
    assert '<script>alert("pwned")</script> Disk <b>full</b> on db-1 & co' in text
    assert '<script>alert("pwned")</script> Disk <b>full</b> on <*>' in text


def test_rendered_html_escapes_alert_text(fixture_db):
    from reports.render import render_html

    data = collect(fixture_db)
    html = render_html("weekly.html", weekly.html._context(data, _fake_svgs(data)))
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "<b>full</b>" not in html
    assert HOSTILE_TITLE not in html and HOSTILE_TEMPLATE not in html


def _fake_svgs(data) -> dict[str, str]:
    svgs = {key: "<svg xmlns='http://www.w3.org/2000/svg'/>" for key in weekly.pdf._charts(data)}
    return {**svgs, **weekly.pdf._sparklines(data)}


# ------------------------------------------------------------------ anonymization


@pytest.mark.browser
def test_anonymized_outputs_leak_no_real_name_or_email(anonymized):
    pdf = anonymized[f"pagerlens-{REPORT_WEEK}.pdf"]
    texts = ["\n".join(_pdf_pages(pdf))]
    texts += [p.read_text(encoding="utf-8") for p in anonymized.values() if p.suffix == ".csv"]
    from pypdf import PdfReader

    texts.append(json.dumps({k: str(v) for k, v in (PdfReader(pdf).metadata or {}).items()}))
    everything = "\n".join(texts)
    for user_id, (name, email, _) in USERS.items():
        for part in (name, email, *name.split()):
            assert part not in everything, part
        assert f",{user_id}," not in everything
    assert "@example.com" not in everything
    assert re.search(r"Responder [0-9A-F]{4}", everything)
    assert "Anonymized: responders shown as pseudonyms" in _flat(texts[0])


def test_pseudonyms_are_stable_and_distinct(stale_db):
    first = collect(stale_db, anonymize=True).responders[["user_name"]]
    second = collect(stale_db, anonymize=True).responders[["user_name"]]
    assert first.equals(second)
    assert first["user_name"].is_unique
    assert all(re.fullmatch(r"Responder [0-9A-F]{4,}", n) for n in first["user_name"])


def test_scrub_removes_names_and_emails_from_free_text():
    from reports.anonymize import Pseudonymizer

    p = Pseudonymizer(b"salt")
    p.register({"U1": "Ann Lee", "U2": "Ann Lee-Smith"})
    scrubbed = p.scrub("Paged Ann Lee-Smith and Ann Lee (ann@corp.example) about db-1")
    assert "Ann" not in scrubbed and "@" not in scrubbed
    assert p.pseudonym("U2") in scrubbed and p.pseudonym("U1") in scrubbed
    assert Pseudonymizer(b"other").pseudonym("U1") != p.pseudonym("U1")


@pytest.mark.browser
def test_stale_open_major_is_warned_about(anonymized):
    text = _flat(_pdf_pages(anonymized[f"pagerlens-{REPORT_WEEK}.pdf"])[0])
    assert "1 major incident still open" in text
    assert "#998" in text


# ------------------------------------------------------------------ failure modes


def test_never_synced_warehouse_gives_a_clear_message(tmp_path):
    with pytest.raises(ReportError, match="no warehouse at .*run `pagerlens sync`"):
        write_report(tmp_path / "missing.duckdb", out_dir=tmp_path / "out")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(ReportError, match="no marts yet"):
        write_report(empty, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_cli_prints_one_line_without_traceback(tmp_path, capsys):
    from etl.cli import main

    code = main(["report", "--db", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "no warehouse at" in err


def test_weeks_outside_the_data_and_bad_formats(fixture_db, tmp_path):
    with pytest.raises(ReportError, match="outside the synced data"):
        collect(fixture_db, week="2025-W10")
    with pytest.raises(ReportError, match="outside the synced data"):
        collect(fixture_db, week="2027-W10")
    with pytest.raises(ReportError, match="must look like"):
        collect(fixture_db, week="last week")
    with pytest.raises(ReportError, match="unknown report format"):
        write_report(fixture_db, out_dir=tmp_path, formats=("docx",))


@pytest.mark.browser
def test_a_week_without_incidents_is_an_honest_empty_report(tmp_path):
    db = build_fixture_warehouse(
        tmp_path / "w.duckdb", options=FixtureOptions(empty_week=REPORT_WEEK_START)
    )
    paths = write_report(db, week=REPORT_WEEK, out_dir=tmp_path / "out")
    pdf = next(p for p in paths if p.suffix == ".pdf")
    text = _flat("\n".join(_pdf_pages(pdf)))
    assert f"No incidents were created in week {REPORT_WEEK}." in text
    first = _pdf_pages(pdf)[0]
    assert _tile_value(first, "Incidents") == "0"
    assert _tile_value(first, "MTTA (mean)") == "—"
    assert "No major incident affected any service" in text
    rows = _read_csv(tmp_path / "out" / f"pagerlens-{REPORT_WEEK}-team_weekly.csv")
    # Teams busy the week before still appear, with zero incidents this week.
    assert rows and all(r["total_incident_count"] == "0" for r in rows)


def test_without_the_incident_template_map_templates_use_history_counts(tmp_path):
    db = build_fixture_warehouse(
        tmp_path / "w.duckdb", options=FixtureOptions(incident_noise_map=False)
    )
    data = collect(db)
    assert data.template_count_column == "incident_count"
    assert list(data.templates["incident_count"]) == sorted(
        data.templates["incident_count"], reverse=True
    )
    from reports.render import render_html

    html = _flat(render_html("weekly.html", weekly.html._context(data, _fake_svgs(data))))
    assert "counts and shares cover the whole synced history" in html


def test_missing_optional_tables_give_honest_sections(tmp_path):
    from reports.render import render_html

    db = build_fixture_warehouse(
        tmp_path / "w.duckdb",
        options=FixtureOptions(noise_marts=False, interruptions_model=False, sync_runs=False),
    )
    data = collect(db)
    assert data.freshness is None and data.templates is None and data.sleep_nights is None
    html = _flat(render_html("weekly.html", weekly.html._context(data, _fake_svgs(data))))
    assert "The noise marts (alert_templates, recommendations) are not in this warehouse" in html
    assert "interruptions model" in html
    assert "(no sync recorded)" in html
    out = tables(data)
    assert list(out["recommendations"].columns)[:2] == ["recommendation_id", "team_id"]
    assert out["noisy_templates"].empty and out["recommendations"].empty


def test_team_without_data_this_week_has_zero_counts(fixture_db):
    data = collect(fixture_db)
    cfg = load_config()
    assert cfg.reporting_time_zone == "UTC"
    teams = data.teams.set_index("team_id")
    assert set(teams.index) <= {"T1", "T2", "T3"}
    assert (teams["total_incident_count"] >= 0).all()


# ------------------------------------------------------------------ definitions parser


def test_definitions_parser(tmp_path):
    doc = tmp_path / "metrics.md"
    doc.write_text(
        "# Metrics\n\n## Per incident\n\n### `seconds_to_first_ack`\n\nThe time from creation\n"
        "to the first human acknowledgement.\n\nSecond paragraph, not quoted.\n\n"
        "### noise_ratio\nNoise incidents / all incidents.\n### empty\n\n## Other\ntext\n",
        encoding="utf-8",
    )
    assert defs.definition("seconds_to_first_ack", doc) == (
        "The time from creation to the first human acknowledgement."
    )
    assert defs.definition("noise_ratio", doc) == "Noise incidents / all incidents."
    assert defs.definition("empty", doc) is None
    assert defs.definitions(["noise_ratio", "nope"], doc) == {
        "noise_ratio": "Noise incidents / all incidents.",
        "nope": None,
    }
    assert defs.all_definitions(tmp_path / "absent.md") == {}


# ------------------------------------------------------------------ the real pipeline


@pytest.mark.slow
def test_report_tables_on_the_real_pipeline(tmp_path):
    """The simulator's raw data built by the real models: the report reads their marts as is."""
    generate = pytest.importorskip("simulator.generate")
    transform = pytest.importorskip("etl.transform")
    from etl.config import DEFAULTS_PATH

    db = tmp_path / "sim.duckdb"
    generate.generate_to_warehouse(db, seed=7, days=21, scale=1.0)
    transform.build(db, load_config(DEFAULTS_PATH))
    paths = write_report(db, out_dir=tmp_path / "out", formats=("csv",))
    assert len(paths) == len(weekly.TABLE_NAMES)
    data = collect(db)
    ((count,),) = _query(
        db,
        "select count(*) from incidents where created_at >= ? and created_at < ?",
        [data.week.start, data.week.end],
    )
    headline = {
        r["metric"]: r
        for r in _read_csv(tmp_path / "out" / f"pagerlens-{data.week.label}-headline.csv")
    }
    assert float(headline["total_incident_count"]["value"]) == count
    teams = _read_csv(tmp_path / "out" / f"pagerlens-{data.week.label}-team_weekly.csv")
    mart = dict(
        _query(
            db,
            "select team_id, total_incident_count from team_weekly where week_start = ?",
            [data.week.monday],
        )
    )
    assert {
        r["team_id"]: int(r["total_incident_count"]) for r in teams if r["team_id"] in mart
    } == mart


# ------------------------------------------------------------------ pure helpers


def test_major_free_streaks_as_of_an_instant():
    day = 86400.0
    windows = pd.DataFrame(
        {
            "window_start": [datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 1, 10, tzinfo=UTC)],
            "window_end": [datetime(2026, 1, 4, tzinfo=UTC), datetime(2026, 1, 11, tzinfo=UTC)],
        }
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # gaps: 2 d before the first window, 6 d between, then 3 d to Jan 14
    assert weekly.data._streaks(windows, start, datetime(2026, 1, 14, tzinfo=UTC)) == (
        3 * day,
        6 * day,
    )
    # inside the second window: the current streak is zero, the first window's gaps count
    assert weekly.data._streaks(windows, start, datetime(2026, 1, 10, 12, tzinfo=UTC)) == (
        0.0,
        6 * day,
    )
    # no windows at all: the whole period
    assert weekly.data._streaks(windows.iloc[0:0], start, datetime(2026, 1, 2, tzinfo=UTC)) == (
        day,
        day,
    )
    assert weekly.data._streaks(windows, None, datetime(2026, 1, 2, tzinfo=UTC)) == (None, None)


def test_what_got_worse_ranks_relative_worsening():
    this, last = ReportWeek(date(2026, 11, 16)), ReportWeek(date(2026, 11, 9))
    df = pd.DataFrame(
        [
            # A: incidents 10 -> 12 (+20%), MTTR 100 -> 400 (+300%)
            ("A", "Alpha", this.monday, 12, 60.0, 400.0, 0, 0.1, 0, 100.0),
            ("A", "Alpha", last.monday, 10, 60.0, 100.0, 0, 0.1, 0, 100.0),
            # B: sleep 0 -> 2 (first occurrence: +100%)
            ("B", "Beta", this.monday, 5, 60.0, 100.0, 2, 0.0, 0, 100.0),
            ("B", "Beta", last.monday, 5, 60.0, 100.0, 0, 0.0, 0, 100.0),
            # C: everything better
            ("C", "Gamma", this.monday, 1, 30.0, 50.0, 0, 0.0, 0, 100.0),
            ("C", "Gamma", last.monday, 4, 60.0, 100.0, 1, 0.5, 0, 100.0),
            # D: busy last week only
            ("D", "Delta", last.monday, 3, 60.0, 100.0, 0, 0.0, 0, 100.0),
        ],
        columns=[
            "team_id",
            "team_name",
            "week_start",
            "total_incident_count",
            "mean_seconds_to_first_ack",
            "mean_seconds_to_resolve",
            "total_sleep_hour_interruptions",
            "noise_ratio",
            "total_major_incidents",
            "up_time_pct",
        ],
    )
    out = weekly.data._compare_groups(df, "team_id", "team_name", this, last)
    # nothing got worse for C and D: then by incidents this week
    assert list(out["team_id"]) == ["A", "B", "C", "D"]
    by_id = out.set_index("team_id")
    assert by_id.loc["A", "worst_change_metric"] == "MTTR"
    assert by_id.loc["A", "worst_change"] == pytest.approx(3.0)
    assert by_id.loc["B", "worst_change_metric"] == "sleep interruptions"
    assert pd.isna(by_id.loc["C", "worst_change_metric"])
    assert by_id.loc["D", "total_incident_count"] == 0
    assert by_id.loc["D", "previous_total_incident_count"] == 3


def test_without_a_browser_the_csvs_are_still_written(fixture_db, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium-here"))
    with pytest.raises(ReportError, match="chart export failed.*CSV files were written"):
        write_report(fixture_db, out_dir=tmp_path / "out", formats=("pdf", "csv"))
    assert len(list((tmp_path / "out").glob("*.csv"))) == len(weekly.TABLE_NAMES)
    assert not list((tmp_path / "out").glob("*.pdf*"))


def test_salt_is_created_once_private_and_overridable(tmp_path, monkeypatch):
    from reports.anonymize import SALT_ENV, load_salt, salt_path

    monkeypatch.delenv(SALT_ENV, raising=False)
    db = tmp_path / "w.duckdb"
    first = load_salt(db)
    assert len(first) == 16 and load_salt(db) == first
    assert salt_path(db).stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv(SALT_ENV, "from-the-environment")
    assert load_salt(db) == b"from-the-environment"
