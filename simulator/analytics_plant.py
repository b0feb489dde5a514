"""Plant what the generated account lacks for reconciliation: integration acknowledgements.

The lifecycle (:mod:`simulator.lifecycle`) only has people acknowledge, so PagerDuty's
counting of an integration's acknowledgement (the ``integration_acks`` quirk of
:mod:`simulator.analytics`) would never show. :func:`with_integration_acks` returns a copy of
an account where every ``every``-th acknowledged incident (by incident number) was first
acknowledged by its service's integration, half-way between its creation and the first
person's acknowledgement. The original account is left untouched (servers share indexes by
account object), and the copy's ground truth lists the incidents as
``integration_ack_incident_ids``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from simulator._common import API_BASE, WEB_BASE, iso
from simulator.account import SimAccount
from simulator.state import SimIncident, derive_incident_state


def with_integration_acks(account: SimAccount, every: int = 5) -> SimAccount:
    """A copy of ``account`` with integration acknowledgements planted (see the module)."""
    planted: list[str] = []
    incidents = []
    for sim in account.incidents:
        changed = None
        if sim.incident["incident_number"] % every == 0:
            changed = _plant(sim)
        if changed is not None:
            planted.append(sim.id)
        incidents.append(changed or sim)
    truth = dict(account.ground_truth, integration_ack_incident_ids=planted)
    return replace(account, incidents=incidents, ground_truth=truth)


def _plant(sim: SimIncident) -> SimIncident | None:
    """The incident with an integration acknowledgement before its first person's, or None."""
    times = sim.entry_times
    human = [
        t
        for e, t in zip(sim.log_entries, times, strict=True)
        if e["type"] == "acknowledge_log_entry"
        and (e.get("agent") or {}).get("type") == "user_reference"
    ]
    created = sim.created_epoch
    integration = next((a.get("integration") for a in sim.alerts if a.get("integration")), None)
    if not human or integration is None or human[0] - created < 4:
        return None
    at = created + (human[0] - created) // 2
    entry = _entry(sim, at, integration)
    position = next(i for i, t in enumerate(times) if t > at)
    entries = sim.log_entries[:position] + [entry] + sim.log_entries[position:]
    entry_times = times[:position] + [at] + times[position:]
    incident = derive_incident_state(sim.incident, entries, sim.alerts)
    return replace(sim, incident=incident, log_entries=entries, entry_times=entry_times)


def _entry(sim: SimIncident, at: int, integration: dict) -> dict:
    inc_id = sim.id
    digest = hashlib.sha256(f"integration-ack:{inc_id}".encode()).hexdigest()[:25].upper()
    le_id = f"Q{digest}"
    first = sim.log_entries[0]
    return {
        "id": le_id,
        "type": "acknowledge_log_entry",
        "summary": "Acknowledged through the API.",
        "self": f"{API_BASE}/log_entries/{le_id}",
        "html_url": f"{WEB_BASE}/incidents/{inc_id}/log_entries/{le_id}",
        "created_at": iso(at),
        "agent": {
            "id": integration["id"],
            "type": "integration_reference",
            "summary": integration.get("summary"),
            "self": integration.get("self"),
            "html_url": integration.get("html_url"),
        },
        "channel": {"type": "api"},
        "acknowledgement_timeout": None,
        "service": first["service"],
        "incident": first["incident"],
        "teams": first["teams"],
    }
