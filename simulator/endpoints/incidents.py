"""``/incidents``, ``/incidents/{id}`` and ``/incidents/{id}/alerts`` of the simulated PagerDuty.

``created_at`` in ``[since, until)`` (default: the month before the clock; over six months is
refused; ``date_range=all`` ignores both), filters as of the clock, ``sort_by``, includes.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from simulator.index import AccountIndex, Snapshot
from simulator.pagination import Page
from simulator.protocol import (
    Query,
    add_months,
    dumps,
    epoch_of,
    invalid,
    not_found,
    parse_time,
    parse_zone,
    render_in_zone,
    render_zone,
)

# /incidents: "Maximum range is 6 months and default is 1 month" (listIncidents, since/until).
INCIDENT_DEFAULT_MONTHS = 1
INCIDENT_MAX_MONTHS = 6
INCIDENT_INCLUDES = frozenset(
    {
        "services",
        "teams",
        "escalation_policies",
        "first_trigger_log_entries",
        "assignees",
        "acknowledgers",
        "priorities",
    }
)
# sort_by=urgency:desc puts high-urgency incidents first.
URGENCY_RANK = {"low": 0, "high": 1}


def incident_pos(index: AccountIndex, incident_id: str, snap: Snapshot) -> int:
    pos = index.incident_pos.get(incident_id)
    if pos is None or pos >= snap.incident_count:
        raise not_found()
    return pos


def incident_fragment(
    index: AccountIndex, pos: int, snap: Snapshot, includes: frozenset[str], tz: ZoneInfo | None
) -> bytes:
    def build() -> bytes:
        return dumps(incident_object(index, pos, snap, includes, tz))

    return snap.fragment(("incident", pos, includes, tz), build)


def incident_object(
    index: AccountIndex, pos: int, snap: Snapshot, includes: frozenset[str], tz: ZoneInfo | None
) -> dict:
    incident, entries, _ = snap.state(pos)
    if includes:
        incident = dict(incident)
        by_id = index.by_id
        if "services" in includes and incident.get("service"):
            incident["service"] = by_id["services"].get(
                incident["service"]["id"], incident["service"]
            )
        if "teams" in includes:
            incident["teams"] = [
                by_id["teams"].get(t["id"], t) for t in incident.get("teams") or []
            ]
        if "escalation_policies" in includes and incident.get("escalation_policy"):
            ref = incident["escalation_policy"]
            incident["escalation_policy"] = by_id["escalation_policies"].get(ref["id"], ref)
        if "priorities" in includes and incident.get("priority"):
            ref = incident["priority"]
            incident["priority"] = by_id["priorities"].get(ref["id"], ref)
        if "first_trigger_log_entries" in includes:
            trigger = next(
                (
                    e
                    for e in sorted(entries, key=lambda e: (e["created_at"], e["id"]))
                    if e.get("type") == "trigger_log_entry"
                ),
                None,
            )
            if trigger is not None:
                incident["first_trigger_log_entry"] = trigger
        if "assignees" in includes:
            incident["assignments"] = [
                {**a, "assignee": by_id["users"].get(a["assignee"]["id"], a["assignee"])}
                if isinstance(a.get("assignee"), dict)
                else a
                for a in incident.get("assignments") or []
            ]
        if "acknowledgers" in includes:
            incident["acknowledgements"] = [
                {
                    **a,
                    "acknowledger": by_id["users"].get(
                        a["acknowledger"].get("id"), a["acknowledger"]
                    ),
                }
                if isinstance(a.get("acknowledger"), dict)
                else a
                for a in incident.get("acknowledgements") or []
            ]
    if tz is not None:
        incident = render_in_zone(incident, tz)
    return incident


def list_incidents(index: AccountIndex, query: Query, snap: Snapshot) -> bytes:
    page = Page.parse(query)
    render_tz = render_zone(query)
    parse_tz = parse_zone(query.one("time_zone"), index.tz)
    includes = frozenset(query.many("include")) & INCIDENT_INCLUDES
    lo, hi = _window(index, query, snap, parse_tz)

    statuses = frozenset(query.many("statuses"))
    bad = statuses - {"triggered", "acknowledged", "resolved"}
    if bad:
        raise invalid("Status must be a list of triggered, acknowledged, or resolved.")
    service_ids = frozenset(query.many("service_ids"))
    team_ids = frozenset(query.many("team_ids"))
    urgencies = frozenset(query.many("urgencies"))
    if urgencies - {"high", "low"}:
        raise invalid("Urgencies must be a list of high or low.")
    sort_keys = parse_incident_sort(query.many("sort_by"))
    user_ids = frozenset(query.many("user_ids"))
    incident_key = query.one("incident_key") or None

    positions: Sequence[int]
    filtered = statuses or service_ids or team_ids or urgencies or user_ids or incident_key
    if not (filtered or sort_keys):
        positions = range(lo, hi)  # the index order is the default order: no copy needed
    else:
        key = (
            "incidents",
            lo,
            hi,
            statuses,
            service_ids,
            team_ids,
            urgencies,
            user_ids,
            incident_key,
            tuple(sort_keys),
        )

        def compute() -> list[int]:
            kept = []
            for pos in range(lo, hi):
                incident = snap.state(pos)[0]
                if statuses and incident.get("status") not in statuses:
                    continue
                if service_ids and (incident.get("service") or {}).get("id") not in service_ids:
                    continue
                if team_ids and not team_ids & {t["id"] for t in incident.get("teams") or []}:
                    continue
                if urgencies and incident.get("urgency") not in urgencies:
                    continue
                if incident_key and incident.get("incident_key") != incident_key:
                    continue
                # "Currently assigned to": a resolved incident has no assignments.
                if user_ids and not user_ids & {
                    (a.get("assignee") or {}).get("id") for a in incident.get("assignments") or []
                }:
                    continue
                kept.append(pos)
            return sort_incidents(kept, sort_keys, snap)

        positions = snap.query(key, compute)
    fragments = [
        incident_fragment(index, positions[i], snap, includes, render_tz)
        for i in page.slice(len(positions))
    ]
    return page.body("incidents", fragments, len(positions))


def _window(
    index: AccountIndex, query: Query, snap: Snapshot, parse_tz: ZoneInfo
) -> tuple[int, int]:
    """Positions [lo, hi) of the incidents created in the request's window (up to the clock)."""
    if query.one("date_range") == "all":
        return 0, snap.incident_count
    if query.one("date_range") not in (None, ""):
        raise invalid("date_range must be 'all'")
    since_text, until_text = query.one("since"), query.one("until")
    until = parse_time("until", until_text, parse_tz) if until_text else snap.now
    if since_text:
        since = parse_time("since", since_text, parse_tz)
    else:
        since = add_months(until, -INCIDENT_DEFAULT_MONTHS)
    if since > until:
        raise invalid("since must not be after until")
    if since < add_months(until, -INCIDENT_MAX_MONTHS):
        raise invalid(f"The date range may not exceed {INCIDENT_MAX_MONTHS} months")
    lo = bisect.bisect_left(index.incident_ts, since.timestamp(), 0, snap.incident_count)
    hi = bisect.bisect_left(index.incident_ts, until.timestamp(), 0, snap.incident_count)
    return lo, hi


def parse_incident_sort(values: list[str]) -> list[tuple[str, bool]]:
    keys = []
    for value in values:
        field, _, direction = value.partition(":")
        if field not in (
            "incident_number",
            "created_at",
            "resolved_at",
            "urgency",
        ) or direction not in ("", "asc", "desc"):
            raise invalid(f"sort_by {value!r} is not supported")
        keys.append((field, direction == "desc"))
    if len(keys) > 2:
        raise invalid("sort_by takes at most two fields")
    return keys


def sort_incidents(positions: list[int], keys: list[tuple[str, bool]], snap: Snapshot) -> list[int]:
    # Stable sorts applied from the last key to the first give a multi-key sort with
    # per-key directions; the index order (created_at, incident_number) breaks ties.
    for field, descending in reversed(keys):

        def sort_key(pos: int, field: str = field) -> tuple:
            value = snap.state(pos)[0].get(field)
            if field in ("created_at", "resolved_at"):
                value = epoch_of(value) if value else None
            elif field == "urgency":
                value = URGENCY_RANK.get(value)
            # None (never resolved) sorts last ascending, first descending.
            return (value is None, value if value is not None else 0)

        positions = sorted(positions, key=sort_key, reverse=descending)
    return positions


def get_incident(index: AccountIndex, pos: int, query: Query, snap: Snapshot) -> bytes:
    includes = frozenset(query.many("include")) & INCIDENT_INCLUDES
    fragment = incident_fragment(index, pos, snap, includes, render_zone(query))
    return b'{"incident":' + fragment + b"}"


def incident_alerts(index: AccountIndex, pos: int, query: Query, snap: Snapshot) -> bytes:
    page = Page.parse(query)
    alerts = list(snap.state(pos)[2])
    statuses = frozenset(query.many("statuses"))
    if statuses - {"triggered", "resolved"}:
        raise invalid("Status must be a list of triggered or resolved.")
    if statuses:
        alerts = [a for a in alerts if a.get("status") in statuses]
    alert_key = query.one("alert_key")
    if alert_key:
        alerts = [a for a in alerts if a.get("alert_key") == alert_key]
    sort = query.one("sort_by") or "created_at:asc"
    field, _, direction = sort.partition(":")
    if field not in ("created_at", "resolved_at") or direction not in ("", "asc", "desc"):
        raise invalid(f"sort_by {sort!r} is not supported")
    alerts.sort(
        key=lambda a: (a.get(field) is None, epoch_of(a.get(field)), a.get("id", "")),
        reverse=direction == "desc",
    )
    tz = render_zone(query)
    fragments = [
        dumps(render_in_zone(alerts[i], tz) if tz else alerts[i]) for i in page.slice(len(alerts))
    ]
    return page.body("alerts", fragments, len(alerts))
