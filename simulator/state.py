"""One simulated incident and its state at any moment (the ``as_of`` view).

:class:`SimIncident` holds an incident's complete history; :func:`derive_incident_state`
replays its log entries into the Incident object PagerDuty would show. The generator builds
incidents with it and the server serves them as of its clock; the account model
(:mod:`simulator.account`) re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from simulator._common import epoch, parse_iso

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
        # A merge's reason shows once the merge (its resolve entry) has happened.
        resolve_reason=base.get("resolve_reason") if status == "resolved" else None,
        alert_counts={
            "all": len(alerts),
            "triggered": len(alerts) - n_resolved,
            "resolved": n_resolved,
        },
    )
    return out
