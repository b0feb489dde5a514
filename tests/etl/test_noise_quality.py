"""Noise marts' quality against the simulated account's planted ground truth (storms,
flapping alerts, maintenance windows), on each of the fixed draws QUALITY_DRAWS
(tests/conftest.py), and the marts and files built from them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from bench.common import window_slots
from etl.config import load_config
from etl.noise import Replay, write_recommendations
from etl.sqlfiles import sql_text
from tests.conftest import QUALITY_DRAWS
from tests.etl.noise_support import _build_noise, _components, _draw_id


@pytest.fixture(scope="module", params=QUALITY_DRAWS, ids=_draw_id)
def simulated(request, tmp_path_factory) -> dict:
    """90 days of the default-scale account, once per fixed draw (tests/conftest.py): every
    quality test must hold on each of them, not on one lucky draw."""
    account_module = pytest.importorskip("simulator.account")
    seed, end = request.param
    account = account_module.generate_account(seed=seed, days=90, end=end)
    path, result = _build_noise(tmp_path_factory.mktemp("noise"), account)
    return {"path": path, "truth": account.ground_truth, "result": result, "account": account}


def _read(simulated: dict, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(simulated["path"]), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_planted_storms_are_recovered(simulated: dict) -> None:
    truth = {i: s["storm_id"] for s in simulated["truth"]["storms"] for i in s["incident_ids"]}
    found = _read(
        simulated,
        "select incident_id, occurrence_id from int_incident_noise where occurrence_id is not null",
    )
    found = dict(zip(found["incident_id"], found["occurrence_id"], strict=True))
    ids = sorted(set(truth) | set(found))
    ari = adjusted_rand_score(
        [truth.get(i, f"none-{i}") for i in ids], [found.get(i, f"none-{i}") for i in ids]
    )
    print(
        f"storm ARI {ari:.3f} over {len(ids)} incidents ({len(truth)} planted, {len(found)} found)"
    )
    # Measured on the three draws with co-firing alone: 0.900 / 0.949 / 0.544; with the
    # account's service graph (storms read from it, 2026-12-07): 0.981 / 0.968 / 0.990.
    # docs/grouping.md, section 3, has the out-of-sample table (held out: min 0.94).
    assert ari >= 0.9
    # What is put in an occurrence is a planted storm incident (measured >= 0.98).
    assert len(set(found) & set(truth)) >= 0.95 * len(found)


def test_flapping_alerts_are_flagged(simulated: dict) -> None:
    truth = {i for f in simulated["truth"]["flapping"] for i in f["incident_ids"]}
    flagged = set(
        _read(simulated, "select incident_id from int_incident_noise where is_flapping")[
            "incident_id"
        ]
    )
    precision = len(truth & flagged) / len(flagged)
    recall = len(truth & flagged) / len(truth)
    print(
        f"flapping precision {precision:.3f} recall {recall:.3f} "
        f"({len(truth)} planted, {len(flagged)} flagged)"
    )
    assert precision >= 0.9 and recall >= 0.9


def test_no_group_joins_unrelated_services(simulated: dict) -> None:
    component = _components(simulated["truth"]["service_dependencies"])
    groups = _read(simulated, "select group_id, service_ids from alert_groups")
    assert len(groups) > 0
    for row in groups.itertuples():
        services = list(row.service_ids)
        # Every service of a group depends on, or is depended on by, another of the group.
        assert all(s in component for s in services), (row.group_id, services)
        assert len({component[s] for s in services}) == 1, (row.group_id, services)


def test_maintenance_windows_are_recommended(simulated: dict) -> None:
    """Planted weekly windows get a maintenance-window recommendation on their service that
    lies inside the planted window and holds at least 80% of its incidents. (The exact rule
    string is not knowable from the data: when no alert fired in a window's last half hour,
    the recommendation ends half an hour early, as it should.)

    Measured on the three draws: 3 of 3 on each. (Seed 11's weekly Wed 04:00-06:00 was
    missed while the rule asked 90 % of a window's incidents ignored: it has 3 ordinary
    incidents acknowledged inside it, 89 %; ``maintenance_ignored_share`` is 0.8 since.)"""
    recs = _read(
        simulated,
        "select service_id, evidence from recommendations where kind = 'maintenance_window'",
    )
    created = {
        i.incident["id"]: pd.Timestamp(i.incident["created_at"])
        for i in simulated["account"].incidents
    }
    found: dict[str, list[set[int]]] = {}
    for r in recs.itertuples():
        found.setdefault(r.service_id, []).append(window_slots(json.loads(r.evidence)["window"]))
    planted = simulated["truth"]["maintenance_windows"]
    assert len(planted) >= 3
    missed = []
    for window in planted:
        inside = window_slots(window["rule"])  # planted in UTC, the account's zone here
        slots = [
            created[i].day_of_week * 48 + created[i].hour * 2 + created[i].minute // 30
            for i in window["incident_ids"]
        ]
        covered = max(
            (
                sum(s in rec for s in slots) / len(slots)
                for rec in found.get(window["service_id"], [])
                if rec <= inside
            ),
            default=0.0,
        )
        print(window["rule"], f"{covered:.2f} of {len(slots)} incidents covered")
        if covered < 0.8:
            missed.append((window["service_id"], window["rule"]))
    assert not missed


def test_replay_without_a_change_counts_the_sql_interruptions(simulated: dict) -> None:
    """The replay's merging over int_notifications gives int_interruptions' sleep counts."""
    con = duckdb.connect(str(simulated["path"]), read_only=True)
    try:
        config = load_config()
        incidents = con.execute("select incident_id, created_at from incidents").df()
        sql = sql_text("noise/sql/noise_notifications.sql")
        notes = con.execute(
            sql,
            {
                "replay_start": incidents["created_at"].min() - pd.Timedelta(seconds=1),
                "interruption_notification_types": config.sql_params()[
                    "interruption_notification_types"
                ],
            },
        ).df()
        expected = dict(
            con.execute(
                "select user_id, count(*) from int_interruptions where bucket = 'sleep' "
                "group by user_id"
            ).fetchall()
        )
    finally:
        con.close()
    replay = Replay(incidents, notes, config, weeks=52 * 10)
    counted = dict(zip(replay.users, replay.sleep_before_by_user.tolist(), strict=True))
    assert sum(expected.values()) > 50
    assert {u: n for u, n in counted.items() if n} == expected


def test_alert_templates_table(simulated: dict) -> None:
    templates = _read(simulated, "select * from alert_templates")
    # Every incident in one template, except those merged into another (their survivor
    # stands for them; docs/metrics.md merged_into_incident_id).
    incidents = _read(
        simulated, "select count(*) as n from incidents where merged_into_incident_id is null"
    )["n"][0]
    assert templates["incident_count"].sum() == incidents
    assert not templates.duplicated(["template_id", "service_id"]).any()
    for column in ("share_auto_resolved", "share_acknowledged", "share_sleep_hours"):
        assert templates[column].between(0, 1).all()
    assert (templates["first_seen"] <= templates["last_seen"]).all()
    assert templates["template"].str.contains("<*>", regex=False).mean() > 0.5


def test_recommendations_are_addressed_and_replayed(simulated: dict) -> None:
    recs = _read(simulated, "select * from recommendations")
    # stop_paging depends on what the account holds (see test_stop_paging_...).
    assert {"group_alerts", "pause_transient", "maintenance_window"} <= set(recs["kind"])
    assert recs["recommendation_id"].is_unique
    owners = _read(
        simulated,
        """
        select s.id as service_id,
               coalesce(json_extract_string(s.payload, '$.teams[0].id'),
                        json_extract_string(p.payload, '$.teams[0].id')) as owner
        from raw_services s left join raw_escalation_policies p
          on p.id = json_extract_string(s.payload, '$.escalation_policy.id')""",
    )
    owner = dict(zip(owners["service_id"], owners["owner"], strict=True))
    for row in recs.itertuples():
        assert row.team_id == owner[row.service_id]
        assert row.incidents_after <= row.incidents_before
        assert row.notifications_after <= row.notifications_before
        assert row.pages_saved >= 0
        assert (row.major_incidents_affected == 0) == (row.risk == "none")
        evidence = json.loads(row.evidence)
        assert evidence["incidents"] >= 2 and evidence["example_incidents"]
    # A group the service graph found is addressed to its supporting service's team.
    roots = {s["root_service_id"] for s in simulated["truth"]["storms"]}
    graph_rows = [
        (row.service_id, json.loads(row.evidence)["service_graph"]["supporting_service_id"])
        for row in recs[recs["kind"] == "group_alerts"].itertuples()
        if "service_graph" in json.loads(row.evidence)
    ]
    assert graph_rows and all(service == root for service, root in graph_rows)
    assert {root for _, root in graph_rows} <= roots
    grouped = recs[recs["kind"] == "group_alerts"].iloc[0]
    grouping = json.loads(grouped["config_artifacts"])[0]["body"]
    assert grouping["alert_grouping_setting"]["type"] == "intelligent"
    assert "group_by:" in grouped["config_snippet"]
    paused = json.loads(recs[recs["kind"] == "pause_transient"].iloc[0]["config_artifacts"])
    setting = paused[0]["body"]["service"]["auto_pause_notifications_parameters"]
    assert setting["enabled"] is True and setting["timeout"] in (120, 180, 300, 600, 900)
    # Changes that remove incidents save pages in the replayed weeks, overall.
    assert recs["pages_saved"].sum() > 0


def test_write_recommendations(simulated: dict, tmp_path: Path) -> None:
    written = write_recommendations(simulated["path"], tmp_path / "out")
    names = {p.name for p in written}
    assert "recommendations.csv" in names
    with (tmp_path / "out" / "recommendations.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    total = _read(simulated, "select count(*) as n from recommendations")["n"][0]
    assert len(rows) == total
    teams = {r["team_name"] for r in rows}
    assert len([n for n in names if n.endswith(".md")]) == len(teams)
    sample = next(p for p in written if p.suffix == ".md").read_text()
    assert sample.startswith("# Noise-reduction recommendations for ")


def test_build_result_reports_quality(simulated: dict) -> None:
    result = simulated["result"]
    assert result["rows"]["alert_templates"] > 0
    assert result["grouping"]["groups"] >= 1
    assert result["grouping"]["settings"]["window_seconds"] == 600
