"""The simulated account: determinism, API shapes, PagerDuty semantics, ground truth, realism."""

from __future__ import annotations

import copy
import json
import os
import re
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from openapi_schema_validator import OAS30ReadValidator

from simulator._common import parse_iso
from simulator.account import SimAccount, account_digest, account_token, generate_account
from simulator.org import BLUEPRINT
from simulator.templates import load_rules
from tests.conftest import SIM_END as END
from tests.shared_material import REPO, needs_shared, shared_file, shared_path

SPEC = "pagerduty-openapi/openapiv3.json"
RULE_ORIGINALS = "realdata/alert_templates"


@pytest.fixture(scope="module")
def account() -> SimAccount:
    return generate_account(seed=7, days=90, end=END)


def _dump(acc: SimAccount) -> str:
    return json.dumps(
        {
            "teams": acc.teams,
            "users": acc.users,
            "services": acc.services,
            "escalation_policies": acc.escalation_policies,
            "schedules": acc.schedules,
            "priorities": acc.priorities,
            "oncalls": acc.oncalls,
            "incidents": [[i.incident, i.log_entries, i.alerts] for i in acc.incidents],
            "ground_truth": acc.ground_truth,
            "token": acc.token,
        },
        sort_keys=True,
    )


def _ts(value: str) -> int:
    return parse_iso(value)


# --------------------------------------------------------------------------- determinism
def test_same_seed_and_end_give_identical_bytes():
    a = generate_account(seed=3, days=10, end=END)
    b = generate_account(seed=3, days=10, end=END)
    assert _dump(a) == _dump(b)


def test_different_seed_gives_a_different_account():
    a = generate_account(seed=3, days=10, end=END)
    b = generate_account(seed=4, days=10, end=END)
    assert _dump(a) != _dump(b)
    assert a.token != b.token
    assert a.token == account_token(3) and a.token.startswith("sim-")


def test_default_end_is_midnight_utc_today():
    acc = generate_account(seed=1, days=1)
    assert acc.end == datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert acc.start == acc.end - timedelta(days=1)


# --------------------------------------------------------------------------- API shapes
@cache
def _spec() -> dict:
    spec = json.loads(shared_file(SPEC, env="PAGERLENS_OPENAPI").read_text())
    components = copy.deepcopy(spec["components"])
    # The spec's Channel is a oneOf of channel variants that no type field tells apart, so
    # every channel matches several and oneOf can never pass: read it as anyOf.
    channel = components["schemas"]["Channel"]
    channel["anyOf"] = channel.pop("oneOf")
    return components


# PagerDuty returns null for these unset optional fields although the spec does not mark them
# nullable (priority, resolved_at, timeouts, a layer's open end, ...).
NULL_OK = {
    "priority",
    "resolved_at",
    "last_status_change_by",
    "resolve_reason",
    "acknowledgement_timeout",
    "auto_resolve_timeout",
    "end",
    "description",
    "parent",
    "alert_grouping",
    "html_url",
    "type",
}


def _strip_nulls(obj):
    if isinstance(obj, dict):
        return {k: _strip_nulls(v) for k, v in obj.items() if not (v is None and k in NULL_OK)}
    if isinstance(obj, list):
        return [_strip_nulls(v) for v in obj]
    return obj


def _errors(obj: dict, schema_name: str) -> list[str]:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _spec()}
    validator = OAS30ReadValidator(schema)
    return [
        f"{schema_name} {e.json_path}: {e.message[:200]}"
        for e in validator.iter_errors(_strip_nulls(obj))
    ]


# The spec's AcknowledgeLogEntry says type "acknowledgement_log_entry" while LogEntry's enum
# (and the real API) say "acknowledge_log_entry": validate those against LogEntry.
LOG_ENTRY_SCHEMAS = {
    "trigger_log_entry": "TriggerLogEntry",
    "notify_log_entry": "NotifyLogEntry",
    "assign_log_entry": "AssignLogEntry",
    "escalate_log_entry": "EscalateLogEntry",
    "acknowledge_log_entry": "LogEntry",
    "unacknowledge_log_entry": "UnacknowledgeLogEntry",
    "snooze_log_entry": "SnoozeLogEntry",
    "annotate_log_entry": "AnnotateLogEntry",
    "resolve_log_entry": "ResolveLogEntry",
}


def test_incidents_log_entries_and_alerts_match_the_openapi_schemas(account):
    errors: list[str] = []
    seen_types: Counter = Counter()
    for sim in account.incidents[::15]:
        errors += _errors(sim.incident, "Incident")
        for alert in sim.alerts:
            errors += _errors(alert, "Alert")
    # Every log entry type, a few of each.
    for sim in account.incidents:
        for entry in sim.log_entries:
            if seen_types[entry["type"]] < 25:
                seen_types[entry["type"]] += 1
                errors += _errors(entry, LOG_ENTRY_SCHEMAS[entry["type"]])
    assert set(seen_types) == set(LOG_ENTRY_SCHEMAS)
    assert errors == []


def test_organisation_objects_match_the_openapi_schemas(account):
    errors: list[str] = []
    for name, objects in (
        ("Service", account.services),
        ("User", account.users),
        ("Team", account.teams),
        ("EscalationPolicy", account.escalation_policies),
        ("Schedule", account.schedules),
        ("Priority", account.priorities),
        ("Oncall", account.oncalls[::20]),
    ):
        for obj in objects:
            errors += _errors(obj, name)
    assert errors == []


def test_ids_look_like_pagerduty_ids_and_are_unique(account):
    pd_id = re.compile(r"^P[0-9A-Z]{6}$")
    ids = [
        o["id"]
        for o in account.teams
        + account.users
        + account.services
        + account.escalation_policies
        + account.schedules
        + account.priorities
    ]
    ids += [i.incident["id"] for i in account.incidents]
    ids += [a["id"] for i in account.incidents for a in i.alerts]
    assert all(pd_id.match(x) for x in ids)
    assert len(ids) == len(set(ids))
    log_ids = [e["id"] for i in account.incidents for e in i.log_entries]
    assert all(re.match(r"^R[0-9A-F]{25}$", x) for x in log_ids)
    assert len(log_ids) == len(set(log_ids))


def test_references_timestamps_and_urls(account):
    sim = account.incidents[0]
    inc = sim.incident
    assert inc["html_url"] == f"https://acme.pagerduty.com/incidents/{inc['id']}"
    assert inc["summary"] == f"[#{inc['incident_number']}] {inc['title']}"
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    for sim in account.incidents[::50]:
        for e in sim.log_entries:
            assert stamp.match(e["created_at"])
            for key in ("service", "incident"):
                ref = e[key]
                assert {"id", "type", "summary", "self", "html_url"} <= set(ref)
                assert ref["type"] == f"{key}_reference"
            assert e["teams"] and e["teams"][0]["type"] == "team_reference"
    numbers = [i.incident["incident_number"] for i in account.incidents]
    assert numbers == list(range(1, len(numbers) + 1))


def test_trigger_channels_carry_event_details(account):
    formats = Counter()
    for sim in account.incidents:
        trigger = sim.log_entries[0] if sim.log_entries[0]["type"] == "trigger_log_entry" else None
        if trigger is None:
            continue
        ch = trigger["channel"]
        formats[ch["type"]] += 1
        assert ch["summary"] == sim.incident["title"]
        assert isinstance(ch["details"], dict) and isinstance(ch["cef_details"], dict)
        assert trigger["agent"]["type"] == "service_reference"
    assert formats["api"] > formats["nagios"] > 0
    assert formats["email"] > 0


def test_alerts_have_key_severity_body_and_incident(account):
    severities = Counter()
    for sim in account.incidents:
        for alert in sim.alerts:
            assert alert["alert_key"]
            assert alert["incident"]["id"] == sim.incident["id"]
            assert alert["body"]["type"] == "alert_body" and alert["body"]["details"]
            severities[alert["severity"]] += 1
        assert sim.incident["alert_counts"]["all"] == len(sim.alerts)
    assert {"critical", "warning"} <= set(severities)


def test_alert_summaries_are_filled_templates_in_sender_formats(account):
    summaries = [a["summary"] for i in account.incidents for a in i.alerts]
    assert not any("{{" in s or "}}" in s for s in summaries)
    assert any(s.startswith("[FIRING:") for s in summaries)  # Alertmanager
    assert any(s.startswith("[Triggered on {host:") for s in summaries)  # Datadog
    assert any(s.endswith("is CRITICAL") for s in summaries)  # Nagios
    # The default Alertmanager subject carries the group labels, not the annotation.
    assert any(re.match(r"^\[FIRING:1\] [A-Za-z0-9]+ [a-z-]+ \(", s) for s in summaries)


# --------------------------------------------------------------------------- semantics
def test_log_entries_begin_with_a_trigger_and_are_in_time_order(account):
    skewed = set(account.ground_truth["clock_skew_incident_ids"])
    for sim in account.incidents:
        times = [(_ts(e["created_at"]), e["id"]) for e in sim.log_entries]
        assert times == sorted(times)
        if sim.incident["id"] not in skewed:
            assert sim.log_entries[0]["type"] == "trigger_log_entry"
            assert sim.log_entries[0]["created_at"] == sim.incident["created_at"]


def test_final_state_follows_the_spec_rules(account):
    end = account.end.strftime("%Y-%m-%dT%H:%M:%SZ")
    statuses = Counter()
    for sim in account.incidents:
        inc = sim.incident
        statuses[inc["status"]] += 1
        types = [e["type"] for e in sim.log_entries]
        assert all(e["created_at"] < end for e in sim.log_entries)
        if inc["status"] == "resolved":
            assert inc["acknowledgements"] == [] and inc["assignments"] == []
            last_resolve = [e for e in sim.log_entries if e["type"] == "resolve_log_entry"][-1]
            assert inc["resolved_at"] == last_resolve["created_at"]
            assert inc["alert_counts"]["triggered"] == 0
            assert all(a["status"] == "resolved" for a in sim.alerts)
        else:
            assert "resolve_log_entry" not in types and inc["resolved_at"] is None
            assert inc["assignments"]
        if inc["status"] == "acknowledged":
            assert inc["acknowledgements"]
        if inc["status"] == "triggered":
            assert inc["acknowledgements"] == []
        assert inc["updated_at"] == max(e["created_at"] for e in sim.log_entries)
    assert statuses["resolved"] > 0.95 * len(account.incidents)
    assert statuses["triggered"] + statuses["acknowledged"] >= 2  # open at the end


def test_as_of_mid_life_shows_the_incident_open():
    acc = generate_account(seed=5, days=21, end=END)
    checked = 0
    for sim in acc.incidents:
        acks = [e for e in sim.log_entries if e["type"] == "acknowledge_log_entry"]
        resolves = [e for e in sim.log_entries if e["type"] == "resolve_log_entry"]
        if not acks or not resolves:
            continue
        created = datetime.fromisoformat(sim.incident["created_at"])
        first_ack = datetime.fromisoformat(acks[0]["created_at"])
        resolved = datetime.fromisoformat(resolves[-1]["created_at"])
        if first_ack - created < timedelta(seconds=4) or resolved <= first_ack:
            continue
        assert sim.as_of(created - timedelta(seconds=1)) is None
        inc, entries, alerts = sim.as_of(created + (first_ack - created) / 2)
        assert inc["status"] == "triggered" and inc["resolved_at"] is None
        assert inc["acknowledgements"] == [] and inc["assignments"]
        assert entries[0]["type"] == "trigger_log_entry"
        assert all(e["created_at"] <= inc["updated_at"] for e in entries)
        assert all(a["status"] == "triggered" for a in alerts)
        assert inc["alert_counts"]["triggered"] == len(alerts)
        inc2, entries2, _ = sim.as_of(first_ack + timedelta(seconds=1))
        assert inc2["status"] == "acknowledged"
        assert inc2["acknowledgements"][0]["acknowledger"]["id"] == acks[0]["agent"]["id"]
        assert len(entries2) > len(entries)
        final, all_entries, _ = sim.as_of(acc.end)
        assert final == sim.incident and all_entries == sim.log_entries
        checked += 1
        if checked >= 40:
            break
    assert checked >= 40


def test_notifications_follow_contact_rules(account):
    users = {u["id"]: u for u in account.users}
    types = Counter()
    gaps_over_60 = 0
    for sim in account.incidents:
        per_user = defaultdict(list)
        for e in sim.log_entries:
            if e["type"] != "notify_log_entry":
                continue
            note = e["channel"]["notification"]
            types[note["type"]] += 1
            assert e["user"]["id"] in users and note["user"]["id"] == e["user"]["id"]
            if note["type"] == "email_notification":
                assert note["address"] == users[e["user"]["id"]]["email"]
            per_user[e["user"]["id"]].append(_ts(e["created_at"]))
        for times in per_user.values():
            gaps_over_60 += any(b - a > 60 for a, b in zip(times, times[1:], strict=False))
    assert set(types) == {
        "push_notification",
        "sms_notification",
        "phone_notification",
        "email_notification",
    }
    assert gaps_over_60 > 20


def test_escalation_after_the_policy_timeout(account):
    delays = {}
    for ep in account.escalation_policies:
        delays[ep["id"]] = [r["escalation_delay_in_minutes"] * 60 for r in ep["escalation_rules"]]
    escalated = 0
    for sim in account.incidents:
        entries = sim.log_entries
        esc = [e for e in entries if e["type"] == "escalate_log_entry"]
        if not esc:
            continue
        escalated += 1
        first_assign = next(e for e in entries if e["type"] == "assign_log_entry")
        gap = _ts(esc[0]["created_at"]) - _ts(first_assign["created_at"])
        assert gap == delays[sim.incident["escalation_policy"]["id"]][0]
        first_ack = next((e for e in entries if e["type"] == "acknowledge_log_entry"), None)
        if first_ack is not None:
            assert first_ack["created_at"] > esc[0]["created_at"]
        assert esc[0]["channel"]["type"] == "timeout"
    assert escalated > 20


def test_acknowledgement_is_slower_at_night_local_time(account):
    zones = {
        u["id"]: ZoneInfo(u.get("time_zone") or account.account_time_zone) for u in account.users
    }
    day, night = [], []
    for sim in account.incidents:
        entries = sim.log_entries
        if sim.incident["urgency"] != "high" or sim.incident["priority"]:
            continue
        ack = next((e for e in entries if e["type"] == "acknowledge_log_entry"), None)
        if ack is None or any(e["type"] == "escalate_log_entry" for e in entries):
            continue
        created = datetime.fromisoformat(sim.incident["created_at"])
        hour = created.astimezone(zones[ack["agent"]["id"]]).hour
        delay = (datetime.fromisoformat(ack["created_at"]) - created).total_seconds()
        (night if hour >= 23 or hour < 7 else day if 9 <= hour < 18 else []).append(delay)
    assert len(night) > 30 and len(day) > 100
    assert statistics.median(night) > 1.5 * statistics.median(day)


def test_snoozes_notes_reassignments_and_double_acks_occur(account):
    types = Counter(e["type"] for i in account.incidents for e in i.log_entries)
    assert types["snooze_log_entry"] > 0 and types["annotate_log_entry"] > 20
    assert types["unacknowledge_log_entry"] > 0
    # Every snooze is followed by an unacknowledge at its expiry.
    for sim in account.incidents:
        for idx, e in enumerate(sim.log_entries):
            if e["type"] == "snooze_log_entry":
                expiry = e["changed_actions"][0]["at"]
                assert any(
                    x["type"] == "unacknowledge_log_entry" and x["created_at"] == expiry
                    for x in sim.log_entries[idx:]
                )
    double = sum(
        1
        for i in account.incidents
        if Counter(
            e["agent"]["id"] for e in i.log_entries if e["type"] == "acknowledge_log_entry"
        ).most_common(1)[0:1]
        and Counter(
            e["agent"]["id"] for e in i.log_entries if e["type"] == "acknowledge_log_entry"
        ).most_common(1)[0][1]
        > 1
    )
    assert double > 5
    reassigned = sum(
        1
        for i in account.incidents
        if any(
            e["type"] == "assign_log_entry" and e["agent"]["type"] == "user_reference"
            for e in i.log_entries
        )
    )
    assert reassigned > 10


def test_resolution_by_people_integrations_and_timeouts(account):
    agents = Counter()
    for sim in account.incidents:
        for e in sim.log_entries:
            if e["type"] == "resolve_log_entry":
                agents[(e["agent"]["type"], e["channel"]["type"])] += 1
    kinds = {a for a, _c in agents}
    assert {"user_reference", "service_reference", "integration_reference"} <= kinds
    assert agents[("service_reference", "auto")] > 0  # the service's auto-resolve timeout


# --------------------------------------------------------------------------- organisation
def test_organisation_size_and_time_zones(account):
    assert len(account.teams) == 6 and len(account.services) == 25 and len(account.users) == 40
    zones = {u.get("time_zone") for u in account.users}
    assert {"Asia/Kolkata", "Australia/Adelaide"} <= zones
    assert any(z and z.startswith("Europe/") for z in zones)
    assert any(z and z.startswith("America/") for z in zones)
    assert any("time_zone" not in u for u in account.users)
    assert [p["name"] for p in account.priorities] == ["P1", "P2", "P3", "P4", "P5"]
    assert [p["order"] for p in account.priorities] == [1, 2, 3, 4, 5]
    assert all(2 <= len(ep["escalation_rules"]) <= 3 for ep in account.escalation_policies)
    assert any(len(s["schedule_layers"]) == 2 for s in account.schedules)
    deps = {d["service_id"]: d["depends_on"] for d in account.ground_truth["service_dependencies"]}
    kinds = {s["id"]: s["description"].split()[0] for s in account.services}
    api_deps = [deps.get(s) for s, k in kinds.items() if k == "api"]
    assert all(
        d and any(kinds[x] in ("postgres", "mysql", "mongodb", "redis") for x in d)
        for d in api_deps
    )


def test_oncalls_cover_the_period_for_every_level(account):
    horizon = account.end + timedelta(days=14)
    by_level = defaultdict(list)
    for o in account.oncalls:
        by_level[(o["escalation_policy"]["id"], o["escalation_level"])].append(
            (datetime.fromisoformat(o["start"]), datetime.fromisoformat(o["end"]))
        )
    assert len(by_level) == sum(len(ep["escalation_rules"]) for ep in account.escalation_policies)
    for periods in by_level.values():
        periods.sort()
        assert periods[0][0] <= account.start and periods[-1][1] >= horizon
        for (_s1, e1), (s2, _e2) in zip(periods, periods[1:], strict=False):
            assert e1 == s2  # no gaps, no overlaps


def test_incidents_are_assigned_to_the_user_on_call():
    acc = generate_account(seed=2, days=14, end=END)
    level1 = defaultdict(list)
    for o in acc.oncalls:
        if o["escalation_level"] == 1:
            level1[o["escalation_policy"]["id"]].append(o)
    for sim in acc.incidents:
        assign = next(e for e in sim.log_entries if e["type"] == "assign_log_entry")
        at = sim.incident["created_at"]
        on_call = [
            o["user"]["id"]
            for o in level1[sim.incident["escalation_policy"]["id"]]
            if o["start"] <= at < o["end"]
        ]
        assert on_call == [assign["assignees"][0]["id"]]


def test_scale_grows_the_organisation_and_volume():
    small = generate_account(seed=7, days=3, scale=0.5, end=END)
    big = generate_account(seed=7, days=3, scale=8, end=END)
    assert 10 <= len(small.services) <= 14 and len(big.services) == 200
    assert len(big.users) == 320 and len(big.teams) == 48
    assert len(big.incidents) > 60 * len(small.incidents) / 2


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


# --------------------------------------------------------------------------- templates
def test_templates_are_the_packaged_real_rules(account):
    rules = load_rules()
    assert len(rules) == 1092
    assert {r.source for r in rules} >= {"postgresql", "kubernetes", "nodeExporter", "blackbox"}
    names = {r.alert for r in rules}
    fired = {
        alert["labels"]["alertname"]
        for i in account.incidents
        for e in i.log_entries
        if e["type"] == "trigger_log_entry"
        and isinstance((e["channel"].get("details") or {}).get("firing"), list)
        for alert in e["channel"]["details"]["firing"]
    }
    assert len(fired) > 20 and fired <= names  # alerts fire the packaged rules' names


@needs_shared(RULE_ORIGINALS)
def test_packaged_rules_equal_a_fresh_derivation_from_the_originals(tmp_path):
    """simulator/data/alert_rules.json is what derive_rules makes from the originals."""
    from simulator.derive_rules import RULES_FILE, derive, render

    folder = shared_file(RULE_ORIGINALS)
    assert render(derive(folder)) == RULES_FILE.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_account_is_the_same_with_and_without_shared(tmp_path):
    """The demo's account (seed 7, 90 days) hashes the same in a process that has
    ../shared in reach and in one that cannot see it (PAGERLENS_SHARED at an empty folder,
    started from a folder outside the repository), and the same as in this process."""
    empty = tmp_path / "empty-shared"
    empty.mkdir()
    script = (
        "import sys; from datetime import datetime, UTC; "
        "from simulator.account import generate_account, account_digest; "
        f"print(account_digest(generate_account(seed=7, days=90, end=datetime.fromisoformat({END.isoformat()!r}))))"
    )
    digests = {}
    for name, shared in (("without", str(empty)), ("with", str(shared_path("") or empty))):
        env = {**os.environ, "PAGERLENS_SHARED": shared, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        digests[name] = done.stdout.strip()
    here = account_digest(generate_account(seed=7, days=90, end=END))
    assert digests["without"] == digests["with"] == here


def test_as_of_without_precomputed_times_agrees():
    from simulator.account import SimIncident

    acc = generate_account(seed=6, days=7, end=END)
    for sim in acc.incidents[::7]:
        bare = SimIncident(sim.incident, sim.log_entries, sim.alerts)
        created = datetime.fromisoformat(sim.incident["created_at"])
        for offset in (0, 90, 900, 4 * 3600, 3 * 86400):
            now = created + timedelta(seconds=offset)
            assert bare.as_of(now) == sim.as_of(now)
