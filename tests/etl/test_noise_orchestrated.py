"""Recommendations an Event Orchestration rule already does are not proposed (issue 14 part 5):
ExistingConfig.orchestrated on hand-made rules, and recommend._first_rule moving a proposal
to the already-on rows with the rule as evidence."""

from __future__ import annotations

import json

import pandas as pd

from etl.noise import recommend
from etl.noise.existing import ExistingConfig, rule_text
from etl.noise.recommend import _first_rule

SERVICE = "PSVC001"
DISK = ["Disk full on db-01", "Disk full on db-02"]


def rule(rule_id, *conditions, disabled=False, **actions) -> dict:
    return {
        "service_id": SERVICE,
        "set_id": "catch_all" if rule_id == "catch_all" else "start",
        "rule_id": rule_id,
        "label": f"rule {rule_id}",
        "disabled": disabled,
        "conditions": list(conditions),
        "suppress": actions.get("suppress", False),
        "drop_event": actions.get("drop_event", False),
        "suspend_seconds": actions.get("suspend"),
        "severity": actions.get("severity"),
        "actions": json.dumps(actions),
        "orchestration_updated_at": "2026-02-20T10:00:00Z",
    }


def existing(*rules, urgency="high") -> ExistingConfig:
    settings = {SERVICE: {"urgency_rule_type": "constant", "constant_urgency": urgency}}
    return ExistingConfig(settings=settings, orchestration_rules={SERVICE: list(rules)})


def test_a_suppressing_rule_covers_every_kind_when_it_matches_every_title():
    found = existing(rule("r1", "event.summary matches part 'disk FULL'", suppress=True))
    for kind in ("stop_paging", "pause_transient", "maintenance_window"):
        assert found.orchestrated(SERVICE, DISK, kind)["rule_id"] == "r1"
    assert found.orchestrated(SERVICE, DISK, "group_alerts") is None
    # One title it does not match: the rule does not cover the alert type.
    assert found.orchestrated(SERVICE, [*DISK, "CPU high on db-01"], "stop_paging") is None
    assert found.orchestrated("POTHER1", DISK, "stop_paging") is None


def test_what_each_action_covers():
    suspend = existing(
        rule("r1", "event.summary matches regex 'Disk full on db-\\\\d+'", suspend=300)
    )
    assert suspend.orchestrated(SERVICE, DISK, "pause_transient")["rule_id"] == "r1"
    assert suspend.orchestrated(SERVICE, DISK, "stop_paging") is None
    warning = rule("r2", severity="warning")  # no condition: every event
    assert existing(warning).orchestrated(SERVICE, DISK, "stop_paging") is None  # urgency high
    by_severity = existing(warning, urgency="severity_based")
    assert by_severity.orchestrated(SERVICE, DISK, "stop_paging")["rule_id"] == "r2"


def test_disabled_unreadable_and_catch_all_rules():
    disabled = rule("r1", "event.summary matches part 'Disk'", disabled=True, suppress=True)
    assert existing(disabled).orchestrated(SERVICE, DISK, "stop_paging") is None
    other_field = rule("r2", "event.source matches part 'db'", suppress=True)
    assert existing(other_field).orchestrated(SERVICE, DISK, "stop_paging") is None
    exact = rule("r3", "event.summary matches 'Disk full on db-01'", suppress=True)
    assert existing(exact).orchestrated(SERVICE, DISK, "stop_paging") is None  # one of two
    catch_all = rule("catch_all", suppress=True)
    assert existing(catch_all).orchestrated(SERVICE, DISK, "stop_paging")["rule_id"] == "catch_all"
    routed = rule("r4", "event.summary matches part 'Disk'", severity="critical")
    assert existing(routed, catch_all).orchestrated(SERVICE, DISK, "stop_paging") is None
    # A rule pagerlens cannot read may take the events first: the catch-all is not assumed.
    assert existing(other_field, catch_all).orchestrated(SERVICE, DISK, "stop_paging") is None


def test_a_proposal_the_orchestration_already_makes_goes_to_already_on(monkeypatch):
    part = pd.DataFrame(
        {
            "incident_id": ["I1", "I2"],
            "service_id": [SERVICE, SERVICE],
            "service_name": ["db", "db"],
            "team_id": ["T1", "T1"],
            "team_name": ["Storage", "Storage"],
            "template_id": ["t1", "t1"],
            "template": ["Disk full on <*>", "Disk full on <*>"],
            "stop_paging": [True, True],
            "pause_transient": [False, False],
            "maintenance_window": [False, False],
        }
    )
    suppress = rule("r1", "event.summary matches part 'Disk full'", suppress=True)
    config = existing(suppress)
    config.summaries.update({"I1": DISK[0], "I2": DISK[1]})
    proposal = ({"I1"}, set(), {"title": "Stop paging: 100% never acknowledged"})

    def stop_paging(part, config, settings, existing):
        return proposal

    monkeypatch.setattr(recommend, "RULES", (("stop_paging", stop_paging),))
    already: list = []
    assert _first_rule(part, None, None, config, already) is None
    (row,) = already
    assert (row["kind"], row["proposed"]) == ("stop_paging", proposal[2]["title"])
    assert row["configured"] == rule_text(suppress)
    assert json.loads(row["evidence"])["event_orchestration_rule"]["rule_id"] == "r1"
    # Without the rule the proposal stands.
    assert _first_rule(part, None, None, ExistingConfig(), []) == proposal
