"""A hand-built, fully known PagerDuty account for the server's exact-value tests.

Four incidents with trigger/notify/acknowledge/resolve entries at chosen times, so a test can
say exactly what the server must show at a given clock. Duck-types the account model of
``simulator.account`` (``SimAccount``/``SimIncident``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

API = "https://api.pagerduty.com"
WEB = "https://acme.pagerduty.com"
END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TOKEN = "sim-tiny-token-0123456789"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref(kind: str, obj_id: str, summary: str, path: str) -> dict:
    return {
        "id": obj_id,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{API}/{path}/{obj_id}",
        "html_url": f"{WEB}/{path}/{obj_id}",
    }


TEAM = {
    "id": "PTEAM01",
    "type": "team",
    "summary": "Payments",
    "name": "Payments",
    "description": "Payments team",
    "self": f"{API}/teams/PTEAM01",
    "html_url": f"{WEB}/teams/PTEAM01",
}
TEAM_REF = ref("team", "PTEAM01", "Payments", "teams")
USERS = [
    {
        "id": uid,
        "type": "user",
        "summary": name,
        "name": name,
        "email": f"{uid.lower()}@acme.example",
        "role": "user",
        "time_zone": "Europe/Berlin",
        "teams": [TEAM_REF],
        "contact_methods": [
            ref("email_contact_method", f"PCM{uid[-2:]}", "Default", "contact_methods")
        ],
        "notification_rules": [],
        "self": f"{API}/users/{uid}",
        "html_url": f"{WEB}/users/{uid}",
    }
    for uid, name in (("PUSER01", "Ada Lovelace"), ("PUSER02", "Grace Hopper"))
]
USER_REFS = [ref("user", u["id"], u["name"], "users") for u in USERS]
SCHEDULE = {
    "id": "PSCHED1",
    "type": "schedule",
    "summary": "Payments primary",
    "name": "Payments primary",
    "time_zone": "Europe/Berlin",
    "description": "",
    "users": USER_REFS,
    "teams": [TEAM_REF],
    "escalation_policies": [],
    "self": f"{API}/schedules/PSCHED1",
    "html_url": f"{WEB}/schedules/PSCHED1",
}
SCHEDULE_REF = ref("schedule", "PSCHED1", "Payments primary", "schedules")
EP_REF = ref("escalation_policy", "PEPOL01", "Payments EP", "escalation_policies")
EP = {
    "id": "PEPOL01",
    "type": "escalation_policy",
    "summary": "Payments EP",
    "name": "Payments EP",
    "escalation_rules": [
        {
            "id": "PRULE01",
            "escalation_delay_in_minutes": 30,
            "targets": [SCHEDULE_REF | {"type": "schedule_reference"}],
        }
    ],
    "num_loops": 0,
    "teams": [TEAM_REF],
    "services": [],
    "self": f"{API}/escalation_policies/PEPOL01",
    "html_url": f"{WEB}/escalation_policies/PEPOL01",
}
SERVICES = [
    {
        "id": sid,
        "type": "service",
        "summary": name,
        "name": name,
        "description": name,
        "status": "active",
        "escalation_policy": EP_REF,
        "teams": [TEAM_REF],
        "incident_urgency_rule": {"type": "constant", "urgency": "high"},
        "acknowledgement_timeout": 1800,
        "auto_resolve_timeout": 14400,
        "alert_creation": "create_alerts_and_incidents",
        "created_at": "2025-01-01T00:00:00Z",
        "self": f"{API}/services/{sid}",
        "html_url": f"{WEB}/service-directory/{sid}",
    }
    for sid, name in (("PSERV01", "checkout-api"), ("PSERV02", "ledger"))
]
PRIORITIES = [
    {
        "id": "PPRIO01",
        "type": "priority",
        "summary": "P1",
        "name": "P1",
        "description": "",
        "self": f"{API}/priorities/PPRIO01",
    },
    {
        "id": "PPRIO02",
        "type": "priority",
        "summary": "P2",
        "name": "P2",
        "description": "",
        "self": f"{API}/priorities/PPRIO02",
    },
]


def _oncalls() -> list[dict]:
    out = []
    shift_start = END - timedelta(days=21)
    for week in range(4):  # weekly shifts alternating between the two users
        start = shift_start + timedelta(days=7 * week)
        out.append(
            {
                "escalation_policy": EP_REF,
                "escalation_level": 1,
                "schedule": SCHEDULE_REF,
                "user": USER_REFS[week % 2],
                "start": iso(start),
                "end": iso(start + timedelta(days=7)),
            }
        )
    return out


@dataclass
class TinyIncident:
    """A SimIncident stand-in whose as_of is the documented semantics, written out by hand."""

    incident: dict
    log_entries: list[dict]
    alerts: list[dict]

    def as_of(self, now: datetime) -> tuple[dict, list[dict], list[dict]] | None:
        if datetime.fromisoformat(self.incident["created_at"]) > now:
            return None
        entries = [e for e in self.log_entries if datetime.fromisoformat(e["created_at"]) <= now]
        status, resolved_at, last_change = "triggered", None, self.incident["created_at"]
        for entry in sorted(entries, key=lambda e: e["created_at"]):
            if entry["type"] == "acknowledge_log_entry":
                status, last_change = "acknowledged", entry["created_at"]
            elif entry["type"] == "resolve_log_entry":
                status, resolved_at, last_change = (
                    "resolved",
                    entry["created_at"],
                    entry["created_at"],
                )
        incident = dict(
            self.incident,
            status=status,
            resolved_at=resolved_at,
            last_status_change_at=last_change,
            updated_at=last_change,
        )
        alerts = [
            dict(a, status="resolved" if resolved_at else "triggered", resolved_at=resolved_at)
            for a in self.alerts
        ]
        return incident, entries, alerts


def _incident(
    number: int,
    service: dict,
    created: datetime,
    ack: timedelta | None,
    resolve: timedelta | None,
    urgency: str = "high",
) -> TinyIncident:
    iid = f"PINC{number:03d}"
    inc_ref = ref("incident", iid, f"[#{number}] disk full on db-{number}", "incidents")
    service_ref = ref("service", service["id"], service["name"], "services")
    common = {"incident": inc_ref, "service": service_ref, "teams": [TEAM_REF]}
    entries = [
        {
            "id": f"R{number:03d}TRIGGER",
            "type": "trigger_log_entry",
            "summary": "Triggered through the API",
            "created_at": iso(created),
            "agent": service_ref,
            "channel": {
                "type": "api",
                "summary": f"disk full on db-{number}",
                "details": {"disk": "/var", "used": "97%"},
                "cef_details": {"x": 1},
            },
            **common,
        },
        {
            "id": f"R{number:03d}NOTIFY1",
            "type": "notify_log_entry",
            "summary": "Notified Ada by SMS",
            "created_at": iso(created + timedelta(seconds=30)),
            "agent": service_ref,
            "channel": {"type": "sms"},
            "user": USER_REFS[0],
            **common,
        },
    ]
    # Ada acknowledges and resolves on the website; either step may not have happened.
    for offset, suffix, entry_type, summary in (
        (ack, "ACK0001", "acknowledge_log_entry", "Acknowledged by Ada"),
        (resolve, "RESOLVE", "resolve_log_entry", "Resolved by Ada"),
    ):
        if offset is not None:
            entries.append(
                {
                    "id": f"R{number:03d}{suffix}",
                    "type": entry_type,
                    "summary": summary,
                    "created_at": iso(created + offset),
                    "agent": USER_REFS[0],
                    "channel": {"type": "website"},
                    **common,
                }
            )
    incident = {
        "id": iid,
        "type": "incident",
        "summary": inc_ref["summary"],
        "self": inc_ref["self"],
        "html_url": inc_ref["html_url"],
        "incident_number": number,
        "title": f"disk full on db-{number}",
        "created_at": iso(created),
        "updated_at": iso(created),
        "status": "triggered",
        "incident_key": f"disk-{number}",
        "service": service_ref,
        "assignments": [],
        "assigned_via": "escalation_policy",
        "last_status_change_at": iso(created),
        "resolved_at": None,
        "first_trigger_log_entry": {
            "id": entries[0]["id"],
            "type": "trigger_log_entry_reference",
            "self": f"{API}/log_entries/{entries[0]['id']}",
        },
        "alert_counts": {"all": 1, "triggered": 0, "resolved": 1},
        "escalation_policy": EP_REF,
        "teams": [TEAM_REF],
        "urgency": urgency,
        "acknowledgements": [],
    }
    alerts = [
        {
            "id": f"PALRT{number:02d}",
            "type": "alert",
            "summary": incident["title"],
            "self": f"{API}/alerts/PALRT{number:02d}",
            "html_url": f"{WEB}/alerts/PALRT{number:02d}",
            "created_at": iso(created),
            "status": "triggered",
            "alert_key": f"disk-{number}",
            "service": service_ref,
            "incident": inc_ref,
            "suppressed": False,
            "severity": "critical",
            "body": {"type": "alert_body", "details": {"disk": "/var"}},
        }
    ]
    return TinyIncident(incident, entries, alerts)


@dataclass
class TinyAccount:
    seed: int = 0
    start: datetime = END - timedelta(days=60)
    end: datetime = END
    account_time_zone: str = "UTC"
    teams: list[dict] = field(default_factory=lambda: [TEAM])
    users: list[dict] = field(default_factory=lambda: list(USERS))
    services: list[dict] = field(default_factory=lambda: list(SERVICES))
    escalation_policies: list[dict] = field(default_factory=lambda: [EP])
    schedules: list[dict] = field(default_factory=lambda: [SCHEDULE])
    priorities: list[dict] = field(default_factory=lambda: list(PRIORITIES))
    oncalls: list[dict] = field(default_factory=_oncalls)
    incidents: list[TinyIncident] = field(default_factory=list)
    ground_truth: dict = field(default_factory=lambda: {"storms": [], "note": "tiny"})
    token: str = TOKEN


def tiny_account() -> TinyAccount:
    """Four incidents: old resolved, resolved, resolved one hour before END, still triggered."""
    incidents = [
        _incident(
            1, SERVICES[0], END - timedelta(days=50), timedelta(minutes=3), timedelta(hours=1)
        ),
        _incident(
            2, SERVICES[0], END - timedelta(days=10), timedelta(minutes=5), timedelta(minutes=30)
        ),
        _incident(
            3,
            SERVICES[1],
            END - timedelta(days=2),
            timedelta(hours=1),
            timedelta(days=2, hours=-1),
            urgency="low",
        ),
        _incident(4, SERVICES[1], END - timedelta(hours=1), None, None),
    ]
    return TinyAccount(incidents=incidents)
