"""Merged incidents: a responder merges a duplicate into the incident already open for it.

Unlike the alert processes, merging acts on simulated incidents: after a chunk's incidents are
simulated, an ordinary (``background``) incident created at most :data:`WINDOW` seconds after
an open, non-noise incident of the same service or of a service it depends on (or that
depends on it) is merged into that incident with probability :data:`MERGE_PROBABILITY`, a few
minutes after it triggered, if both are still open then. As PagerDuty does it
(``PUT /incidents/{id}/merge``):

* the duplicate's timeline stops at the merge: a ``resolve_log_entry`` by the user who merged
  (the survivor's first acknowledger by then, else the duplicate's assignee), and its incident
  object says ``resolve_reason: {type: merge_resolve_reason, incident: <survivor ref>}``;
* its alerts move to the survivor (``incident`` and ``self`` point there; they resolve with
  it), so ``GET /incidents/{survivor}/alerts`` lists them and the duplicate has none;
* a duplicate may already have been acknowledged, and a survivor may itself be merged later
  (its alerts, the moved ones included, then move on: a chain).

Draws come from the chunk's own ``merge`` RNG stream, so the other incidents stay as they were.
The ground truth records each merge (:meth:`simulator.truth.GroundTruth.record_merge`).
Simplification: the alerts are the survivor's from their creation on, also when the account
is read as of a moment before the merge.
"""

from __future__ import annotations

import math

from simulator._common import API_BASE, WEB_BASE, iso, seeded_rng
from simulator.plan import Plan
from simulator.protocol import reference_as
from simulator.scenario import Scenario
from simulator.state import SimIncident, derive_incident_state

WINDOW = 30 * 60  # a duplicate triggers within this many seconds of its survivor
MERGE_PROBABILITY = 0.75  # of such duplicates, the share a responder merges
MEDIAN_DELAY = 6 * 60  # seconds from the duplicate's trigger to the merge (log-normal)


def plant(scn: Scenario, index: int, plans: list[Plan], sims: list[SimIncident]) -> list[tuple]:
    """Merge duplicates among one chunk's simulated incidents (in place); return the merges
    as (duplicate id, survivor id, merged at epoch), in the order they were made."""
    rng = seeded_rng(scn.seed, "merge", index)
    merged_at: dict[int, int] = {}  # position -> when it was merged away
    into: dict[int, int] = {}  # position -> survivor position
    merges = []
    for j, plan in enumerate(plans):
        if plan.kind != "background":
            continue
        i = _survivor_of(plans, j)
        if i is None or rng.random() >= MERGE_PROBABILITY:
            continue
        at = plan.t + max(60, int(rng.lognormvariate(math.log(MEDIAN_DELAY), 0.6)))
        if at >= scn.end or not _open_at(sims[j], at) or not _open_at(sims[i], at):
            continue
        if i in merged_at and merged_at[i] <= at:
            continue  # the survivor was itself merged away by then
        final = i
        while final in into:
            final = into[final]
        _merge(scn, sims[j], sims[i], sims[final], at)
        merged_at[j], into[j] = at, i
        merges.append((sims[j].id, sims[i].id, at))
    return merges


def _survivor_of(plans: list[Plan], j: int) -> int | None:
    """The latest earlier non-noise incident within the window on a related service."""
    dup = plans[j]
    for i in range(j - 1, -1, -1):
        other = plans[i]
        if dup.t - other.t > WINDOW:
            return None
        if other.kind == "noise" or other.t == dup.t:
            continue
        a, b = dup.service, other.service
        if a is b or a.index in b.depends_on or b.index in a.depends_on:
            return i
    return None


def _resolved_at(sim: SimIncident) -> int | None:
    times = [t for e, t in zip(sim.log_entries, sim.entry_times, strict=True)
             if e["type"] == "resolve_log_entry"]  # fmt: skip
    return max(times) if sim.incident["status"] == "resolved" and times else None


def _open_at(sim: SimIncident, at: int) -> bool:
    resolved = _resolved_at(sim)
    return sim.created_epoch < at and (resolved is None or resolved > at)


def _merge(scn: Scenario, dup: SimIncident, survivor: SimIncident, final: SimIncident, at: int):
    """Resolve ``dup`` into ``survivor`` at ``at``; its alerts end at ``final`` (the chain's
    end, the survivor itself unless that was merged on)."""
    kept = [(e, t) for e, t in zip(dup.log_entries, dup.entry_times, strict=True) if t < at]
    entries = [e for e, _ in kept]
    agent = _merging_user(survivor, entries, at)
    number = dup.incident["incident_number"]
    le_id = scn.ids.log_id(number, len(entries))
    survivor_ref = reference_as(survivor.incident, "incident")
    entries.append(
        {
            "id": le_id,
            "type": "resolve_log_entry",
            "summary": f"Resolved by {agent['summary']} (merged into "
            f"#{survivor.incident['incident_number']}).",
            "self": f"{API_BASE}/log_entries/{le_id}",
            "html_url": f"{WEB_BASE}/incidents/{dup.id}/log_entries/{le_id}",
            "created_at": iso(at),
            "agent": agent,
            "channel": {"type": "website"},
            "service": dup.incident["service"],
            "incident": reference_as(dup.incident, "incident"),
            "teams": dup.incident.get("teams") or [],
        }
    )
    resolved = _resolved_at(final)
    target_ref = reference_as(final.incident, "incident")
    for alert, (created, _resolved) in zip(dup.alerts, dup.alert_times, strict=True):
        done = None if resolved is None else max(created, resolved)
        final.alerts.append(
            dict(
                alert,
                incident=target_ref,
                self=f"{API_BASE}/incidents/{final.id}/alerts/{alert['id']}",
                status="resolved" if done is not None else "triggered",
            )
        )
        final.alert_times.append((created, done))
    final.incident = derive_incident_state(final.incident, final.log_entries, final.alerts)
    base = dict(
        dup.incident,
        resolve_reason={"type": "merge_resolve_reason", "incident": survivor_ref},
    )
    dup.log_entries = entries
    dup.entry_times = [t for _, t in kept] + [at]
    dup.alerts, dup.alert_times = [], []
    dup.incident = derive_incident_state(base, entries, [])


def _merging_user(survivor: SimIncident, dup_entries: list[dict], at: int) -> dict:
    """The survivor's first acknowledger before ``at``, else the duplicate's last assignee."""
    for e, t in zip(survivor.log_entries, survivor.entry_times, strict=True):
        if t < at and e["type"] == "acknowledge_log_entry":
            agent = e.get("agent") or {}
            if agent.get("type") == "user_reference":
                return agent
    for e in reversed(dup_entries):
        if e["type"] in ("assign_log_entry", "escalate_log_entry") and e.get("assignees"):
            return e["assignees"][0]
    raise ValueError(f"incident {dup_entries[0]['incident']['id']} was never assigned")
