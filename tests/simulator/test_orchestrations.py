"""The simulated account's existing configuration (simulator/orchestrations.py): served on
GET /event_orchestrations/services/{id} and on the service objects, never contradicting the
incidents served (rules saved after the last incident they match; auto-pause shorter than every
unacknowledged resolution of its service)."""

from __future__ import annotations

import re

import pytest

from simulator._common import parse_iso
from simulator.faults import FaultSpec
from simulator.index import index_for
from simulator.orchestrations import AUTO_PAUSE_TIMEOUTS, configuration
from simulator.server import SimServer
from tests.simulator.server_helpers import client

PART = re.compile(r"^event\.summary matches part '(.*)'$")


def planted_rules(account) -> list[tuple[str, dict, str]]:
    found = configuration(index_for(account)).orchestrations
    return [
        (service_id, rule, body["orchestration_path"]["updated_at"])
        for service_id, body in found.items()
        for rule in body["orchestration_path"]["sets"][0]["rules"]
    ]


def test_rules_of_each_kind_on_a_few_services(account):
    rules = planted_rules(account)
    kinds = sorted(next(iter(rule["actions"])) for _, rule, _ in rules)
    assert kinds == ["severity", "suppress", "suspend"]
    assert len({service_id for service_id, _, _ in rules}) == 3  # each on its own service
    assert len(configuration(index_for(account)).orchestrations) == len(account.services)


def test_no_incident_served_falls_under_a_rule_that_holds_it_back(account):
    for service_id, rule, updated_at in planted_rules(account):
        (condition,) = rule["conditions"]
        text = PART.match(condition["expression"]).group(1)
        matched = [
            sim.incident
            for sim in account.incidents
            if sim.incident["service"]["id"] == service_id and text in sim.incident["title"]
        ]
        assert len(matched) >= 5, rule["label"]
        if "severity" in rule["actions"]:
            continue  # constant urgency: a severity changes nothing served
        assert max(parse_iso(i["created_at"]) for i in matched) < parse_iso(updated_at)


def test_auto_pause_never_holds_an_incident_that_was_served(account):
    settings = configuration(index_for(account)).service_settings
    assert 1 <= len(settings) <= 2
    for service_id, extra in settings.items():
        timeout = extra["auto_pause_notifications_parameters"]["timeout"]
        assert timeout in AUTO_PAUSE_TIMEOUTS
        for sim in account.incidents:
            incident = sim.incident
            acked = any(e["type"] == "acknowledge_log_entry" for e in sim.log_entries)
            if incident["service"]["id"] != service_id or acked or not incident["resolved_at"]:
                continue
            seconds = parse_iso(incident["resolved_at"]) - parse_iso(incident["created_at"])
            assert seconds > timeout


def test_served_over_http_with_the_service_settings(account):
    settings = configuration(index_for(account)).service_settings
    with SimServer(account) as server, client(server) as http:
        service_id = next(iter(settings))
        body = http.get(f"/event_orchestrations/services/{service_id}").json()
        assert body["orchestration_path"]["parent"]["id"] == service_id
        assert http.get("/event_orchestrations/services/PNOSUCH").status_code == 404
        service = http.get(f"/services/{service_id}").json()["service"]
        assert service["auto_pause_notifications_parameters"]["enabled"] is True
        listed = http.get("/services", params={"limit": 100}).json()["services"]
        paused = {s["id"] for s in listed if s["auto_pause_notifications_parameters"]["enabled"]}
        assert paused == set(settings)


@pytest.mark.parametrize("status", [402, 403, 404])
def test_the_endpoint_can_be_disabled(account, status):
    gate = FaultSpec(disabled_endpoints={"/event_orchestrations": status})
    with SimServer(account, faults=gate) as server, client(server) as http:
        service_id = account.services[0]["id"]
        assert http.get(f"/event_orchestrations/services/{service_id}").status_code == status
        assert http.get("/services").status_code == 200
