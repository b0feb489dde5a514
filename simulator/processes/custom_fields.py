"""Incident custom fields set by responders: ``root_cause`` and ``customer_impact``.

Some services (about :data:`SERVICE_SHARE` of them, fixed by the service id) have incident
custom fields. On their incidents a person acknowledged, the responder records the fields
while working on it, each as a ``custom_field_value_change_log_entry`` whose
``channel.changeset.customer_fields`` lists the change (``id``, ``name``, ``value`` as a list
of strings, ``old_value`` as text, ``namespace``) and whose ``changeset`` repeats it as text,
the shapes of PagerDuty's OpenAPI (its ``value`` is an integer or a list of strings). A few root causes are corrected later (a second change with the first
value as ``old_value``). The incident object does not carry the values: PagerDuty shows them
there only with ``GET /incidents/{id}?include[]=custom_fields``.

Like merges, this acts on simulated incidents after a chunk is simulated, from the chunk's own
``custom_fields`` RNG stream, so the other incidents' histories stay as they were. It runs
after the merges: a merged-away incident keeps the changes made before its merge only.
"""

from __future__ import annotations

import hashlib

from simulator._common import API_BASE, LOG_SLOTS, WEB_BASE, iso, seeded_rng
from simulator.plan import Plan
from simulator.scenario import Scenario
from simulator.state import SimIncident, derive_incident_state

SERVICE_SHARE = 0.4
FIELDS = {
    # name: (field id, options, weights)
    "root_cause": (
        "PCFRC01",
        ("deploy", "config", "capacity", "dependency", "hardware"),
        (0.35, 0.25, 0.15, 0.18, 0.07),
    ),
    "customer_impact": ("PCFCI01", ("none", "degraded", "outage"), (0.55, 0.35, 0.10)),
}
SET_PROBABILITY = {"root_cause": 0.7, "customer_impact": 0.55}
CORRECTION_PROBABILITY = 0.1  # a root cause changed again later
# Custom-field entries take log entry slots from the top, below the ones assembly numbers.
FIRST_SLOT = LOG_SLOTS - 1


def has_custom_fields(service_id: str) -> bool:
    """Whether a service's incidents have the custom fields (a fixed share of services)."""
    digest = hashlib.sha256(f"custom-fields:{service_id}".encode()).digest()
    return digest[0] < 256 * SERVICE_SHARE


def plant(scn: Scenario, index: int, plans: list[Plan], sims: list[SimIncident]) -> int:
    """Add the responders' custom-field changes to one chunk's incidents (in place); return
    how many change entries were added."""
    rng = seeded_rng(scn.seed, "custom_fields", index)
    added = 0
    for plan, sim in zip(plans, sims, strict=True):
        if not has_custom_fields(sim.incident["service"]["id"]):
            continue
        window = _working_window(sim, scn.end)
        if window is None:
            continue
        acked_at, done_at, user = window
        for name, (field_id, options, weights) in FIELDS.items():
            if rng.random() >= SET_PROBABILITY[name]:
                continue
            if name == "customer_impact" and plan.kind == "major":
                value = rng.choice(("degraded", "outage", "outage"))
            else:
                value = rng.choices(options, weights)[0]
            at = acked_at + int((done_at - acked_at) * rng.uniform(0.2, 0.9))
            added += _add_change(scn, sim, user, at, (field_id, name, value, None))
            if name == "root_cause" and rng.random() < CORRECTION_PROBABILITY:
                corrected = rng.choice([o for o in options if o != value])
                later = at + int((done_at - at) * rng.uniform(0.3, 0.9))
                added += _add_change(scn, sim, user, later, (field_id, name, corrected, value))
        # A change updates the incident (its updated_at) like any log entry.
        sim.incident = derive_incident_state(sim.incident, sim.log_entries, sim.alerts)
    return added


def _working_window(sim: SimIncident, end: int) -> tuple[int, int, dict] | None:
    """(first human acknowledgement, resolution or the end, acknowledger) or None."""
    acked_at, user, done_at = None, None, end - 1
    for e, t in zip(sim.log_entries, sim.entry_times, strict=True):
        agent = e.get("agent") or {}
        if acked_at is None and e["type"] == "acknowledge_log_entry":
            if agent.get("type") == "user_reference":
                acked_at, user = t, agent
        elif e["type"] == "resolve_log_entry" and acked_at is not None:
            done_at = t
    if acked_at is None or done_at - acked_at < 60:
        return None
    return acked_at, done_at, user


def _add_change(scn: Scenario, sim: SimIncident, user: dict, at: int, change: tuple) -> int:
    """Insert one change entry at ``at`` (moved to a free second) in time order."""
    field_id, name, value, old_value = change
    times = set(sim.entry_times)
    while at in times:
        at += 1
    slot = FIRST_SLOT - sum(
        1 for e in sim.log_entries if e["type"] == "custom_field_value_change_log_entry"
    )
    le_id = scn.ids.log_id(sim.incident["incident_number"], slot)
    incident = sim.incident
    entry = {
        "id": le_id,
        "type": "custom_field_value_change_log_entry",
        "summary": f"{user['summary']} updated {name}.",
        "self": f"{API_BASE}/log_entries/{le_id}",
        "html_url": f"{WEB_BASE}/incidents/{incident['id']}/log_entries/{le_id}",
        "created_at": iso(at),
        "agent": user,
        "channel": {
            "type": "website",
            "changeset": {
                "customer_fields": [
                    {
                        "id": field_id,
                        "name": name,
                        # The spec's value is an integer or a list of strings.
                        "value": [value],
                        "old_value": old_value,
                        "namespace": "incidents",
                    }
                ],
                "application_fields": [],
            },
        },
        "changeset": [f"Updated {name} to {value}"],
        "service": incident["service"],
        "incident": {k: incident[k] for k in ("id", "summary", "self", "html_url")}
        | {"type": "incident_reference"},
        "teams": incident.get("teams") or [],
    }
    position = next((i for i, t in enumerate(sim.entry_times) if t > at), len(sim.entry_times))
    sim.log_entries.insert(position, entry)
    sim.entry_times.insert(position, at)
    return 1
