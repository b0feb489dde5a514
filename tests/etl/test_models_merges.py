"""Merged incidents through the real models, on hand-made raw rows.

PagerDuty resolves an incident merged into another with a resolve log entry by the user who
merged and `resolve_reason: {type: merge_resolve_reason, incident: <survivor>}`; the
survivor keeps the merged incident's alerts. The incidents mart keeps the merged incident
(flagged by `merged_into_incident_id`); the incident metrics and the noise layer leave it out
(docs/metrics.md "Merged incidents").
"""

from __future__ import annotations

from etl.config import DEFAULTS_PATH, load_config
from etl.transform import discover_models, run_model
from tests.etl.models_support import (
    SERVICE_AGENT,
    at,
    base_account,
    build_account,
    fetch,
    ref,
)

HOUR = 3600


def merged(account, incident_id: str, created: float, into: str, merged_at: float, **kw):
    """An incident resolved at ``merged_at`` by merging it into ``into`` (alerts moved away)."""
    payload = account.incident(incident_id, at(created), resolved_at=at(merged_at), alerts=0, **kw)
    payload["resolve_reason"] = {
        "type": "merge_resolve_reason",
        "incident": ref("incident", into),
    }
    account.trigger(incident_id, at(created))
    account.resolve(incident_id, at(merged_at), channel="website")
    return payload


def survivor(account, incident_id: str, created: float, ack: float, resolved: float | None):
    account.incident(
        incident_id,
        at(created),
        status="resolved" if resolved is not None else "acknowledged",
        resolved_at=at(resolved) if resolved is not None else None,
        alerts=2,
    )
    account.trigger(incident_id, at(created))
    account.ack(incident_id, at(ack))
    if resolved is not None:
        account.resolve(incident_id, at(resolved))


def week(con) -> dict:
    rows = fetch(
        con,
        "select total_incident_count, total_incidents_acknowledged, mean_seconds_to_first_ack,"
        " mean_seconds_to_resolve, p50_seconds_to_resolve, total_notifications, noise_ratio"
        " from service_weekly",
    )
    assert len(rows) == 1
    return rows[0]


def merged_into(con) -> dict[str, str | None]:
    rows = fetch(con, "select incident_id, merged_into_incident_id from incidents")
    return {r["incident_id"]: r["merged_into_incident_id"] for r in rows}


def test_a_merged_incident_stays_visible_but_is_not_a_resolution_of_its_own():
    account = base_account()
    survivor(account, "PSURV01", 0, 300, 2 * HOUR)
    merged(account, "PDUP001", 60, "PSURV01", 400)
    account.notify("PDUP001", at(61), "PUSER01")
    con = build_account(account)
    assert merged_into(con) == {"PSURV01": None, "PDUP001": "PSURV01"}
    dup = fetch(con, "select * from incidents where incident_id = 'PDUP001'")[0]
    assert (dup["seconds_to_resolve"], dup["is_noise"], dup["auto_resolved"]) == (340, False, False)
    figures = week(con)
    assert figures["total_incident_count"] == 1
    assert figures["mean_seconds_to_resolve"] == 2 * HOUR
    assert figures["p50_seconds_to_resolve"] == 2 * HOUR
    assert figures["mean_seconds_to_first_ack"] == 300
    # The page the duplicate sent was sent: the sums keep it.
    assert figures["total_notifications"] == 1
    assert figures["noise_ratio"] == 0


def test_a_merge_of_an_acknowledged_incident_keeps_the_ack_out_of_mtta_not_out_of_the_load():
    account = base_account(PUSER01="UTC", PUSER02="UTC")
    survivor(account, "PSURV01", 0, 600, HOUR)
    merged(account, "PDUP001", 30, "PSURV01", 900)
    account.ack("PDUP001", at(90), user_id="PUSER02")
    con = build_account(account)
    figures = week(con)
    assert figures["total_incidents_acknowledged"] == 1
    assert figures["mean_seconds_to_first_ack"] == 600
    load = fetch(
        con,
        "select user_id, sum(total_incidents_acknowledged) as acks from responder_weekly"
        " group by user_id order by user_id",
    )
    assert [(r["user_id"], r["acks"]) for r in load] == [("PUSER01", 1), ("PUSER02", 1)]


def test_a_chain_of_two_merges_leaves_one_incident():
    account = base_account()
    merged(account, "PINC00A", 0, "PINC00B", 300)
    merged(account, "PINC00B", 120, "PINC00C", 600)
    survivor(account, "PINC00C", 200, 260, 3 * HOUR)
    con = build_account(account)
    assert merged_into(con) == {"PINC00A": "PINC00B", "PINC00B": "PINC00C", "PINC00C": None}
    figures = week(con)
    assert figures["total_incident_count"] == 1
    assert figures["mean_seconds_to_resolve"] == 3 * HOUR - 200


def test_a_survivor_resolved_later_carries_the_resolution_and_an_open_one_none_yet():
    account = base_account()
    # Merged within minutes, the survivor resolved a day later; another survivor still open.
    survivor(account, "PSURV01", 0, 120, 26 * HOUR)
    merged(account, "PDUP001", 240, "PSURV01", 420)
    survivor(account, "PSURV02", 7200, 7300, None)
    merged(account, "PDUP002", 7260, "PSURV02", 7500)
    con = build_account(account)
    figures = week(con)
    # Without the merges: 4 incidents, two resolutions of 180 s and 240 s pulling MTTR down.
    assert figures["total_incident_count"] == 2
    assert figures["mean_seconds_to_resolve"] == 26 * HOUR
    by_dimension = fetch(
        con,
        "select total_incident_count, mean_seconds_to_resolve from incident_weekly_by_dimension"
        " where dimension = 'account'",
    )
    assert by_dimension == [{"total_incident_count": 2, "mean_seconds_to_resolve": 26 * HOUR}]


def test_the_noise_layer_leaves_merged_incidents_out():
    account = base_account()
    survivor(account, "PSURV01", 0, 300, HOUR)
    merged(account, "PDUP001", 60, "PSURV01", 400)
    con = build_account(account)
    model = next(m for m in discover_models() if m.name == "noise_incidents")
    run_model(con, model, load_config(DEFAULTS_PATH).sql_params())
    rows = fetch(con, "select incident_id, alert_count from noise_incidents")
    assert rows == [{"incident_id": "PSURV01", "alert_count": 2}]


def test_an_incident_without_a_resolve_reason_is_not_merged():
    account = base_account()
    survivor(account, "PSURV01", 0, 300, HOUR)
    account.rows["incidents"][0]["resolve_reason"] = None
    con = build_account(account)
    assert merged_into(con) == {"PSURV01": None}


def test_the_noise_layer_finds_each_incidents_first_summary_and_first_details():
    """An incident's summary is its first trigger entry's with one, its details the first
    with a JSON object (by time, then id), whichever entries those are; out-of-order entries
    and a details value that is not an object change nothing."""
    account = base_account()
    account.incident("PINC001", at(0))
    account.incident("PINC002", at(0), title="Fallback title")

    def trigger(incident_id: str, seconds: int, entry_id: str, **channel) -> None:
        entry = account.entry(
            incident_id,
            "trigger_log_entry",
            at(seconds),
            agent=SERVICE_AGENT,
            extra={"channel": {"type": "api", **channel}},
        )
        entry["id"] = entry_id

    # Written out of order: the latest first.
    trigger("PINC001", 90, "L3", summary="Third", details={"alertname": "C"})
    trigger("PINC001", 30, "L2", details={"alertname": "B"})
    trigger("PINC001", 30, "L1", summary="First", details="not an object")
    trigger("PINC002", 10, "L4", details=["a list"])
    con = build_account(account)
    model = next(m for m in discover_models() if m.name == "noise_incidents")
    run_model(con, model, load_config(DEFAULTS_PATH).sql_params())
    rows = fetch(
        con,
        "select base.incident_id, summary, has_event_summary, details_log_entry_id,"
        " details_hash = hash(entries.trigger_details) as hashed"
        " from noise_incidents as base left join stg_log_entries as entries"
        " on entries.log_entry_id = details_log_entry_id order by base.incident_id",
    )
    assert rows == [
        {
            "incident_id": "PINC001",
            "summary": "First",
            "has_event_summary": True,
            "details_log_entry_id": "L2",
            "hashed": True,
        },
        {
            "incident_id": "PINC002",
            "summary": "Fallback title",
            "has_event_summary": False,
            "details_log_entry_id": None,
            "hashed": None,
        },
    ]
