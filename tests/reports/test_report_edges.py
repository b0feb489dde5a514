"""The report's edges: hostile alert text shown as text, anonymization, an honest empty week,
missing optional tables, and the failure modes a user meets (never synced, bad --week)."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from reports import weekly
from reports.weekly import ReportError, collect, tables, write_report
from tests.reports.helpers import (
    REPORT_WEEK,
    fake_svgs,
    flat,
    pdf_pages,
    query,
    read_csv,
    tile_value,
)
from tests.warehouse import HOSTILE_TEAM, HOSTILE_TITLE, HOSTILE_WEEK, QUIET_WEEK, writable_copy

# ------------------------------------------------------------------ escaping


@pytest.mark.browser
def test_hostile_alert_text_is_shown_as_text(hostile_db, tmp_path):
    paths = write_report(hostile_db, week=HOSTILE_WEEK, out_dir=tmp_path, formats=("pdf",))
    text = flat("\n".join(pdf_pages(paths[0], layout=False)))
    # The title is in an impact window (a major incident of the week) and the alert type in
    # the noise tables: printed literally, tags and all.
    assert HOSTILE_TITLE in text
    assert HOSTILE_TEAM in text


def test_rendered_html_escapes_alert_text(hostile_db):
    from reports.render import render_html

    data = collect(hostile_db, week=HOSTILE_WEEK)
    html = render_html("weekly.html", weekly.html._context(data, fake_svgs(data)))
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "<b>full</b>" not in html and "<ops>" not in html
    assert HOSTILE_TITLE not in html


# ------------------------------------------------------------------ anonymization


@pytest.mark.browser
def test_anonymized_outputs_leak_no_real_name_or_email(anonymized, pipeline_db):
    pdf = anonymized[f"pagerlens-{REPORT_WEEK}.pdf"]
    texts = ["\n".join(pdf_pages(pdf))]
    texts += [p.read_text(encoding="utf-8") for p in anonymized.values() if p.suffix == ".csv"]
    from pypdf import PdfReader

    texts.append(json.dumps({k: str(v) for k, v in (PdfReader(pdf).metadata or {}).items()}))
    everything = "\n".join(texts)
    users = query(pipeline_db, "select id, payload->>'name', payload->>'email' from raw_users")
    assert users
    for user_id, name, email in users:
        assert email not in everything
        for part in (name, *name.split()):
            assert not re.search(rf"\b{re.escape(part)}\b", everything), part
        assert f",{user_id}," not in everything
    assert "@" not in everything.replace("@media", "")
    assert re.search(r"Responder [0-9A-F]{4}", everything)
    assert "Anonymized: responders shown as pseudonyms" in flat(texts[0])


def test_pseudonyms_are_stable_and_distinct(anonymizable_db):
    first = collect(anonymizable_db, anonymize=True).responders[["user_name"]]
    second = collect(anonymizable_db, anonymize=True).responders[["user_name"]]
    assert len(first) > 0
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


def test_salt_is_created_once_private_and_overridable(tmp_path, monkeypatch):
    from reports.anonymize import SALT_ENV, load_salt, salt_path

    monkeypatch.delenv(SALT_ENV, raising=False)
    db = tmp_path / "w.duckdb"
    first = load_salt(db)
    assert len(first) == 16 and load_salt(db) == first
    assert salt_path(db).stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv(SALT_ENV, "from-the-environment")
    assert load_salt(db) == b"from-the-environment"


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


def test_weeks_outside_the_data_and_bad_formats(pipeline_db, tmp_path):
    with pytest.raises(ReportError, match="outside the synced data"):
        collect(pipeline_db, week="2025-W10")
    with pytest.raises(ReportError, match="outside the synced data"):
        collect(pipeline_db, week="2027-W10")
    with pytest.raises(ReportError, match="must look like"):
        collect(pipeline_db, week="last week")
    with pytest.raises(ReportError, match="unknown report format"):
        write_report(pipeline_db, out_dir=tmp_path, formats=("docx",))


def test_without_a_browser_the_csvs_are_still_written(pipeline_db, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium-here"))
    with pytest.raises(ReportError, match="chart export failed.*CSV files were written"):
        write_report(pipeline_db, out_dir=tmp_path / "out", formats=("pdf", "csv"))
    assert len(list((tmp_path / "out").glob("*.csv"))) == len(weekly.TABLE_NAMES)
    assert not list((tmp_path / "out").glob("*.pdf*"))


# ------------------------------------------------------------------ empty and partial data


@pytest.mark.browser
def test_a_week_without_incidents_is_an_honest_empty_report(hostile_db, tmp_path):
    paths = write_report(hostile_db, week=QUIET_WEEK, out_dir=tmp_path / "out")
    pdf = next(p for p in paths if p.suffix == ".pdf")
    text = flat("\n".join(pdf_pages(pdf)))
    assert f"No incidents were created in week {QUIET_WEEK}." in text
    first = pdf_pages(pdf)[0]
    assert tile_value(first, "Incidents") == "0"
    assert tile_value(first, "MTTA (mean)") == "—"
    assert "No major incident affected any service" in text
    rows = read_csv(tmp_path / "out" / f"pagerlens-{QUIET_WEEK}-team_weekly.csv")
    # Teams busy the week before still appear, with zero incidents this week.
    assert len(rows) == 2 and all(r["total_incident_count"] == "0" for r in rows)


def _without(db, folder, *drop: str):
    copy = writable_copy(db, folder)
    with duckdb.connect(str(copy)) as con:
        for name in drop:
            kind = con.execute(
                "select table_type from information_schema.tables where table_name = ?", [name]
            ).fetchall()[0][0]
            con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} {name}")
    return copy


def test_without_the_incident_template_map_templates_use_history_counts(pipeline_db, tmp_path):
    from reports.render import render_html

    data = collect(_without(pipeline_db, tmp_path, "int_incident_noise"))
    assert data.template_count_column == "incident_count"
    assert list(data.templates["incident_count"]) == sorted(
        data.templates["incident_count"], reverse=True
    )
    html = flat(render_html("weekly.html", weekly.html._context(data, fake_svgs(data))))
    assert "counts and shares cover the whole synced history" in html


def test_missing_optional_tables_give_honest_sections(pipeline_db, tmp_path):
    from reports.render import render_html

    optional = ("alert_templates", "recommendations", "int_incident_noise", "int_interruptions")
    data = collect(_without(pipeline_db, tmp_path, *optional, "_sync_runs"))
    assert data.freshness is None and data.templates is None and data.sleep_nights is None
    html = flat(render_html("weekly.html", weekly.html._context(data, fake_svgs(data))))
    assert "The noise marts (alert_templates, recommendations) are not in this warehouse" in html
    assert "interruptions model" in html
    assert "(no sync recorded)" in html
    out = tables(data)
    assert list(out["recommendations"].columns)[:2] == ["recommendation_id", "team_id"]
    assert out["noisy_templates"].empty and out["recommendations"].empty
