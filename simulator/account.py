"""The simulated PagerDuty account: data model, deterministic generation and as-of views.

``generate_account(seed, days, scale, end)`` builds an organisation (:mod:`simulator.org`)
and its incidents (:mod:`simulator.incidents`) over ``[end - days, end)``. The same seed and
end give byte-identical objects. Every API object follows the shapes of PagerDuty's OpenAPI spec
(``components/schemas``: Incident, LogEntry and subtypes, Alert, Service, Team, User,
EscalationPolicy, Schedule, Oncall, Priority). The HTTP server (``simulator/server.py``)
serves these objects; the scale generator (``simulator/generate.py``) streams the same
incidents straight into the warehouse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from simulator._common import epoch, parse_iso

ACCOUNT_TIME_ZONE = "UTC"
ONCALL_LOOKAHEAD_DAYS = 14

# Log entry types that change an incident's status (for last_status_change_at).
_STATUS_TYPES = {
    "trigger_log_entry",
    "acknowledge_log_entry",
    "unacknowledge_log_entry",
    "resolve_log_entry",
}


@dataclass
class SimIncident:
    """One incident with its complete history.

    ``incident`` is the Incident API object in its final state (as of the account's end),
    ``log_entries`` the full LogEntry objects in ascending ``created_at`` (ties by id) and
    ``alerts`` the Alert objects in their final state.
    """

    incident: dict
    log_entries: list[dict]
    alerts: list[dict]
    # Epoch seconds of each log entry and of each alert's creation and resolution (None: open
    # at the end). Kept so that as_of() needs no timestamp parsing.
    entry_times: list[int] = field(default_factory=list, repr=False)
    alert_times: list[tuple[int, int | None]] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return self.incident["id"]

    @property
    def created_epoch(self) -> int:
        return parse_iso(self.incident["created_at"])

    def as_of(self, now: datetime) -> tuple[dict, list[dict], list[dict]] | None:
        """Incident, log entries and alerts as PagerDuty would show them at ``now``.

        None if the incident was created after ``now``. Log entries with ``created_at <= now``;
        status, acknowledgements, assignments, resolved_at, last_status_change_at,
        alert_counts and alert statuses are derived from the entries up to ``now``
        (acknowledgements are empty once resolved, as the spec says).
        """
        t_now = epoch(now)
        created = parse_iso(self.incident["created_at"])
        if created > t_now:
            return None
        times = self.entry_times or [parse_iso(e["created_at"]) for e in self.log_entries]
        # Entries are sorted by time except deliberate clock-skew resolves, so filter, not cut.
        entries = [e for e, t in zip(self.log_entries, times, strict=False) if t <= t_now]
        alert_times = self.alert_times or self._alert_times_from_objects()
        alerts = []
        for alert, (a_created, a_resolved) in zip(self.alerts, alert_times, strict=False):
            if a_created > t_now:
                continue
            status = "resolved" if a_resolved is not None and a_resolved <= t_now else "triggered"
            alerts.append(alert if alert["status"] == status else dict(alert, status=status))
        incident = derive_incident_state(self.incident, entries, alerts)
        return incident, entries, alerts

    def _alert_times_from_objects(self) -> list[tuple[int, int | None]]:
        """Alert (created, resolved) times for an incident built without ``alert_times``:
        a resolved alert is taken as resolved with its incident."""
        resolved_at = self.incident.get("resolved_at")
        out = []
        for alert in self.alerts:
            created = parse_iso(alert["created_at"])
            resolved = None
            if alert.get("status") == "resolved":
                resolved = max(created, parse_iso(resolved_at)) if resolved_at else created
            out.append((created, resolved))
        return out


def derive_incident_state(base: dict, entries: list[dict], alerts: list[dict]) -> dict:
    """The incident object implied by its log entries (in order) and its alerts.

    Replays the entries: a trigger assigns nothing by itself, assign/escalate set the current
    assignees, acknowledge adds an acknowledgement, unacknowledge clears them, resolve clears
    assignments and acknowledgements (PagerDuty returns both empty for a resolved incident).
    """
    status = "triggered"
    assignments: list[dict] = []
    acknowledgements: list[dict] = []
    resolved_at = None
    last_change = base["created_at"]
    last_change_by = None
    updated = base["created_at"]
    for e in entries:
        etype = e["type"]
        at = e["created_at"]
        if at > updated:
            updated = at
        if etype in ("assign_log_entry", "escalate_log_entry"):
            if status != "resolved":
                assignments = [{"at": at, "assignee": a} for a in e.get("assignees", [])]
        elif etype == "acknowledge_log_entry":
            if status != "resolved":
                if not any(a["acknowledger"]["id"] == e["agent"]["id"] for a in acknowledgements):
                    acknowledgements.append({"at": at, "acknowledger": e["agent"]})
                status = "acknowledged"
        elif etype == "unacknowledge_log_entry":
            if status == "acknowledged":
                status = "triggered"
                acknowledgements = []
        elif etype == "resolve_log_entry":
            status = "resolved"
            resolved_at = at
            assignments = []
            acknowledgements = []
        if etype in _STATUS_TYPES:
            last_change = max(last_change, at) if etype != "resolve_log_entry" else at
            last_change_by = e.get("agent")
    n_resolved = sum(1 for a in alerts if a["status"] == "resolved")
    out = dict(base)
    out.update(
        status=status,
        assignments=assignments,
        acknowledgements=acknowledgements,
        resolved_at=resolved_at,
        # The spec: while not acknowledged or resolved this is the incident's updated_at.
        last_status_change_at=updated if status == "triggered" else last_change,
        last_status_change_by=last_change_by,
        updated_at=updated,
        alert_counts={
            "all": len(alerts),
            "triggered": len(alerts) - n_resolved,
            "resolved": n_resolved,
        },
    )
    return out


@dataclass
class SimAccount:
    """A complete simulated PagerDuty account over ``[start, end)`` (UTC)."""

    seed: int
    start: datetime
    end: datetime
    account_time_zone: str
    teams: list[dict]
    users: list[dict]
    services: list[dict]
    escalation_policies: list[dict]
    schedules: list[dict]
    priorities: list[dict]
    oncalls: list[dict]  # OnCall objects covering [start, end + 14 days)
    incidents: list[SimIncident]  # ascending incident created_at
    ground_truth: dict  # JSON-serialisable, see docs/simulator.md
    token: str  # the API token the simulated server accepts

    def incident_by_id(self, incident_id: str) -> SimIncident | None:
        """The incident with this id, or None (built lazily, then O(1))."""
        index = self.__dict__.get("_by_id")
        if index is None:
            index = {i.incident["id"]: i for i in self.incidents}
            self.__dict__["_by_id"] = index
        return index.get(incident_id)


def default_end() -> datetime:
    """Today 00:00 UTC: the same seed gives the same account all day."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def account_digest(account: SimAccount) -> str:
    """SHA-256 over everything the account serves and plants, in a canonical JSON encoding.

    Two accounts with the same digest answer every API request identically: the tests use it
    to prove the simulated account does not depend on the machine, the date or ``../shared``.
    """
    h = hashlib.sha256()

    def feed(obj) -> None:
        h.update(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())
        h.update(b"\n")

    feed([account.seed, account.start.isoformat(), account.end.isoformat()])
    feed(account.account_time_zone)
    for part in (
        account.teams,
        account.users,
        account.services,
        account.escalation_policies,
        account.schedules,
        account.priorities,
        account.oncalls,
    ):
        feed(part)
    for inc in account.incidents:
        feed([inc.incident, inc.log_entries, inc.alerts, inc.entry_times, inc.alert_times])
    feed(account.ground_truth)
    feed(account.token)
    return h.hexdigest()


def account_token(seed: int) -> str:
    """The simulator's API token for a seed (not a secret: it only opens the simulator)."""
    return "sim-" + hashlib.sha256(f"pagerlens-sim-token:{seed}".encode()).hexdigest()[:24]


def default_volume(scale: float) -> float:
    """Incident volume per service for a scale: grows with the organisation.

    Scale 1 gives ~15-25 incidents a day; scale 8 gives ~2,700 a day (a year ~ 1M incidents),
    so per-service volume is ``scale ** 1.5`` (8 ** 1.5 ~ 23).
    """
    return scale**1.5


def generate_account(
    seed: int = 7,
    days: int = 90,
    scale: float = 1.0,
    end: datetime | None = None,
    *,
    volume: float | None = None,
) -> SimAccount:
    """Generate a deterministic simulated account covering ``[end - days, end)``.

    ``end`` defaults to today's 00:00 UTC. ``scale`` multiplies the organisation (scale 1:
    6 teams, 25 services, 40 users) and the incident volume with it (``volume`` overrides
    the per-service volume multiplier, see :func:`default_volume`).
    """
    from simulator.incidents import AccountGenerator

    gen = AccountGenerator(seed=seed, days=days, scale=scale, end=end, volume=volume)
    incidents: list[SimIncident] = []
    for chunk in gen.chunks():
        incidents.extend(chunk)
    org = gen.org
    return SimAccount(
        seed=seed,
        start=gen.start_dt,
        end=gen.end_dt,
        account_time_zone=ACCOUNT_TIME_ZONE,
        teams=org.teams,
        users=org.users,
        services=org.services,
        escalation_policies=org.escalation_policies,
        schedules=org.schedules,
        priorities=org.priorities,
        oncalls=org.oncalls,
        incidents=incidents,
        ground_truth=gen.ground_truth(),
        token=account_token(seed),
    )


__all__ = [
    "SimAccount",
    "SimIncident",
    "generate_account",
    "derive_incident_state",
    "account_token",
    "account_digest",
    "default_end",
    "default_volume",
    "ACCOUNT_TIME_ZONE",
]
