"""The Noise page's "Already configured" section (issue 14 part 5): the recommendations not
made because the account already has the setting, filtered like the recommendations; hostile
text shown verbatim; an older warehouse without the table says so."""

from __future__ import annotations

import duckdb

from tests.dashboard.conftest import frame_with, mart, no_errors, page_texts
from tests.warehouse import writable_copy

RULE = "Event Orchestration rule '<b>Suppress</b> disk' (r1) suppresses events matching ..."


def with_already_on(db, folder):
    """A copy of ``db`` with two already-on rows, on the two busiest teams' services."""
    copy = writable_copy(db, folder)
    rows = mart(
        db,
        "select team_id, any_value(team_name), any_value(service_id), any_value(service_name) "
        "from incidents where team_id is not null group by team_id order by count(*) desc "
        "limit 2",
    )
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from recommendations_already_on")
        for n, (team_id, team_name, service_id, service_name) in enumerate(rows):
            con.execute(
                "insert into recommendations_already_on (kind, team_id, team_name, service_id, "
                "service_name, template, configured, proposed, evidence) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    "stop_paging",
                    team_id,
                    team_name,
                    service_id,
                    service_name,
                    f"Disk full on <*> #{n}",
                    RULE,
                    "Stop paging: 100% of these incidents were never acknowledged",
                    '{"event_orchestration_rule": {"rule_id": "r1"}}',
                ],
            )
    return copy, rows


def test_noise_page_lists_what_is_already_configured(app, pipeline_db, tmp_path):
    db, rows = with_already_on(pipeline_db, tmp_path / "copy")
    at = app(db).run()
    at.switch_page("views/noise.py").run()
    no_errors(at)
    shown = frame_with(at, "configured", "proposed")
    assert set(shown["template"]) == {"Disk full on <*> #0", "Disk full on <*> #1"}
    assert set(shown["configured"]) == {RULE}  # verbatim in a text cell, never as HTML
    assert "evidence" not in shown.columns
    for md in at.markdown:
        assert "<b>" not in md.value
    # The team filter applies: the first team's row only.
    at = app(db, {"team": rows[0][0]}).run()
    at.switch_page("views/noise.py").run()
    no_errors(at)
    assert set(frame_with(at, "configured")["service_name"]) <= {rows[0][3]}


def test_an_older_warehouse_without_the_table_says_so(app, pipeline_db, tmp_path):
    db = writable_copy(pipeline_db, tmp_path / "copy")
    with duckdb.connect(str(db)) as con:
        con.execute("drop table recommendations_already_on")
    at = app(db).run()
    at.switch_page("views/noise.py").run()
    no_errors(at)
    assert "predates the already-configured check" in page_texts(at)
