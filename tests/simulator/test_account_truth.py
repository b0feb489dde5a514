"""The simulated account's ground truth (every planted storm, flap, maintenance window,
major, skew and noise incident behaves as stated) and its realism figures.
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime
from zoneinfo import ZoneInfo

from simulator._common import parse_iso
from simulator.org import BLUEPRINT


def _ts(value: str) -> int:
    return parse_iso(value)


# --------------------------------------------------------------------------- ground truth
def test_ground_truth_is_json_and_every_id_exists(account):
    gt = json.loads(json.dumps(account.ground_truth))
    ids = {i.incident["id"] for i in account.incidents}
    listed = (
        list(gt["noise_incident_ids"])
        + gt["clock_skew_incident_ids"]
        + gt["open_incident_ids_at_end"]
    )
    for key in ("storms", "flapping", "maintenance_windows", "major_outages"):
        assert gt[key], key
        for item in gt[key]:
            assert item["incident_ids"], item
            listed += item["incident_ids"]
    assert set(listed) <= ids
    services = {s["id"] for s in account.services}
    assert all(s["root_service_id"] in services for s in gt["storms"])


def test_storm_incidents_fire_within_their_window_on_dependent_services(account):
    by_id = {i.incident["id"]: i for i in account.incidents}
    deps = {
        d["service_id"]: set(d["depends_on"]) for d in account.ground_truth["service_dependencies"]
    }
    for storm in account.ground_truth["storms"]:
        start, end = storm["start"], storm["end"]
        root = storm["root_service_id"]
        assert len(storm["service_ids"]) >= 3
        assert all(root in deps[s] for s in storm["service_ids"] if s != root)
        created = [by_id[i].incident["created_at"] for i in storm["incident_ids"]]
        assert all(start <= c <= end for c in created)
        assert (_ts(max(created)) - _ts(start)) <= 10 * 60  # within minutes
        assert {by_id[i].incident["service"]["id"] for i in storm["incident_ids"]} <= set(
            storm["service_ids"]
        )
        assert len(storm["incident_ids"]) >= 3


def test_flapping_incidents_auto_resolve_within_minutes_and_are_never_acknowledged(account):
    by_id = {i.incident["id"]: i for i in account.incidents}
    for flap in account.ground_truth["flapping"]:
        assert len(flap["incident_ids"]) >= 3
        for inc_id in flap["incident_ids"]:
            sim = by_id[inc_id]
            assert sim.incident["service"]["id"] == flap["service_id"]
            assert sim.alerts[0]["alert_key"] == flap["alert_key"]
            assert sim.alerts[0]["summary"] == flap["summary"]
            assert not any(e["type"] == "acknowledge_log_entry" for e in sim.log_entries)
            if sim.incident["status"] == "resolved":
                resolve = [e for e in sim.log_entries if e["type"] == "resolve_log_entry"][-1]
                assert resolve["agent"]["type"] != "user_reference"
                took = _ts(sim.incident["resolved_at"]) - _ts(sim.incident["created_at"])
                assert 0 < took <= 5 * 60


def test_maintenance_incidents_fall_within_their_windows(account):
    by_id = {i.incident["id"]: i for i in account.incidents}
    for maint in account.ground_truth["maintenance_windows"]:
        assert maint["rule"].startswith("weekly ") and maint["rule"].endswith(" UTC")
        windows = maint["windows"]
        assert len(windows) >= 10  # weekly over 90 days
        for a, b in zip(windows, windows[1:], strict=False):
            assert _ts(b[0]) - _ts(a[0]) == 7 * 86400
        for inc_id in maint["incident_ids"]:
            sim = by_id[inc_id]
            created = sim.incident["created_at"]
            assert any(w0 <= created < w1 for w0, w1 in windows)
            assert sim.incident["service"]["id"] == maint["service_id"]
            assert not any(e["type"] == "acknowledge_log_entry" for e in sim.log_entries)
            assert sim.incident["resolved_at"] is not None
            assert any(w0 <= sim.incident["resolved_at"] < w1 for w0, w1 in windows)


def test_major_outages_have_p1_p2_and_several_responders(account):
    by_id = {i.incident["id"]: i for i in account.incidents}
    stale = 0
    for outage in account.ground_truth["major_outages"]:
        assert outage["priority"] in ("P1", "P2")
        multi = 0
        for inc_id in outage["incident_ids"]:
            sim = by_id[inc_id]
            assert sim.incident["priority"]["summary"] == outage["priority"]
            assert sim.incident["service"]["id"] in outage["service_ids"]
            ackers = {
                e["agent"]["id"] for e in sim.log_entries if e["type"] == "acknowledge_log_entry"
            }
            multi += len(ackers) >= 2
            assert any(e["type"] == "annotate_log_entry" for e in sim.log_entries)
        assert multi >= 1
        if outage["stale_open"]:
            stale += 1
            assert all(by_id[i].incident["status"] != "resolved" for i in outage["incident_ids"])
            assert _ts(outage["start"]) < _ts(account.ground_truth["end"]) - 7 * 86400
    assert stale == 2


def test_clock_skew_and_open_incidents_are_real(account):
    by_id = {i.incident["id"]: i for i in account.incidents}
    gt = account.ground_truth
    assert len(gt["clock_skew_incident_ids"]) == 2
    for inc_id in gt["clock_skew_incident_ids"]:
        inc = by_id[inc_id].incident
        assert inc["resolved_at"] < inc["created_at"]
    open_ids = {i.incident["id"] for i in account.incidents if i.incident["status"] != "resolved"}
    assert open_ids == set(gt["open_incident_ids_at_end"])


def test_noise_incidents_resolve_themselves_unacknowledged(account):
    by_id = {i.incident["id"]: i for i in account.incidents}
    for inc_id in account.ground_truth["noise_incident_ids"]:
        sim = by_id[inc_id]
        assert not any(e["type"] == "acknowledge_log_entry" for e in sim.log_entries)
        resolves = [e for e in sim.log_entries if e["type"] == "resolve_log_entry"]
        if resolves:
            assert resolves[-1]["agent"]["type"] in ("service_reference", "integration_reference")


# --------------------------------------------------------------------------- realism
def test_realism_figures_are_in_range(account):
    incidents = account.incidents
    days = (account.end - account.start).days
    assert 15 <= len(incidents) / days <= 25
    entries_per_incident = sum(len(i.log_entries) for i in incidents) / len(incidents)
    assert 7.5 <= entries_per_incident <= 12
    skewed = set(account.ground_truth["clock_skew_incident_ids"])
    ttr = [
        _ts(i.incident["resolved_at"]) - _ts(i.incident["created_at"])
        for i in incidents
        if i.incident["resolved_at"] and i.incident["id"] not in skewed
    ]
    mean_ttr = statistics.mean(ttr)
    assert 3600 <= mean_ttr <= 3 * 3600
    assert statistics.median(ttr) < mean_ttr / 2
    tta, ackers = [], []
    for sim in incidents:
        acks = [e for e in sim.log_entries if e["type"] == "acknowledge_log_entry"]
        if acks:
            tta.append(_ts(acks[0]["created_at"]) - _ts(sim.incident["created_at"]))
            ackers.append(len({e["agent"]["id"] for e in acks}))
    assert 120 <= statistics.median(tta) <= 240
    assert statistics.mean(tta) > statistics.median(tta)  # heavy tail
    assert 1.05 <= statistics.mean(ackers) <= 1.35  # ~1.2 responders per responded incident
    multi_alert = sum(1 for i in incidents if len(i.alerts) > 1) / len(incidents)
    assert 0.03 <= multi_alert <= 0.12


def test_about_a_third_of_incidents_are_outside_working_hours(account):
    home = {}
    for team in account.teams:
        zone = next(z for name, z, _o, _s in BLUEPRINT if team["name"].startswith(name))
        home[team["id"]] = ZoneInfo(zone)
    service_zone = {s["id"]: home[s["teams"][0]["id"]] for s in account.services}
    outside = 0
    for sim in account.incidents:
        local = datetime.fromisoformat(sim.incident["created_at"]).astimezone(
            service_zone[sim.incident["service"]["id"]]
        )
        outside += not (local.weekday() < 5 and 8 <= local.hour < 18)
    assert 0.25 <= outside / len(account.incidents) <= 0.45
