"""The simulated account's API objects against PagerDuty's OpenAPI schemas (skipped, with the
reason, when ../shared is absent), ids, references, channels and alert texts.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from functools import cache

import pytest
from openapi_schema_validator import OAS30ReadValidator

from simulator.org_model import API_COLLECTIONS
from tests.shared_material import shared_file

SPEC = "pagerduty-openapi/openapiv3.json"


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
    "custom_field_value_change_log_entry": "CustomFieldValueChangeLogEntry",
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


# The OpenAPI schema of each collection's objects.
SCHEMAS = {
    "teams": "Team",
    "users": "User",
    "services": "Service",
    "escalation_policies": "EscalationPolicy",
    "schedules": "Schedule",
    "priorities": "Priority",
    "oncalls": "Oncall",
}


@pytest.mark.parametrize("collection", API_COLLECTIONS)
def test_organisation_objects_match_the_openapi_schemas(account, collection):
    objects = account.api_objects()[collection]
    if collection == "oncalls":
        objects = objects[::20]  # thousands, all made by one function
    assert [e for obj in objects for e in _errors(obj, SCHEMAS[collection])] == []


def test_ids_look_like_pagerduty_ids_and_are_unique(account):
    pd_id = re.compile(r"^P[0-9A-Z]{6}$")
    objects = account.api_objects()
    ids = [o["id"] for name in API_COLLECTIONS if name != "oncalls" for o in objects[name]]
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
    # Which formats a given account has rests on per-service draws: each trigger's channel
    # must match its service's integration instead (every format: test_every_alert_format_...).
    assert formats["api"] > 0
    assert set(formats) <= {"api", "nagios", "email"}


def test_trigger_channel_follows_the_service_integration(account):
    vendor = {s["id"]: s["integrations"][0]["summary"] for s in account.services}
    expected = {"Nagios": "nagios", "Email": "email"}
    for sim in account.incidents[::10]:
        trigger = sim.log_entries[0]
        if trigger["type"] != "trigger_log_entry":
            continue
        service = sim.incident["service"]["id"]
        assert trigger["channel"]["type"] == expected.get(vendor[service], "api")


FORMATS = {
    "alertmanager",
    "alertmanager_legacy",
    "alertmanager_summary",
    "datadog",
    "grafana",
    "nagios",
    "cloudwatch",
    "email",
    "uptimerobot",
}


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_every_alert_format_is_in_the_mix(seed):
    """The format mix itself (``pick_format``), on fixed seeds: each service kind draws each of
    its formats, and the kinds together draw every format (docs/grouping.md)."""
    import random

    from simulator.blueprint import pick_format

    rng = random.Random(seed)
    kinds = ("api", "postgres", "ci", "web")
    drawn = {kind: Counter(pick_format(rng, kind) for _ in range(300)) for kind in kinds}
    assert set().union(*drawn.values()) == FORMATS
    assert set(drawn["ci"]) == {"alertmanager_summary", "email"}
    assert "email" not in set().union(drawn["api"], drawn["postgres"], drawn["web"])
    assert min(drawn["api"].values()) > 0.5 * 300 / 6


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
