"""The simulated account: determinism, PagerDuty semantics, the organisation, the packaged
alert templates. API shapes: test_account_schema.py; ground truth and realism:
test_account_truth.py. The 90-day ``account`` fixture is in tests/simulator/conftest.py.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from simulator._common import parse_iso
from simulator.account import SimAccount, account_digest, account_token, generate_account
from simulator.templates import load_rules
from tests.conftest import SIM_END as END
from tests.shared_material import REPO, needs_shared, shared_file, shared_path

SPEC = "pagerduty-openapi/openapiv3.json"
RULE_ORIGINALS = "realdata/alert_templates"


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
    # The one account generated on today's date, on purpose: the default end itself.
    acc = generate_account(seed=1, days=1, end=None)
    assert acc.end == datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert acc.start == acc.end - timedelta(days=1)


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
