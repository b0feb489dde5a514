"""Structured alert identity per integration format (etl/noise/identity.py, issue 13 part 2).

Fixtures: tests/fixtures/integrations/*.json (written here with the field names of each
tool's public documentation), inline Alertmanager details in the shapes of Alertmanager's
``notify/pagerduty`` (v0.30+ and before), and Grafana's own expected PagerDuty events from
``../shared/realdata/pagerduty/alertmanager_grafana`` when that material is present.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from etl.noise.identity import Identity, recognise
from tests.shared_material import shared_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "integrations"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def am_alert(alertname: str, **labels: str) -> dict:
    """One alert of Alertmanager's v0.30+ ``firing`` list (``.Alerts.Firing | toJson``)."""
    full = {"alertname": alertname, "namespace": "payments", "job": "payments-api"} | labels
    return {
        "status": "firing",
        "labels": full,
        "annotations": {"summary": f"{alertname} on {labels.get('instance', '?')}"},
        "startsAt": labels.pop("startsAt", "2026-10-06T09:58:00Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": labels.get("instance", "x")[:16],
    }


def am_details(*alerts: dict) -> dict:
    return {"firing": list(alerts), "num_firing": len(alerts), "num_resolved": 0, "resolved": []}


def am_legacy(*alerts: dict) -> dict:
    """The same alerts as Alertmanager before v0.30 sends them: ``__text_alert_list``."""
    text = ""
    for alert in alerts:
        text += "Labels:\n" + "".join(f" - {k} = {v}\n" for k, v in sorted(alert["labels"].items()))
        text += "Annotations:\n" + "".join(
            f" - {k} = {v}\n" for k, v in sorted(alert["annotations"].items())
        )
        text += f"Source: {alert['generatorURL']}\n"
    return {"firing": text, "num_firing": str(len(alerts)), "num_resolved": "0", "resolved": ""}


def test_alertmanager_current_and_legacy_details_give_one_identity():
    first = am_alert(
        "KubePodCrashLooping", instance="10.0.3.17:8080", pod="api-7d9f-x2k9p", severity="warning"
    )
    other = am_alert(
        "KubePodCrashLooping",
        instance="10.0.9.2:8080",
        pod="api-7d9f-q8mzt",
        severity="warning",
        startsAt="2026-10-07T01:00:00Z",
    )
    new, old = recognise(am_details(first)), recognise(am_legacy(first))
    assert new == Identity("alertmanager", new.key)
    assert new.key == (
        "alertname=KubePodCrashLooping,severity=warning,namespace=payments,job=payments-api"
    )
    assert old == new  # the two receiver versions name the same rule alike
    # Another firing of the rule (other pod, instance, start, fingerprint): same identity.
    assert recognise(am_details(other)) == new
    assert recognise(am_legacy(other, first)) == new
    # Another rule, or the rule in another namespace: another identity.
    assert recognise(am_details(am_alert("KubePodNotReady", severity="warning"))) != new
    assert (
        recognise(
            am_details(am_alert("KubePodCrashLooping", namespace="search", severity="warning"))
        )
        != new
    )


def test_alertmanager_wrapped_in_an_event_or_an_alert_body():
    details = am_details(am_alert("RedisDown", instance="10.1.1.1:9121", severity="critical"))
    event = {
        "routing_key": "x" * 32,
        "event_action": "trigger",
        "payload": {
            "summary": "[FIRING:1] RedisDown",
            "source": "Alertmanager",
            "severity": "critical",
            "custom_details": details,
        },
    }
    body = {"type": "alert_body", "contexts": [], "details": details}
    cef_only = {"type": "alert_body", "cef_details": {"details": details}}
    expected = recognise(details)
    assert expected.source == "alertmanager"
    assert recognise(event) == recognise(body) == recognise(cef_only) == expected
    assert recognise(json.dumps(details)) == expected


def test_a_group_of_several_rules_keeps_the_labels_they_share():
    details = am_details(
        am_alert("TargetDown", instance="a:1", severity="warning"),
        am_alert("InstanceDown", instance="b:1", severity="critical"),
    )
    found = recognise(details)
    assert found.fields["alertname"] == "InstanceDown|TargetDown"
    assert "severity" not in found.fields  # differs between the two alerts
    assert found.fields["namespace"] == "payments"


def test_grafana_expected_events_from_its_test_suite():
    path = shared_file(
        "realdata/pagerduty/alertmanager_grafana/grafana_pagerduty_expected_events.json"
    )
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    found = [recognise(case["expected_event"]) for case in cases]
    assert [f.source for f in found] == ["grafana"] * 3
    assert found[0].key == "alertname=alert1"
    # The second case carries severity=critical among its labels: a stable label, kept.
    assert found[1].key == "alertname=alert1,severity=critical"
    # Two alerts of one rule (lbl1 differs): one identity, that of the first case.
    assert found[2] == found[0]


def test_grafana_webhook_uses_the_rule_uid():
    body = fixture("grafana_webhook.json")
    found = recognise(body)
    assert found.source == "grafana"
    assert found.key == (
        "rule_uid=dbb5c1a9-3f1e-4b0e-9a4f-56e4c8e3d2aa,severity=critical,grafana_folder=Platform"
    )
    again = copy.deepcopy(body)
    again["alerts"][0]["labels"]["instance"] = "node-9:9100"
    again["alerts"][0]["values"] = {"B": 97.0}
    again["alerts"][0]["fingerprint"] = "0000"
    assert recognise(again) == found


def test_datadog_monitor_id():
    payload = fixture("datadog_monitor.json")
    found = recognise(payload)
    assert (found.source, found.key) == ("datadog", "monitor_id=48213077")
    other_host = payload | {
        "hostname": "web-07",
        "tags": "env:prod,host:web-07",
        "date": "1759745825000",
        "alert_status": "99.1",
    }
    assert recognise(other_host) == found
    assert recognise(payload | {"alert_id": "48213078"}) != found
    # The simulator's field names (monitor_id as a number) are read too.
    assert recognise({"monitor_id": 48213077, "alert_transition": "Triggered"}) == found


def test_cloudwatch_via_sns():
    notification = fixture("cloudwatch_sns.json")
    found = recognise(notification)
    assert found.source == "cloudwatch"
    assert found.key == "account=123456789012,region=EU (Ireland),alarm=checkout-api-5xx-rate"
    assert found.fields["namespace"] == "AWS/ApplicationELB"
    assert found.fields["metric"] == "HTTPCode_Target_5XX_Count"
    assert found.fields["dimensions"] == "LoadBalancer=app/checkout-prod/50dc6c495c0c9188"
    message = json.loads(notification["Message"])
    later = message | {"NewStateReason": "Threshold Crossed: [9.9]", "StateChangeTime": "x"}
    assert recognise(notification | {"Message": json.dumps(later), "MessageId": "y"}) == found
    # The alarm message itself (an SNS subscription with raw message delivery).
    assert recognise(message) == found
    renamed = message | {"AlarmName": "checkout-api-latency"}
    assert recognise(renamed) != found


def test_uptime_robot():
    payload = fixture("uptimerobot_webhook.json")
    found = recognise(payload)
    assert (found.source, found.key) == ("uptimerobot", "monitor_id=793145672,alert_type=Down")
    assert recognise(payload | {"alertDetails": "HTTP 502", "alertDateTime": "1"}) == found
    ssl = payload | {"alertType": "3", "alertTypeFriendlyName": "SSL Expiry"}
    assert recognise(ssl) != found


@pytest.mark.parametrize(
    "details",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        17,
        [],
        {},
        {"firing": None},
        {"firing": 3},
        {"firing": [None, 1, "x"]},
        {"firing": [{"labels": "alertname=x"}]},
        {"firing": [{"labels": {"severity": "critical"}}]},  # no alertname
        {"firing": "no labels here"},
        {"firing": "Labels:\n"},
        {"monitor_id": "abc", "alert_transition": "Triggered"},
        {"monitor_id": 12},  # a number alone is not Datadog
        {"Type": "Notification", "Message": "{not json"},
        {"Type": "Notification", "Message": '{"AlarmName": ""}'},
        {"AlarmName": {"nested": 1}},
        {"monitorID": "", "monitorURL": "https://x"},
        {"type": "alert_body", "details": "oops", "cef_details": None},
        {"event_action": "trigger", "payload": {"custom_details": ["a"]}},
        "[" * 100_000,
    ],
)
def test_malformed_or_unknown_bodies_fall_back_to_text(details):
    assert recognise(details) is None


def test_generic_webhook_is_text():
    assert recognise(fixture("generic_webhook.json")) is None
    assert recognise({"free space": "1%", "ping time": "1500ms", "load avg": 0.75}) is None


def test_hostile_values_are_kept_as_data():
    hostile = '<script>alert(1)</script>"; drop table x; --'
    found = recognise(am_details(am_alert(hostile, namespace="`rm -rf`")))
    assert found.fields["alertname"] == hostile  # kept verbatim; renderers escape it
    assert len(recognise(am_details(am_alert("x" * 5000))).key) <= 512


# -- Through the real build: the simulator's alerts of every format ----------------------------

# The trigger entry's channel client of each simulated format -> the identity it must get.
EXPECTED_SOURCE = {
    "Alertmanager": "alertmanager",
    "Datadog": "datadog",
    "Amazon CloudWatch": "cloudwatch",
    "Grafana": "grafana",
    "UptimeRobot": "uptimerobot",
    None: "text",  # Nagios and e-mail integrations: no structured identity, text decides
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import duckdb

    from simulator.account import generate_account
    from tests.conftest import SIM_END
    from tests.etl.noise_support import _build_noise

    account = generate_account(seed=7, days=28, end=SIM_END)
    path, result = _build_noise(tmp_path_factory.mktemp("identity"), account)
    con = duckdb.connect(str(path), read_only=True)
    yield account, con, result
    con.close()


def test_every_simulated_format_gets_its_identity_through_the_build(built):
    account, con, result = built
    client = {}
    for sim in account.incidents:
        trigger = next(e for e in sim.log_entries if e["type"] == "trigger_log_entry")
        client[sim.incident["id"]] = trigger["channel"].get("client")
    rows = con.execute("select incident_id, identity_source from int_incident_noise").fetchall()
    got = {}
    for incident_id, source in rows:
        got.setdefault(EXPECTED_SOURCE[client[incident_id]], set()).add(source)
    assert got == {source: {source} for source in EXPECTED_SOURCE.values() if source in got}
    assert set(got) >= {"alertmanager", "datadog", "cloudwatch", "grafana", "uptimerobot", "text"}
    assert sum(result["identity_sources"].values()) == len(rows)
    # alert_templates carries the source of each type, and one source per type.
    per_type = con.execute(
        "select count(distinct identity_source) from int_incident_noise group by template_id"
    ).fetchall()
    assert {n for (n,) in per_type} == {1}
    sources = {s for (s,) in con.execute("select identity_source from alert_templates").fetchall()}
    assert sources == set(got)


def test_one_rule_on_one_service_is_one_type_and_two_rules_are_two(built):
    """Through the build: the planted flapping episodes (one rule on one service each)."""
    account, con, _ = built
    types = dict(con.execute("select incident_id, template_id from int_incident_noise").fetchall())
    episodes = account.ground_truth["flapping"]
    assert len(episodes) >= 3
    rule_types: dict[tuple[str, str], set[str]] = {}
    for episode in episodes:
        found = {types[i] for i in episode["incident_ids"] if i in types}
        rule_types.setdefault((episode["service_id"], episode["template"]), set()).update(found)
    assert all(len(found) == 1 for found in rule_types.values()), rule_types
    assert len({found.pop() for found in rule_types.values()}) == len(rule_types)


@pytest.mark.parametrize(
    "fmt",
    [
        "alertmanager",
        "alertmanager_legacy",
        "alertmanager_summary",
        "datadog",
        "cloudwatch",
        "grafana",
        "uptimerobot",
    ],
)
def test_simulated_firings_of_one_rule_share_an_identity(fmt):
    """The simulator's renderers: two firings of a rule on a service (other labels, values,
    times) share the identity; another rule, or the rule on another service, does not."""
    import random

    from simulator.templates import LabelMaker, load_rules, render_alert, rules_for_kind

    rng = random.Random(3)
    rules = rules_for_kind("postgres", load_rules())[:2]
    makers = [LabelMaker(name, "payments", "postgres", rng) for name in ("ledger-db", "pay-db")]

    def identity(rule, maker, started):
        labels = maker.labels(rule.labels, rng)
        return recognise(render_alert(rule, labels, maker, fmt, started, rng)[1])

    first = identity(rules[0], makers[0], "2026-10-06T09:58:00Z")
    assert first is not None and first.source == fmt.split("_")[0]
    assert identity(rules[0], makers[0], "2026-10-09T23:01:17Z") == first
    assert identity(rules[1], makers[0], "2026-10-06T09:58:00Z") != first
    if fmt not in ("alertmanager", "alertmanager_legacy", "alertmanager_summary", "datadog"):
        # One alarm / rule UID / monitor per service; Alertmanager and Datadog name the rule
        # (the service is told apart by the alert type's service, not the key).
        assert identity(rules[0], makers[1], "2026-10-06T09:58:00Z") != first


def test_alert_bodies_stand_in_for_trigger_entries_without_details(built, tmp_path):
    """Incidents whose trigger entry carries no alert content (as when synced without
    include[]=channels) get the identity from their first alert's body.details."""
    import duckdb

    from simulator.account import generate_account
    from tests.conftest import SIM_END
    from tests.etl.noise_support import _build_noise

    _, con, _ = built
    account = generate_account(seed=7, days=28, end=SIM_END)
    stripped = set()
    for sim in account.incidents[::3]:
        for entry in sim.log_entries:
            if entry["type"] == "trigger_log_entry":
                entry["channel"] = {k: v for k, v in entry["channel"].items() if "details" not in k}
                stripped.add(sim.incident["id"])
    path, _ = _build_noise(tmp_path, account)
    query = "select incident_id, template_id, identity_source from int_incident_noise"
    with duckdb.connect(str(path), read_only=True) as again:
        rebuilt = {row[0]: row[1:] for row in again.execute(query).fetchall()}
    original = {row[0]: row[1:] for row in con.execute(query).fetchall()}
    assert len(stripped) > 100
    assert rebuilt == original
