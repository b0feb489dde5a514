"""An incident's planned events turned into API objects: log entries, alerts, the incident.

Entries at or after the account's end are cut; the rest get strictly increasing times in
planned order (a deliberately skewed resolve keeps its time), ids from the incident number,
and the incident object is derived from them (:func:`simulator.state.derive_incident_state`).
"""

from __future__ import annotations

from simulator._common import ALERT_BASE, API_BASE, WEB_BASE, iso
from simulator.life import Life
from simulator.org import ServiceInfo
from simulator.protocol import reference_as
from simulator.scenario import Scenario
from simulator.state import SimIncident, derive_incident_state


def assemble(scn: Scenario, life: Life, alert_number: int) -> SimIncident:
    """The SimIncident of a simulated life; its alerts are numbered from ``alert_number``."""
    entries, times = _entries(scn, life)
    resolved = life.resolve_time is not None and any(
        e["type"] == "resolve_log_entry" for e in entries
    )
    t_resolved = life.resolve_time if resolved else None
    alerts, alert_times = [], []
    for ta, _rule, labels, akey, summary, details, severity in life.rendered:
        if ta >= scn.end:
            continue
        a_res = t_resolved
        if a_res is not None and a_res < ta:
            a_res = ta  # a skewed resolve still resolves its alerts
        aid = scn.ids.pd_id(ALERT_BASE + alert_number + len(alerts))
        rendered = (summary, details, severity, labels, akey)
        alerts.append(_alert(life, aid, ta, a_res, rendered, entries[0]))
        alert_times.append((ta, a_res))
    trigger = next(e for e in entries if e["type"] == "trigger_log_entry")
    incident = derive_incident_state(_base_incident(scn, life, trigger), entries, alerts)
    return SimIncident(
        incident=incident,
        log_entries=entries,
        alerts=alerts,
        entry_times=times,
        alert_times=alert_times,
    )


def _entries(scn: Scenario, life: Life) -> tuple[list[dict], list[int]]:
    """Log entries (and their times) before the end, in time order."""
    plan, end, inc_id = life.plan, scn.end, life.inc_id
    # Keep entries before the end; ensure strictly increasing times in planned order
    # (a resolve deliberately skewed before the trigger keeps its time).
    life.events.sort(key=lambda e: e[0])
    entries: list[dict] = []
    times: list[int] = []
    last = None
    for t, etype, fields in life.events:
        if t >= end:
            continue
        skewed = plan.skew and etype == "resolve_log_entry"
        if not skewed:
            # Strictly increasing times keep (created_at, id) order equal to event order.
            if last is not None and t <= last:
                t = last + 1
                if t >= end:
                    continue
            last = t
        le_id = scn.ids.log_id(life.number, len(entries))
        entry = {
            "id": le_id,
            "type": etype,
            "summary": fields.pop("summary"),
            "self": f"{API_BASE}/log_entries/{le_id}",
            "html_url": f"{WEB_BASE}/incidents/{inc_id}/log_entries/{le_id}",
            "created_at": iso(t),
        }
        agent = fields.pop("agent")
        if agent is not None:
            entry["agent"] = agent
        entry.update(fields)
        entry["service"] = life.service.ref
        entry["incident"] = life.inc_ref
        entry["teams"] = life.teams
        entries.append(entry)
        times.append(t)
    # A skewed resolve sorts before the trigger by time; keep the list in time order.
    if plan.skew:
        order = sorted(range(len(entries)), key=lambda i: (times[i], entries[i]["id"]))
        entries = [entries[i] for i in order]
        times = [times[i] for i in order]
    return entries, times


def _alert(life: Life, aid: str, ta: int, resolved: int | None, rendered: tuple, first: dict):
    """The Alert object (``rendered``: summary, details, severity, labels, alert key)."""
    summary, details, severity, labels, akey = rendered
    s, inc_id = life.service, life.inc_id
    return {
        "id": aid,
        "type": "alert",
        "summary": summary,
        "self": f"{API_BASE}/incidents/{inc_id}/alerts/{aid}",
        "html_url": f"{WEB_BASE}/alerts/{aid}",
        "created_at": iso(ta),
        "status": "resolved" if resolved is not None else "triggered",
        "alert_key": akey,
        "service": s.ref,
        "first_trigger_log_entry": reference_as(first, "trigger_log_entry"),
        "incident": life.inc_ref,
        "suppressed": False,
        "severity": severity,
        "integration": s.integration,
        "body": {
            "type": "alert_body",
            "contexts": [],
            "details": details,
            "cef_details": cef(summary, severity, labels, details, akey, s.source_format, s),
        },
    }


def _base_incident(scn: Scenario, life: Life, trigger: dict) -> dict:
    """The incident object before its log entries are replayed into it."""
    plan, s, inc_ref = life.plan, life.service, life.inc_ref
    created = iso(plan.t)
    return {
        "id": life.inc_id,
        "type": "incident",
        "summary": inc_ref["summary"],
        "self": inc_ref["self"],
        "html_url": inc_ref["html_url"],
        "incident_number": life.number,
        "title": life.title,
        "description": life.title,
        "created_at": created,
        "updated_at": created,
        "status": "triggered",
        "incident_key": life.key,
        "service": s.ref,
        "assignments": [],
        "assigned_via": "escalation_policy",
        "last_status_change_at": created,
        "last_status_change_by": None,
        "resolved_at": None,
        "first_trigger_log_entry": reference_as(trigger, "trigger_log_entry"),
        "alert_counts": {"all": 0, "triggered": 0, "resolved": 0},
        "is_mergeable": True,
        "escalation_policy": life.ep.ref,
        "teams": life.teams,
        "pending_actions": [],
        "acknowledgements": [],
        "alert_grouping": (
            {
                "grouping_type": "advanced" if s.grouping == "intelligent" else "basic",
                "started_at": created,
                "alert_grouping_active": True,
            }
            if s.grouping
            else None
        ),
        "priority": (scn.org.priority_refs[plan.priority - 1] if plan.priority else None),
        "urgency": life.urgency,
        "resolve_reason": None,
        "incidents_responders": [],
        "responder_requests": [],
    }


def channel_word(channel_type: str) -> str:
    """How a log entry summary names a channel ("Triggered through the Nagios integration.")."""
    return {
        "api": "API",
        "nagios": "Nagios integration",
        "email": "e-mail integration",
        "auto": "service's auto-resolve",
    }.get(channel_type, channel_type)


# The sending tool of each alert format, as the event's `client` and `client_url` name it.
CLIENTS: dict[str, tuple[str, str]] = {
    "datadog": ("Datadog", "https://app.datadoghq.com/monitors"),
    "nagios": ("Nagios", "https://nagios.acme.example/nagios"),
    "email": ("E-mail", ""),
    "cloudwatch": ("Amazon CloudWatch", "https://console.aws.amazon.com/cloudwatch/home"),
    "grafana": ("Grafana", "https://grafana.acme.example/"),
    "uptimerobot": ("UptimeRobot", "https://dashboard.uptimerobot.com/monitors"),
}
ALERTMANAGER_CLIENT = ("Alertmanager", "http://alertmanager.monitoring.svc:9093")


def client_of(fmt: str) -> tuple[str, str]:
    """(client, client_url) of the tool that sends alerts of format ``fmt``."""
    return CLIENTS.get(fmt, ALERTMANAGER_CLIENT)


def cef(
    summary: str, severity: str, labels: dict, details: dict, key: str, fmt: str, s: ServiceInfo
) -> dict:
    """Common Event Format details as PagerDuty derives them from an event."""
    return {
        "client": client_of(fmt)[0],
        "dedup_key": key,
        "description": summary,
        "event_class": labels.get("alertname") or None,
        "message": summary,
        "severity": severity,
        "source_component": s.name,
        "source_origin": labels.get("host"),
        "service_group": s.namespace,
        "version": "1.0",
    }
