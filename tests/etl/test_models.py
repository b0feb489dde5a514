"""Table-driven cases for the `incidents` mart: MTTA, MTTR, auto-resolution, noise, majors.

Every case is one incident built from PagerDuty payloads and the row we expect, computed by
hand from docs/metrics.md. All cases live in one account, built three times: with the raw
rows in order and in two shuffled orders (log entries arrive in any order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from tests.etl.models_support import (
    INTEGRATION_AGENT,
    SERVICE_AGENT,
    RawAccount,
    at,
    base_account,
    build_account,
    fetch,
)


@dataclass(frozen=True)
class Case:
    incident_id: str
    build: Callable[[RawAccount, str], None]
    expected: dict


def _incident_then(*steps: tuple, **incident) -> Callable[[RawAccount, str], None]:
    """A case builder: the incident created at 0 s with the ``incident`` fields, then each step
    ``(builder name, seconds after creation, *arguments[, keyword arguments])`` in order."""

    def build(a: RawAccount, i: str) -> None:
        a.incident(i, at(0), **incident)
        for name, seconds, *arguments in steps:
            keywords = arguments.pop() if arguments and isinstance(arguments[-1], dict) else {}
            getattr(a, name)(i, at(seconds), *arguments, **keywords)

    return build


_never_acknowledged = _incident_then(
    ("trigger", 0), ("notify", 2, "PUSER01"), ("resolve", 600), resolved_at=at(600)
)

_ack_unack_ack = _incident_then(
    ("trigger", 0), ("ack", 120), ("unack", 1920), ("ack", 2000), ("resolve", 2400)
)

_acked_twice_same_user = _incident_then(("ack", 90), ("ack", 60), ("resolve", 1000))

_acked_by_two_users = _incident_then(
    ("ack", 200, "PUSER01"),
    ("ack", 100, "PUSER02"),
    ("resolve", 5000, {"agent_id": "PUSER02"}),
    priority="P3",
)

_auto_resolved_at_threshold = _incident_then(("trigger", 0), ("auto_resolve", 300))

_auto_resolved_after_threshold = _incident_then(("auto_resolve", 301))

_auto_resolved_after_human_ack = _incident_then(("ack", 30), ("auto_resolve", 100))

_human_resolves_via_api = _incident_then(("resolve", 120, {"channel": "api"}))

_integration_acknowledges = _incident_then(
    ("ack", 10, {"agent": INTEGRATION_AGENT, "channel": "api"}), ("auto_resolve", 200)
)

_still_open = _incident_then(("ack", 240), status="acknowledged")

_ack_before_creation = _incident_then(("ack", -30), ("resolve", 600))

_resolve_before_creation = _incident_then(("auto_resolve", -5))

# A resolve entry on an incident that is open again: nothing is resolved.
_reopened = _incident_then(("resolve", 300), ("trigger", 400), status="triggered")

_last_resolve_wins = _incident_then(("resolve", 500), ("auto_resolve", 700))

_no_resolve_entry = _incident_then(resolved_at=at(450))

_escalations_and_notifications = _incident_then(
    ("notify", 1, "PUSER01", "email_notification"),
    ("notify", 2, "PUSER01", "sms_notification"),
    ("escalate", 300),
    ("notify", 301, "PUSER02", "phone_notification"),
    ("escalate", 600),
    ("ack", 650, "PUSER02"),
    ("resolve", 900, {"agent_id": "PUSER02"}),
    alerts=3,
)

_priority_two_is_major = _incident_then(("ack", 60), ("resolve", 100), priority="P2")


def _spec_ack_name_variant(a: RawAccount, i: str) -> None:
    a.incident(i, at(0))
    a.entry(i, "acknowledgement_log_entry", at(75))
    a.resolve(i, at(100))


def _overview_reference_type_names(a: RawAccount, i: str) -> None:
    # is_overview listings name the types `*_log_entry_reference`.
    a.incident(i, at(0))
    a.entry(i, "acknowledge_log_entry_reference", at(42))
    a.entry(i, "resolve_log_entry_reference", at(84))


_timeout_without_agent_is_automatic = _incident_then(
    ("resolve", 1000, {"agent": None, "channel": "timeout"})
)

_web_ui_without_agent_is_human = _incident_then(
    ("resolve", 1000, {"agent": None, "channel": "web_ui"})
)

_service_agent_email_is_automatic = _incident_then(
    ("resolve", 30, {"agent": SERVICE_AGENT, "channel": "email"})
)


NULL = None
CASES = [
    Case(
        "PNEVER1",
        _never_acknowledged,
        dict(
            first_ack_at_s=NULL,
            seconds_to_first_ack=NULL,
            seconds_to_resolve=600.0,
            auto_resolved=False,
            noise_reason=NULL,
            is_major=False,
            data_issue=False,
            total_notifications=1,
        ),
    ),
    Case(
        "PACKUNA",
        _ack_unack_ack,
        dict(
            seconds_to_first_ack=120.0,
            seconds_to_resolve=2400.0,
            auto_resolved=False,
            acknowledged_by_user_count=1,
            is_major=False,
        ),
    ),
    Case(
        "PTWICE1",
        _acked_twice_same_user,
        dict(
            seconds_to_first_ack=60.0,
            seconds_to_resolve=1000.0,
            acknowledged_by_user_count=1,
            is_major=False,
        ),
    ),
    Case(
        "PTWOUSR",
        _acked_by_two_users,
        dict(
            seconds_to_first_ack=100.0,
            acknowledged_by_user_count=2,
            responder_count=2,
            is_major=True,
            priority_name="P3",
        ),
    ),
    Case(
        "PTRANS1",
        _auto_resolved_at_threshold,
        dict(
            seconds_to_first_ack=NULL,
            seconds_to_resolve=300.0,
            auto_resolved=True,
            noise_reason="transient",
            is_noise=True,
        ),
    ),
    Case(
        "PAUTO01",
        _auto_resolved_after_threshold,
        dict(
            seconds_to_resolve=301.0,
            auto_resolved=True,
            noise_reason="auto_resolved_unacked",
            is_noise=True,
        ),
    ),
    Case(
        "PAUTOAK",
        _auto_resolved_after_human_ack,
        dict(
            seconds_to_first_ack=30.0,
            seconds_to_resolve=100.0,
            auto_resolved=True,
            noise_reason=NULL,
            is_noise=False,
        ),
    ),
    Case(
        "PAPIHUM",
        _human_resolves_via_api,
        dict(seconds_to_resolve=120.0, auto_resolved=False, noise_reason=NULL),
    ),
    Case(
        "PINTACK",
        _integration_acknowledges,
        dict(
            seconds_to_first_ack=NULL,
            seconds_to_resolve=200.0,
            auto_resolved=True,
            noise_reason="transient",
            acknowledged_by_user_count=0,
        ),
    ),
    Case(
        "POPEN01",
        _still_open,
        dict(
            status="acknowledged",
            seconds_to_first_ack=240.0,
            resolved_at_s=NULL,
            seconds_to_resolve=NULL,
            auto_resolved=False,
            noise_reason=NULL,
        ),
    ),
    Case(
        "PSKEWAK",
        _ack_before_creation,
        dict(
            first_ack_at_s=-30.0,
            seconds_to_first_ack=NULL,
            seconds_to_resolve=600.0,
            data_issue=True,
        ),
    ),
    Case(
        "PSKEWRS",
        _resolve_before_creation,
        dict(
            resolved_at_s=-5.0,
            seconds_to_resolve=NULL,
            auto_resolved=True,
            noise_reason="transient",
            data_issue=True,
        ),
    ),
    Case(
        "PREOPEN",
        _reopened,
        dict(status="triggered", resolved_at_s=NULL, seconds_to_resolve=NULL, auto_resolved=False),
    ),
    Case(
        "PLASTRS",
        _last_resolve_wins,
        dict(
            resolved_at_s=700.0,
            seconds_to_resolve=700.0,
            auto_resolved=True,
            noise_reason="auto_resolved_unacked",
        ),
    ),
    Case(
        "PNORSLV",
        _no_resolve_entry,
        dict(resolved_at_s=450.0, seconds_to_resolve=450.0, auto_resolved=False, noise_reason=NULL),
    ),
    Case(
        "PESCNOT",
        _escalations_and_notifications,
        dict(
            escalation_count=2,
            total_notifications=3,
            alert_count=3,
            seconds_to_first_ack=650.0,
            responder_count=1,
        ),
    ),
    Case("PPRIO02", _priority_two_is_major, dict(is_major=True, priority_name="P2")),
    Case("PACKVAR", _spec_ack_name_variant, dict(seconds_to_first_ack=75.0)),
    Case(
        "PREFTYP",
        _overview_reference_type_names,
        dict(seconds_to_first_ack=42.0, seconds_to_resolve=84.0, auto_resolved=False),
    ),
    Case(
        "PTIMOUT",
        _timeout_without_agent_is_automatic,
        dict(auto_resolved=True, noise_reason="auto_resolved_unacked"),
    ),
    Case("PWEBNOA", _web_ui_without_agent_is_human, dict(auto_resolved=False, noise_reason=NULL)),
    Case(
        "PSVCEML",
        _service_agent_email_is_automatic,
        dict(auto_resolved=True, noise_reason="transient"),
    ),
]


def _account() -> RawAccount:
    account = base_account(PUSER01="UTC", PUSER02="UTC")
    for case in CASES:
        case.build(account, case.incident_id)
    return account


@pytest.fixture(scope="module", params=[None, 1, 2], ids=["ordered", "shuffled1", "shuffled2"])
def incidents(request) -> dict[str, dict]:
    con = build_account(_account(), shuffle_seed=request.param)
    rows = fetch(
        con,
        """
        select *,
            epoch(first_ack_at - created_at) as first_ack_at_s,
            epoch(resolved_at - created_at) as resolved_at_s
        from incidents
        """,
    )
    return {row["incident_id"]: row for row in rows}


@pytest.mark.parametrize("case", CASES, ids=[c.incident_id for c in CASES])
def test_incident_case(incidents: dict[str, dict], case: Case) -> None:
    row = incidents[case.incident_id]
    actual = {column: row[column] for column in case.expected}
    assert actual == case.expected


def test_every_incident_has_a_row_and_no_negative_duration(incidents: dict[str, dict]) -> None:
    assert set(incidents) == {c.incident_id for c in CASES}
    for row in incidents.values():
        for column in ("seconds_to_first_ack", "seconds_to_resolve"):
            assert row[column] is None or row[column] >= 0
        assert row["is_noise"] == (row["noise_reason"] is not None)


def test_extra_columns_come_from_the_payloads(incidents: dict[str, dict]) -> None:
    row = incidents["PTWOUSR"]
    assert row["service_id"] == "PSVC001"
    assert row["service_name"] == "checkout-api"
    assert row["team_id"] == "PTEAM01"
    assert row["team_name"] == "Payments"
    assert row["urgency"] == "high"
    assert row["html_url"] == "https://acme.pagerduty.com/incidents/PTWOUSR"
    assert row["escalation_policy_id"] == "PEP0001"
    assert row["title"] == "Incident PTWOUSR"


def test_transient_threshold_is_configuration() -> None:
    account = base_account()
    _auto_resolved_at_threshold(account, "PTRANS1")
    _auto_resolved_after_threshold(account, "PAUTO01")
    con = build_account(account, transient_seconds=600)
    reasons = dict(con.execute("select incident_id, noise_reason from incidents").fetchall())
    assert reasons == {"PTRANS1": "transient", "PAUTO01": "transient"}
    con = build_account(account, transient_seconds=299)
    reasons = dict(con.execute("select incident_id, noise_reason from incidents").fetchall())
    assert reasons == {"PTRANS1": "auto_resolved_unacked", "PAUTO01": "auto_resolved_unacked"}


def test_major_priorities_from_configuration_replace_the_top_two() -> None:
    account = base_account()
    for name in ("P1", "P2", "P3"):
        account.incident(f"PMAJ{name}", at(0), priority=name, resolved_at=at(60))
    account.incident("PMAJNON", at(0), resolved_at=at(60))
    con = build_account(account)
    major = dict(con.execute("select incident_id, is_major from incidents").fetchall())
    assert major == {"PMAJP1": True, "PMAJP2": True, "PMAJP3": False, "PMAJNON": False}
    con = build_account(account, major_priorities=("P3",))
    major = dict(con.execute("select incident_id, is_major from incidents").fetchall())
    assert major == {"PMAJP1": False, "PMAJP2": False, "PMAJP3": True, "PMAJNON": False}


def test_priority_rank_follows_priority_order_when_no_list_order() -> None:
    account = base_account()
    account.rows["priorities"] = [
        {"id": "PRISEV1", "type": "priority", "name": "SEV-1", "priority_order": 300},
        {"id": "PRISEV3", "type": "priority", "name": "SEV-3", "priority_order": 100},
        {"id": "PRISEV2", "type": "priority", "name": "SEV-2", "priority_order": 200},
    ]
    for sev in ("SEV1", "SEV2", "SEV3"):
        account.incident(f"PI{sev}", at(0), resolved_at=at(10))
        account.rows["incidents"][-1]["priority"] = {"id": f"PRI{sev}", "summary": sev}
    con = build_account(account)
    major = dict(con.execute("select incident_id, is_major from incidents").fetchall())
    assert major == {"PISEV1": True, "PISEV2": True, "PISEV3": False}


# Reporting weeks: Monday 00:00 in the reporting zone; 2026-03-08 is a Sunday, and New York
# is UTC-5 then (its daylight-saving time starts at 02:00 local that day, becoming UTC-4).
WEEK_CASES = [
    ("UTC", "2026-03-08T23:59:59Z", date(2026, 3, 2)),
    ("UTC", "2026-03-09T00:00:00Z", date(2026, 3, 9)),
    ("America/New_York", "2026-03-09T03:59:59Z", date(2026, 3, 2)),
    ("America/New_York", "2026-03-09T04:00:00Z", date(2026, 3, 9)),
    ("Asia/Kolkata", "2026-03-08T18:29:59Z", date(2026, 3, 2)),
    ("Asia/Kolkata", "2026-03-08T18:30:00Z", date(2026, 3, 9)),
]


@pytest.mark.parametrize(("zone", "created", "week"), WEEK_CASES)
def test_week_start_in_reporting_zone(zone: str, created: str, week: date) -> None:
    from datetime import datetime

    account = base_account()
    account.incident(
        "PWEEK01", datetime.fromisoformat(created), resolved_at=None, status="triggered"
    )
    con = build_account(account, reporting_time_zone=zone)
    assert con.execute("select week_start from incidents").fetchall() == [(week,)]


def test_incidents_on_both_sides_of_a_week_boundary_split_the_weekly_stats() -> None:
    from datetime import datetime

    account = base_account()
    before = datetime.fromisoformat("2026-03-08T23:50:00Z")
    after = datetime.fromisoformat("2026-03-09T00:10:00Z")
    account.incident("PBEFORE", before)
    account.ack("PBEFORE", at(60, before))
    account.resolve("PBEFORE", at(3600, before))  # resolved in the next week
    account.incident("PAFTER1", after)
    account.ack("PAFTER1", at(180, after))
    account.resolve("PAFTER1", at(600, after))
    con = build_account(account)
    rows = fetch(
        con,
        "select week_start, total_incident_count, mean_seconds_to_first_ack,"
        " mean_seconds_to_resolve from service_weekly order by week_start",
    )
    assert rows == [
        dict(
            week_start=date(2026, 3, 2),
            total_incident_count=1,
            mean_seconds_to_first_ack=60.0,
            mean_seconds_to_resolve=3600.0,
        ),
        dict(
            week_start=date(2026, 3, 9),
            total_incident_count=1,
            mean_seconds_to_first_ack=180.0,
            mean_seconds_to_resolve=600.0,
        ),
    ]
