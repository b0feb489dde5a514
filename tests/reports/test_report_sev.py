"""The weekly report's SEV section (issue 14 part 6): one row per major priority with the week's
count, p50/p90 MTTA and MTTR, the longest incident and who responded, in the report data, the
CSV export, the HTML (escaped) and the PDF.

The numbers are checked on a hand-made account whose figures are worked out by hand in
tests/reports/hand_made.py, and on the canonical warehouse against plain queries of the marts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from etl.config import DEFAULTS_PATH, load_config
from reports import weekly
from reports.charts import format_duration
from reports.weekly import collect, tables, write_report
from tests.etl.models_support import base_account, build_account
from tests.reports.hand_made import DAY, SINCE, UNTIL, WEEK, sev_account
from tests.reports.helpers import fake_svgs, flat, pdf_pages, query, read_csv
from tests.warehouse import HOSTILE_TITLE, build_raw_warehouse, writable_copy


@pytest.fixture(scope="module")
def sev_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sev")
    return build_raw_warehouse(folder / "pagerlens.duckdb", sev_account(), since=SINCE, until=UNTIL)


@pytest.fixture(scope="module")
def sev_data(sev_db):
    return collect(sev_db, week=WEEK, config=load_config(DEFAULTS_PATH))


def test_sev_table_numbers_on_a_hand_made_week(sev_data):
    sev = sev_data.sev.set_index("priority_name")
    assert list(sev.index) == ["P1", "P2"] and list(sev["sev_rank"]) == [1, 2]
    p1, p2 = sev.loc["P1"], sev.loc["P2"]
    assert (p1["total_incident_count"], p1["previous_total_incident_count"]) == (3, 0)
    assert p1["p50_seconds_to_first_ack"] == pytest.approx(120)
    assert p1["p90_seconds_to_first_ack"] == pytest.approx(504)
    assert p1["p50_seconds_to_resolve"] == pytest.approx(3600)
    assert p1["p90_seconds_to_resolve"] == pytest.approx(6480)
    assert (p1["longest_incident_number"], p1["longest_seconds"]) == (3, 7200)
    assert not p1["longest_is_open"]
    assert p1["responders"] == "Ada Lovelace (3), Grace Hopper (1)"
    assert p1["responder_people"] == 2
    assert p2["total_incident_count"] == 1
    assert p2["p50_seconds_to_first_ack"] == pytest.approx(30)
    assert pd.isna(p2["p50_seconds_to_resolve"])  # still open: no resolution time
    assert p2["longest_incident_number"] == 4 and bool(p2["longest_is_open"])
    assert (
        p2["longest_seconds"] == (UNTIL - (SINCE + timedelta(hours=12) + 3 * DAY)).total_seconds()
    )
    assert p2["responders"] == "Grace Hopper (1)"


def test_sev_incidents_list_the_week_longest_first_with_responders(sev_data):
    incidents = sev_data.sev_incidents
    assert list(incidents["incident_number"]) == [3, 2, 1, 4]
    by_number = incidents.set_index("incident_number")
    assert by_number.loc[2, "responders"] == "Grace Hopper, Ada Lovelace"  # in response order
    assert by_number.loc[3, "responders"] == "Ada Lovelace"  # the integration is not a person
    assert by_number.loc[1, "title"] == HOSTILE_TITLE
    assert by_number.loc[4, "open_seconds"] == 4 * 86400


def test_sev_csv_has_every_row_and_stable_columns(sev_db, tmp_path):
    paths = write_report(sev_db, week=WEEK, out_dir=tmp_path, formats=("csv",))
    assert len(paths) == len(weekly.TABLE_NAMES)
    rows = read_csv(tmp_path / f"pagerlens-{WEEK}-sev_priorities.csv")
    assert [r["priority_name"] for r in rows] == ["P1", "P2"]
    p1 = rows[0]
    assert (p1["week_start"], p1["total_incident_count"], p1["longest_incident_number"]) == (
        "2026-03-02",
        "3",
        "3",
    )
    assert float(p1["p90_seconds_to_first_ack"]) == pytest.approx(504)
    assert p1["responders"] == "Ada Lovelace (3), Grace Hopper (1)"
    incidents = read_csv(tmp_path / f"pagerlens-{WEEK}-sev_incidents.csv")
    assert [r["incident_number"] for r in incidents] == ["3", "2", "1", "4"]
    assert incidents[2]["title"] == HOSTILE_TITLE  # data, verbatim
    assert incidents[0]["created_at"] == "2026-03-04T12:00:00+00:00"


def test_sev_section_in_html_is_escaped_and_complete(sev_data):
    from reports.render import render_html

    html = render_html("weekly.html", weekly.html._context(sev_data, fake_svgs(sev_data)))
    section = flat(html[html.index('<section id="sev">') : html.index('<section id="teams">')])
    assert "Major priorities (SEV): P1, P2" in section
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;pwned&#34;)" in section
    p1 = (
        '<td>P1</td><td class="num">3</td><td class="num">0</td>'
        f'<td class="num">{format_duration(120)}</td><td class="num">{format_duration(504)}</td>'
        f'<td class="num">{format_duration(3600)}</td><td class="num">{format_duration(6480)}</td>'
    )
    assert p1 in section.replace("> <", "><")
    assert f"(checkout-api, resolved in {format_duration(7200)})" in section
    assert f"open for {format_duration(4 * 86400)}" in section
    assert "Ada Lovelace (3), Grace Hopper (1)" in section


def test_anonymized_sev_section_names_no_one(sev_db, tmp_path):
    db = writable_copy(sev_db, tmp_path)
    data = collect(db, week=WEEK, config=load_config(DEFAULTS_PATH), anonymize=True)
    text = data.sev.to_csv() + data.sev_incidents.to_csv()
    for name in ("Ada Lovelace", "Grace Hopper"):
        assert name not in text
    assert "Responder " in data.sev.iloc[0]["responders"]


def test_configured_major_priorities_replace_the_top_two():
    account = base_account()
    account.priorities()
    con = build_account(account, major_priorities=("P3", "Sev X"))
    rows = con.execute("select sev_rank, priority_name, priority_rank from int_major_priorities")
    assert rows.fetchall() == [(1, "P3", 3), (2, "Sev X", None)]
    con.close()


def test_an_account_without_priorities_says_so(tmp_path):
    from reports.render import render_html

    account = sev_account()
    account.rows["priorities"].clear()
    db = build_raw_warehouse(tmp_path / "w.duckdb", account, since=SINCE, until=UNTIL)
    data = collect(db, week=WEEK, config=load_config(DEFAULTS_PATH))
    assert data.sev is not None and data.sev.empty and data.sev_incidents.empty
    html = flat(render_html("weekly.html", weekly.html._context(data, fake_svgs(data))))
    assert "This account has no priorities" in html
    assert tables(data)["sev_priorities"].empty


def test_canonical_week_sev_rows_equal_the_priority_marts(pipeline_db):
    week = "2026-W08"  # the canonical account's week with P1 and P2 incidents
    data = collect(pipeline_db, week=week, config=load_config(DEFAULTS_PATH))
    expected = query(
        pipeline_db,
        "select dimension_value, total_incident_count, p50_seconds_to_first_ack, "
        "p90_seconds_to_resolve from incident_weekly_by_dimension "
        "where dimension = 'priority' and week_start = '2026-02-16' "
        "and dimension_value in ('P1', 'P2') order by dimension_value",
    )
    got = data.sev[
        [
            "priority_name",
            "total_incident_count",
            "p50_seconds_to_first_ack",
            "p90_seconds_to_resolve",
        ]
    ]
    assert [tuple(r) for r in got.itertuples(index=False)] == expected
    numbers = query(
        pipeline_db,
        "select incident_number from incidents where week_start = '2026-02-16' "
        "and priority_name in ('P1', 'P2') and merged_into_incident_id is null",
    )
    assert sorted(data.sev_incidents["incident_number"]) == sorted(n for (n,) in numbers)


@pytest.mark.browser
def test_sev_section_in_the_pdf(sev_db, tmp_path):
    (pdf,) = write_report(sev_db, week=WEEK, out_dir=tmp_path, formats=("pdf",))
    text = flat("\n".join(pdf_pages(pdf, layout=False)))
    assert "Major priorities (SEV): P1, P2" in text
    assert "Ada Lovelace (3), Grace Hopper (1)" in text
    for figure in (format_duration(504), format_duration(6480), format_duration(4 * 86400)):
        assert figure in text
    assert '<script>alert("pwned")</script>' in text  # the title as text, never markup


@pytest.mark.browser
def test_canonical_pdf_has_the_sev_section(report):
    text = flat("\n".join(pdf_pages(report["pagerlens-2026-W09.pdf"], layout=False)))
    assert "Major priorities (SEV): P1, P2" in text
    assert "No incident of these priorities was created in 2026-W09" in text
