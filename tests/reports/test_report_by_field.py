"""The weekly report broken down by an incident custom field (issue 14 part 4,
``pagerlens report --by-field NAME``): the week's count, majors and MTTA/MTTR per value from the
custom_field_weekly mart, a section in the PDF and a by_field CSV. Figures of the hand-made
week (tests/reports/hand_made.py): deploy #1 and #2 (MTTR 1,800 and 3,600 s), config #3
(7,200 s), capacity #5 (900 s, corrected from config), not set #4 (open) and #6 (300 s)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.config import DEFAULTS_PATH, load_config
from reports import weekly
from reports.charts import format_duration
from reports.weekly import ReportError, collect, write_report
from tests.reports.hand_made import SINCE, UNTIL, WEEK, sev_account, with_custom_fields
from tests.reports.helpers import fake_svgs, flat, pdf_pages, query, read_csv
from tests.warehouse import build_raw_warehouse


@pytest.fixture(scope="module")
def fields_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("by-field") / "pagerlens.duckdb"
    return build_raw_warehouse(path, with_custom_fields(sev_account()), since=SINCE, until=UNTIL)


def _collect(db: Path, field: str | None):
    return collect(db, week=WEEK, config=load_config(DEFAULTS_PATH), by_field=field)


def test_breakdown_by_root_cause_on_a_hand_made_week(fields_db):
    data = _collect(fields_db, "root_cause")
    rows = data.by_field.set_index("field_value")
    assert list(rows.index) == ["deploy", "capacity", "config", "(none)"]
    assert list(rows["total_incident_count"]) == [2, 1, 1, 2]
    assert list(rows["total_major_incidents"]) == [2, 0, 1, 1]  # P1 #1-#3 and P2 #4 are major
    assert rows.loc["deploy", "p50_seconds_to_resolve"] == pytest.approx(2700)
    assert rows.loc["deploy", "p90_seconds_to_resolve"] == pytest.approx(3420)
    assert rows.loc["capacity", "p50_seconds_to_resolve"] == pytest.approx(900)
    assert rows.loc["(none)", "p50_seconds_to_resolve"] == pytest.approx(300)  # #4 is open
    assert data.by_field_label == "root_cause"
    assert sum(rows["total_incident_count"]) == data.incident_count  # every incident once


def test_by_field_csv_only_when_asked(fields_db, tmp_path):
    plain = write_report(fields_db, week=WEEK, out_dir=tmp_path / "plain", formats=("csv",))
    assert len(plain) == len(weekly.TABLE_NAMES)
    paths = write_report(
        fields_db, week=WEEK, out_dir=tmp_path / "by", formats=("csv",), by_field="root_cause"
    )
    (by_field,) = [p for p in paths if p.name.endswith("-by_field.csv")]
    rows = read_csv(by_field)
    assert [(r["field_value"], r["total_incident_count"]) for r in rows] == [
        ("deploy", "2"),
        ("capacity", "1"),
        ("config", "1"),
        ("(none)", "2"),
    ]
    assert {r["field_name"] for r in rows} == {"root_cause"}
    assert rows[0]["week_start"] == "2026-03-02"


def test_unknown_field_and_an_account_without_fields_are_one_line_errors(fields_db, hostile_db):
    with pytest.raises(
        ReportError, match="no such custom field; this account's: customer_impact, root_cause"
    ):
        _collect(fields_db, "nope")
    with pytest.raises(ReportError, match="has no incident custom fields"):
        collect(hostile_db, config=load_config(DEFAULTS_PATH), by_field="root_cause")


def test_by_field_section_is_escaped(fields_db):
    from reports.render import render_html

    data = _collect(fields_db, "customer_impact")
    html = render_html("weekly.html", weekly.html._context(data, fake_svgs(data)))
    section = flat(html[html.index('<section id="by-field">') : html.index('<section id="teams">')])
    assert "<h2>By customer_impact</h2>" in section
    assert "<td>&lt;b&gt;outage&lt;/b&gt;</td>" in section and "<b>outage" not in html
    assert "<td>(not set)</td>" in section
    assert '<section id="by-field">' not in render_html(
        "weekly.html", weekly.html._context(_collect(fields_db, None), fake_svgs(data))
    )


def test_cli_help_and_option(fields_db, tmp_path, capsys):
    from etl.cli import main

    help_text = CliRunner().invoke(cli, ["report", "--help"]).output
    assert "--by-field FIELD" in help_text and "root_cause" in help_text
    args = ["report", "--db", str(fields_db), "--week", WEEK, "--out", str(tmp_path)]
    assert main([*args, "--format", "csv", "--by-field", "root_cause"]) in (0, None)
    assert f"pagerlens-{WEEK}-by_field.csv" in capsys.readouterr().out
    assert main([*args, "--format", "csv", "--by-field", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such custom field" in err and "Traceback" not in err


@pytest.mark.browser
def test_by_field_section_in_the_pdf(fields_db, tmp_path):
    (pdf,) = write_report(
        fields_db, week=WEEK, out_dir=tmp_path, formats=("pdf",), by_field="root_cause"
    )
    text = flat("\n".join(pdf_pages(pdf, layout=False)))
    assert "By root_cause" in text
    assert f"deploy 2 0 2 {format_duration(90)} {format_duration(2700)}" in text
    assert "(not set) 2" in text


def test_canonical_breakdown_equals_the_mart(pipeline_db):
    data = collect(
        pipeline_db, week="2026-W08", config=load_config(DEFAULTS_PATH), by_field="root_cause"
    )
    expected = query(
        pipeline_db,
        "select field_value, total_incident_count, p50_seconds_to_resolve "
        "from custom_field_weekly where field_name = 'root_cause' "
        "and week_start = '2026-02-16' order by field_value",
    )
    got = data.by_field.sort_values("field_value")
    assert len(expected) > 1, "the simulated account sets root causes"
    columns = ["field_value", "total_incident_count", "p50_seconds_to_resolve"]
    rows = [
        tuple(None if pd.isna(v) else v for v in r) for r in got[columns].itertuples(index=False)
    ]
    assert rows == expected
    assert got["total_incident_count"].sum() == data.incident_count
