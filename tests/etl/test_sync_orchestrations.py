"""Event Orchestration service rules (issue 14 part 5) against the simulated PagerDuty: read
once per service per run, skipped when the plan or key refuses it (402/403/404), and staged
as one row per rule; unreadable payloads are kept with their problem."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb

from simulator.index import index_for
from simulator.orchestrations import configuration
from tests.etl.test_sync import END, account, raw_rows, serving, sync  # noqa: F401

SINCE = END - timedelta(days=3)
PREFIX = "/event_orchestrations/services/"
STAGING = Path(__file__).resolve().parents[2] / "etl/models/staging"


def rows_of(db, query: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def test_every_service_orchestration_is_read_once(account, tmp_path):  # noqa: F811
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        summary = sync(db, server, since=SINCE, until=END)
        asked = [r.path for r in server.request_log if r.path.startswith(PREFIX)]
    services = {s["id"] for s in account.services}
    assert sorted(asked) == sorted(PREFIX + s for s in services)  # one request each
    assert summary.skipped == [] and summary.records["service_orchestrations"] == len(services)
    stored = dict(rows_of(db, "select id, payload::varchar from raw_service_orchestrations"))
    planted = configuration(index_for(account)).orchestrations
    assert {k: json.loads(v) for k, v in stored.items()} == {
        k: {"id": k, **v} for k, v in planted.items()
    }


def orchestration(service_id: str, sets, catch_all=None, **extra) -> dict:
    path = {
        "type": "service",
        "parent": {"id": service_id, "type": "service_reference"},
        "sets": sets,
        "catch_all": {"actions": catch_all or {}},
        "updated_at": "2026-02-20T10:00:00Z",
    }
    return {"id": service_id, "orchestration_path": path | extra}


def rule(rule_id, expression=None, **actions) -> dict:
    found = {"id": rule_id, "label": f"rule {rule_id}", "actions": actions}
    found["conditions"] = [{"expression": expression}] if expression else []
    return found


def staged(payloads: list[dict]) -> list[dict]:
    con = duckdb.connect()
    con.execute("create table raw_service_orchestrations (id varchar, payload json)")
    for payload in payloads:
        con.execute(
            "insert into raw_service_orchestrations values (?, ?)",
            [payload["id"], json.dumps(payload)],
        )
    sql = (STAGING / "stg_service_orchestration_rules.sql").read_text()
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_staging_summarises_each_rule_and_keeps_unreadable_payloads_aside():
    suppress = rule("r1", "event.summary matches part 'Disk full'", suppress=True)
    suspend = rule("r2", "event.summary matches 'flap'", suspend=300, route_to="step-two")
    severity = rule("r3", None, severity="warning", priority="PPRIO1", event_action="trigger")
    disabled = rule("r4", "event.severity matches 'info'", drop_event=True) | {"disabled": True}
    rows = staged(
        [
            orchestration(
                "PGOOD01",
                [
                    {"id": "start", "rules": [suppress, suspend]},
                    {"id": "step-two", "rules": [severity, disabled]},
                ],
                catch_all={"suppress": True},
            ),
            orchestration("PEMPTY1", [{"id": "start", "rules": []}]),
            {"id": "PBAD001", "something_else": {}},
            orchestration("PBAD003", "not a list"),
            orchestration(
                "PBAD004", [{"id": "start", "rules": [{"label": "no id", "actions": {}}]}]
            ),
            orchestration(
                "PBAD005", [{"id": "start", "rules": [{"id": "x", "actions": "suppress"}]}]
            ),
        ]
    )
    good = {r["rule_id"]: r for r in rows if r["service_id"] == "PGOOD01"}
    assert set(good) == {"r1", "r2", "r3", "r4", "catch_all"}
    assert good["r1"]["suppress"] and good["r1"]["conditions"] == [
        "event.summary matches part 'Disk full'"
    ]
    assert good["r2"]["suspend_seconds"] == 300 and good["r2"]["route_to"] == "step-two"
    assert (good["r3"]["severity"], good["r3"]["priority_id"], good["r3"]["conditions"]) == (
        "warning",
        "PPRIO1",
        [],
    )
    assert good["r4"]["disabled"] and good["r4"]["drop_event"]
    assert good["catch_all"]["suppress"] and good["catch_all"]["set_id"] == "catch_all"
    assert all(r["problem"] is None for r in good.values())
    assert not [r for r in rows if r["service_id"] == "PEMPTY1"]  # no rules, no rows
    problems = {r["service_id"]: r["problem"] for r in rows if r["problem"] is not None}
    assert problems == {
        "PBAD001": "no orchestration_path object",
        "PBAD003": "sets is not a list",
        "PBAD004": "rule without an id",
        "PBAD005": "actions is not an object",
    }


def test_staging_flags_a_payload_of_another_service():
    other = orchestration("PONE001", [{"id": "start", "rules": [rule("r1", None, suppress=True)]}])
    other["orchestration_path"]["parent"]["id"] = "PTWO002"
    (row,) = staged([other])
    assert row["problem"] == "orchestration_path.parent is another service"


def test_the_simulated_rules_reach_the_recommendations(account, tmp_path):  # noqa: F811
    """Synced and built (14 days): the planted rules take alert types out of the
    recommendations (already on, the rule as evidence, on the rule's own service), and the
    services whose rules suppress or suspend are flagged for holding incidents back."""
    db = tmp_path / "w.duckdb"
    with serving(account) as server:
        sync(db, server, since=account.start, until=END, build=True)
    already = rows_of(
        db,
        "select kind, service_id, evidence->>'$.event_orchestration_rule.rule_id' "
        "from recommendations_already_on where evidence is not null order by 1, 2",
    )
    planted = {
        rule["id"]: service_id
        for service_id, body in configuration(index_for(account)).orchestrations.items()
        for rule in body["orchestration_path"]["sets"][0]["rules"]
    }
    assert already and all(planted[rule_id] == service for _, service, rule_id in already)
    # A suppressed alert type is one already-on row, not one per recommendation kind.
    assert len({(service, rule_id) for _, service, rule_id in already}) == len(already)
    flagged = rows_of(
        db, "select service_id from service_setting_flags where orchestration_hides_incidents"
    )
    hiding = {
        service_id
        for service_id, body in configuration(index_for(account)).orchestrations.items()
        for rule in body["orchestration_path"]["sets"][0]["rules"]
        if {"suppress", "suspend"} & set(rule["actions"])
    }
    assert {s for (s,) in flagged} == hiding
