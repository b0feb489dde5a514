"""Service settings and the flags of settings that distort the metrics, on hand-made cases:
stg_service_settings, stg_maintenance_windows, service_setting_flags, skipped_resources
(docs/metrics.md "Service settings", docs/etl.md "Plan-gated and missing endpoints")."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.etl.models_support import T0, RawAccount, at, base_account, build_account, fetch, iso

HOURS_4 = 14_400
HALF_HOUR = 1_800


def settings_account() -> RawAccount:
    """PSVC001: auto-resolve 4 h, 2 of its 4 resolutions at the timeout (one 30 s late).
    PSVC002: no auto-resolve, one resolution at exactly 4 h. PSVC003: acknowledgement timeout
    30 min re-triggering one of its 3 acknowledged incidents twice (a person's unacknowledge
    does not count); grouping, auto-pause and an urgency rule switched on."""
    account = base_account()
    account.rows["services"][0]["auto_resolve_timeout"] = HOURS_4
    account.rows["services"][0]["acknowledgement_timeout"] = 0  # PagerDuty's "off"
    plain = account.service("PSVC002", "PTEAM01", "ledger")
    plain.update(auto_resolve_timeout=None, acknowledgement_timeout=None)
    acked = account.service("PSVC003", "PTEAM01", "search")
    acked.update(
        acknowledgement_timeout=HALF_HOUR,
        auto_resolve_timeout=None,
        alert_grouping_parameters={"type": "intelligent", "config": {"time_window": 300}},
        auto_pause_notifications_parameters={"enabled": True, "timeout": 120},
        incident_urgency_rule={"type": "constant", "urgency": "low"},
    )
    for n, seconds in enumerate((HOURS_4, HOURS_4 + 30, 600, HOURS_4 + 61)):
        incident_id = f"PA{n}"
        created = at(3600 * n)
        account.incident(incident_id, created, resolved_at=created + timedelta(seconds=seconds))
        account.auto_resolve(incident_id, created + timedelta(seconds=seconds))
    account.incident("PB0", T0, service_id="PSVC002", resolved_at=at(HOURS_4))
    account.resolve("PB0", at(HOURS_4))
    for n in range(3):
        incident_id = f"PC{n}"
        created = at(7200 * n)
        account.incident(
            incident_id, created, service_id="PSVC003", resolved_at=at(7200 * n + 5000)
        )
        account.ack(incident_id, created + timedelta(seconds=60))
        account.resolve(incident_id, created + timedelta(seconds=5000))
    account.unack("PC0", at(60 + HALF_HOUR))
    account.ack("PC0", at(120 + HALF_HOUR))
    account.unack("PC0", at(120 + 2 * HALF_HOUR))
    account.entry("PC1", "unacknowledge_log_entry", at(7200 + 300))  # a person, web_ui
    return account


def flags(con) -> dict[str, dict]:
    rows = fetch(con, "select * from service_setting_flags order by service_id")
    return {row["service_id"]: row for row in rows}


def test_settings_are_parsed_with_off_as_null():
    con = build_account(settings_account())
    rows = {r["service_id"]: r for r in fetch(con, "select * from stg_service_settings")}
    assert rows["PSVC001"]["acknowledgement_timeout_seconds"] is None  # 0 is "off"
    assert rows["PSVC001"]["auto_resolve_timeout_seconds"] == HOURS_4
    assert rows["PSVC001"]["auto_pause_enabled"] is False
    assert rows["PSVC001"]["alert_grouping_type"] is None
    search = rows["PSVC003"]
    assert (search["alert_grouping_type"], search["alert_grouping_window_seconds"]) == (
        "intelligent",
        300,
    )
    assert (search["auto_pause_enabled"], search["auto_pause_timeout_seconds"]) == (True, 120)
    assert (search["urgency_rule_type"], search["constant_urgency"]) == ("constant", "low")


def test_an_auto_resolve_timeout_that_makes_mttr_a_constant_is_flagged():
    by_service = flags(build_account(settings_account()))
    checkout = by_service["PSVC001"]
    assert checkout["resolved_incidents"] == 4
    assert checkout["resolved_at_auto_resolve_timeout"] == 2  # +0 s and +30 s; +61 s is not
    assert checkout["auto_resolve_timeout_share"] == pytest.approx(0.5)
    assert checkout["auto_resolve_distorts_mttr"] is True
    assert checkout["distortion"].startswith("MTTR: 2 of 4 resolved incidents (50%) closed by")
    ledger = by_service["PSVC002"]  # resolved at exactly 4 h, but no timeout is set
    assert ledger["resolved_at_auto_resolve_timeout"] == 0
    assert ledger["auto_resolve_distorts_mttr"] is False and ledger["distortion"] is None


def test_an_acknowledgement_timeout_that_re_triggers_is_flagged():
    search = flags(build_account(settings_account()))["PSVC003"]
    assert (search["acknowledged_incidents"], search["retriggered_incidents"]) == (3, 1)
    assert search["timeout_retriggers"] == 2
    assert search["retriggered_share"] == pytest.approx(1 / 3)
    assert search["ack_timeout_retriggers"] is True
    assert search["distortion"].startswith("Re-triggers: the 1800 s acknowledgement timeout")
    assert flags(build_account(settings_account()))["PSVC001"]["ack_timeout_retriggers"] is False


@pytest.mark.parametrize(
    ("overrides", "checkout_share", "checkout_flag", "search_flag"),
    [
        ({"auto_resolve_tolerance_seconds": 0}, 0.25, True, True),
        ({"auto_resolve_constant_share": 0.6}, 0.5, False, True),
        ({"retrigger_share": 0.5}, 0.5, True, False),
    ],
)
def test_the_thresholds_are_configuration(overrides, checkout_share, checkout_flag, search_flag):
    by_service = flags(build_account(settings_account(), **overrides))
    assert by_service["PSVC001"]["auto_resolve_timeout_share"] == pytest.approx(checkout_share)
    assert by_service["PSVC001"]["auto_resolve_distorts_mttr"] is checkout_flag
    assert by_service["PSVC003"]["ack_timeout_retriggers"] is search_flag


def test_a_service_without_incidents_has_no_shares_and_no_flags():
    account = RawAccount()
    account.service("PSVC009").update(auto_resolve_timeout=HOURS_4, acknowledgement_timeout=600)
    (row,) = fetch(build_account(account), "select * from service_setting_flags")
    assert row["resolved_incidents"] == row["acknowledged_incidents"] == 0
    assert row["auto_resolve_timeout_share"] is None and row["retriggered_share"] is None
    assert not row["auto_resolve_distorts_mttr"] and not row["ack_timeout_retriggers"]


def test_maintenance_windows_one_row_per_window_and_service():
    account = base_account()
    account._add(
        "maintenance_windows",
        {
            "id": "PMW0001",
            "type": "maintenance_window",
            "sequence_number": 3,
            "start_time": iso(T0),
            "end_time": iso(at(7200)),
            "description": "Database upgrade",
            "services": [
                {"id": "PSVC001", "type": "service_reference"},
                {"id": "PSVC002", "type": "service_reference"},
            ],
            "created_by": {"id": "PUSER01", "type": "user_reference"},
        },
    )
    rows = fetch(
        build_account(account),
        "select maintenance_window_id, service_id, start_at, end_at, description, "
        "sequence_number, created_by_user_id from stg_maintenance_windows order by service_id",
    )
    assert [(r["service_id"], r["start_at"], r["end_at"]) for r in rows] == [
        ("PSVC001", T0, at(7200)),
        ("PSVC002", T0, at(7200)),
    ]
    assert {(r["description"], r["sequence_number"], r["created_by_user_id"]) for r in rows} == {
        ("Database upgrade", 3, "PUSER01")
    }


def test_skipped_resources_come_from_the_last_successful_run_only():
    account = base_account()
    account.incident("PA0", T0, resolved_at=at(60))
    con = build_account(account)
    account.sync_run(con, at(-86400), T0, run_id="run-1")
    account.sync_run(con, at(-86400), at(3600), run_id="run-2")
    con.execute(
        "insert into _sync_skips values ('run-1', 'teams', '/teams', 403, 'Access Denied'),"
        " ('run-2', 'priorities', '/priorities', 404, 'Not Found'),"
        " ('run-2', 'oncalls', '/oncalls', 402, 'Payment Required')"
    )
    from etl.transform import build_marts
    from tests.etl.models_support import default_config

    build_marts(con, default_config(), noise=False)
    rows = fetch(
        con, "select resource, http_status, reason, rows_kept from skipped_resources order by 1"
    )
    assert rows == [
        {
            "resource": "oncalls",
            "http_status": 402,
            "reason": "not in the account's plan",
            "rows_kept": 0,
        },
        {
            "resource": "priorities",
            "http_status": 404,
            "reason": "absent (feature switched off)",
            "rows_kept": 5,
        },
    ]


def test_the_flags_count_what_the_simulator_planted(pipeline_db):
    """On the simulated account: the incidents each service's auto-resolve timeout closed
    (resolved exactly at created + timeout) and those its acknowledgement timeout re-triggered,
    counted from the account itself, equal the mart's counts."""
    from collections import Counter

    import duckdb

    from simulator.account import generate_account
    from tests.conftest import SIM_END
    from tests.warehouse import PIPELINE_DAYS, PIPELINE_SCALE, PIPELINE_SEED

    account = generate_account(
        seed=PIPELINE_SEED, days=PIPELINE_DAYS, scale=PIPELINE_SCALE, end=SIM_END
    )
    timeouts = {s["id"]: s.get("auto_resolve_timeout") for s in account.services}
    closed: Counter = Counter()
    retriggered: Counter = Counter()
    for sim in account.incidents:
        incident = sim.incident
        service_id = incident["service"]["id"]
        timeout = timeouts[service_id]
        if incident["status"] == "resolved" and timeout:
            took = datetime.fromisoformat(incident["resolved_at"]) - datetime.fromisoformat(
                incident["created_at"]
            )
            closed[service_id] += took == timedelta(seconds=timeout)
        retriggered[service_id] += any(
            e["type"] == "unacknowledge_log_entry"
            and (e.get("channel") or {}).get("type") == "timeout"
            for e in sim.log_entries
        )
    with duckdb.connect(str(pipeline_db), read_only=True) as con:
        rows = con.execute(
            "select service_id, resolved_at_auto_resolve_timeout, retriggered_incidents "
            "from service_setting_flags"
        ).fetchall()
    assert {r[0]: r[1] for r in rows} == {s: closed[s] for s in timeouts}
    assert {r[0]: r[2] for r in rows} == {s: retriggered[s] for s in timeouts}
    assert sum(closed.values()) > 0 and sum(retriggered.values()) > 0
