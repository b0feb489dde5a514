"""Noise marts' outputs: escaping of alert text in Markdown and CSV, the summary fallbacks
of the noise layer's model, and an empty warehouse."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl.config import load_config
from etl.noise import (
    build_noise_marts,
    write_recommendations,
)
from etl.noise.outputs import _code, _csv_cell, _team_markdown
from tests.conftest import SIM_END
from tests.etl.noise_support import (
    T0,
    _load_account,
)


def test_code_span_outlasts_backticks_in_alert_text() -> None:
    assert _code("a `b` c") == "`` a `b` c ``"
    assert _code("x ``y``\nz") == "``` x ``y`` z ```"


def test_csv_cells_never_start_a_formula() -> None:
    assert _csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert _csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert _csv_cell("Disk <*> full") == "Disk <*> full"
    assert _csv_cell(None) == "" and _csv_cell(3) == 3 and _csv_cell(float("nan")) == ""


def test_markdown_neutralises_alert_text() -> None:
    hostile = "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=y>"
    part = pd.DataFrame(
        [
            {
                "kind": "stop_paging",
                "service_name": hostile,
                "pages_saved": 3,
                "incidents_before": 10,
                "incidents_after": 10,
                "sleep_interruptions_before": 2,
                "sleep_interruptions_after": 0,
                "risk": "none",
                "title": hostile,
                "template": hostile,
                "notifications_before": 9,
                "notifications_after": 6,
                "major_incidents_affected": 0,
                "config_snippet": "x",
                "replay_start": T0,
                "replay_end": T0 + pd.Timedelta(days=28),
                "evidence": json.dumps(
                    {
                        "incidents": 10,
                        "share_auto_resolved_within": 0.5,
                        "auto_resolved_within_seconds": 300,
                        "share_never_acknowledged": 1.0,
                        "sleep_hour_pages": 2,
                        "example_incidents": [
                            {"incident_id": "<b>X</b>", "html_url": "javascript:alert(3)"}
                        ],
                    }
                ),
            }
        ]
    )
    text = _team_markdown(hostile, part)
    outside_code = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    # The template is an inline code span (rendered verbatim, never as HTML).
    assert f"- Alert: `` {hostile} ``" not in text
    assert f"- Alert: ` {hostile} `" in text
    outside_code = re.sub(r"(`+) .*? \1", "", outside_code)
    assert "<" not in outside_code and ">" not in outside_code.replace("→", "")
    assert "javascript:" not in re.sub(r"\\.", "", outside_code).split("](")[-1]
    assert "](#)" in outside_code  # the bad link target was dropped


def test_summary_falls_back_to_first_alert_then_title(tmp_path: Path) -> None:
    """Overview-only trigger entries (`trigger_log_entry_reference`) carry no channel: the
    alert summary then comes from the incident's first alert, else from its title."""
    import copy

    account_module = pytest.importorskip("simulator.account")
    from etl.transform import create_macros, discover_models, run_model

    account = copy.deepcopy(account_module.generate_account(seed=3, days=4, end=SIM_END))
    with_alerts = [i for i in account.incidents if i.alerts][:2]
    without = next(i for i in account.incidents if not i.alerts or i not in with_alerts)
    without.alerts = []
    for item in [*with_alerts, without]:
        item.incident["title"] = f"Incident title of {item.id}"  # differs from the alerts'
        for entry in item.log_entries:
            if entry["type"] == "trigger_log_entry":
                entry["type"] = "trigger_log_entry_reference"
                entry.pop("channel", None)
    # The first alert by created_at (then id) wins, whatever the listing order.
    first = with_alerts[0]
    first.alerts = list(reversed(first.alerts))
    expected = {
        i.id: min(i.alerts, key=lambda a: (a["created_at"], a["id"]))["summary"]
        for i in with_alerts
    } | {without.id: without.incident["title"]}

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _load_account(con, account)
    con.execute("set TimeZone = 'UTC'")
    config = load_config()
    create_macros(con)
    for model in discover_models():
        run_model(con, model, config.sql_params())
    build_noise_marts(con, config)
    found = dict(
        con.execute(
            "select incident_id, summary from int_incident_noise where incident_id in "
            "(select unnest(?))",
            [list(expected)],
        ).fetchall()
    )
    untouched = con.execute(
        "select count(*) from int_incident_noise as n join stg_log_entries as l "
        "on l.incident_id = n.incident_id and l.entry_type = 'trigger_log_entry' "
        "where n.summary is distinct from l.trigger_summary and n.incident_id not in "
        "(select unnest(?))",
        [list(expected)],
    ).fetchall()[0][0]
    con.close()
    assert found == expected
    assert untouched == 0


def test_empty_warehouse_builds_empty_marts(tmp_path: Path) -> None:
    from etl.transform import build

    path = tmp_path / "empty.duckdb"
    summary = build(path)
    assert summary.noise["rows"] == {
        "alert_templates": 0,
        "alert_groups": 0,
        "recommendations": 0,
        "recommendations_already_on": 0,
    }
    assert summary.noise["already_on"] == 0
    written = write_recommendations(path, tmp_path / "out")
    assert [p.name for p in written] == ["recommendations.csv"]
    header = (tmp_path / "out" / "recommendations.csv").read_text().splitlines()
    assert header[0].startswith("recommendation_id,team_id,team_name,kind")


def test_markdown_fences_each_artifact_longer_than_its_backticks() -> None:
    from etl.noise import advice
    from etl.noise.outputs import _artifact_markdown

    hostile = "[FIRING:<*>] Kube ```\n## not a heading\n<script>"
    artifacts = advice.maintenance_artifacts("PSV1", [("a", "b")], hostile, hostile)
    lines = _artifact_markdown(json.dumps(artifacts), "")
    text = "\n".join(lines)
    assert "````json\n" in text and text.rstrip().endswith("````")
    assert "**PagerDuty API `POST /maintenance_windows`**:" in text
    where = next(line for line in lines if line.startswith("**"))
    assert "<" not in where and "```" not in where
