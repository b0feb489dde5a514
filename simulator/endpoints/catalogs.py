"""The catalogs (``/services``, ``/teams``, ``/users``, ``/escalation_policies``,
``/schedules``, ``/priorities``, each with ``/{id}`` but priorities) and ``/oncalls``."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from simulator.index import AccountIndex, Snapshot
from simulator.orchestrations import with_settings
from simulator.pagination import Page
from simulator.protocol import (
    Query,
    dumps,
    invalid,
    not_found,
    parse_time,
    parse_zone,
    reference,
    render_in_zone,
    render_zone,
)

USER_INCLUDES = frozenset({"contact_methods", "notification_rules"})
# PagerDuty sends this object on every service; the simulated organisation does not model
# auto-pause (it would hold back the transient incidents the account plants), so every
# service shows it switched off.
AUTO_PAUSE_OFF = {"enabled": False}


def catalog_fragment(
    index: AccountIndex, name: str, item_index: int, includes: frozenset[str]
) -> bytes:
    key = (name, item_index, includes)
    found = index.catalog_fragments.get(key)
    if found is None:
        item = index.catalogs[name][item_index]
        if name == "users":
            item = dict(item)
            for field in USER_INCLUDES - includes:
                if isinstance(item.get(field), list):
                    item[field] = [reference(x) if isinstance(x, dict) else x for x in item[field]]
        elif name == "services" and "auto_pause_notifications_parameters" not in item:
            item = dict(item, auto_pause_notifications_parameters=dict(AUTO_PAUSE_OFF))
        if name == "services":  # settings switched on where the incidents allow it
            item = with_settings(index, item)
        found = dumps(item)
        index.catalog_fragments[key] = found
    return found


def list_catalog(index: AccountIndex, name: str, query: Query) -> bytes:
    page = Page.parse(query)
    if query.one("time_zone"):
        parse_zone(query.one("time_zone"), ZoneInfo("UTC"))  # validated, rendered as stored
    includes = frozenset(query.many("include")) & USER_INCLUDES if name == "users" else frozenset()
    items = index.catalogs[name]
    positions: Sequence[int] = range(len(items))
    text = (query.one("query") or "").lower()
    team_ids = frozenset(query.many("team_ids"))
    exact_name = query.one("name")
    if text or team_ids or exact_name:
        positions = [
            i
            for i in positions
            if text in str(items[i].get("name", "")).lower()
            and (not exact_name or items[i].get("name") == exact_name)
            and (not team_ids or team_ids & {t["id"] for t in items[i].get("teams") or []})
        ]
    sort = query.one("sort_by")
    if sort in ("name:desc",) and name in ("services", "escalation_policies"):
        positions = list(reversed(positions))
    fragments = [
        catalog_fragment(index, name, positions[i], includes) for i in page.slice(len(positions))
    ]
    return page.body(name, fragments, len(positions))


def get_catalog_item(index: AccountIndex, name: str, item_id: str, query: Query) -> bytes:
    items = index.catalogs[name]
    for i, item in enumerate(items):
        if item["id"] == item_id:
            includes = (
                frozenset(query.many("include")) & USER_INCLUDES if name == "users" else frozenset()
            )
            singular = name[:-3] + "y" if name.endswith("ies") else name[:-1]
            return (
                b'{"'
                + singular.encode()
                + b'":'
                + catalog_fragment(index, name, i, includes)
                + b"}"
            )
    raise not_found()


def list_oncalls(index: AccountIndex, query: Query, snap: Snapshot) -> bytes:
    page = Page.parse(query)
    parse_tz = parse_zone(query.one("time_zone"), index.tz)
    render_tz = render_zone(query)
    since_text, until_text = query.one("since"), query.one("until")
    # "Defaults to current time": the clock, for both ends.
    since = parse_time("since", since_text, parse_tz) if since_text else snap.now
    until = parse_time("until", until_text, parse_tz) if until_text else snap.now
    if since > until:
        raise invalid("until cannot be before since")
    since_ts, until_ts = since.timestamp(), until.timestamp()
    schedule_ids = frozenset(query.many("schedule_ids"))
    ep_ids = frozenset(query.many("escalation_policy_ids"))
    user_ids = frozenset(query.many("user_ids"))
    earliest = query.flag("earliest")

    key = ("oncalls", since_ts, until_ts, schedule_ids, ep_ids, user_ids, earliest)

    def compute() -> list[int]:
        # Candidates: permanent on-calls plus shifts starting no earlier than the longest
        # shift before `since` and no later than `until` (bisect on the sorted starts).
        lo = bisect.bisect_left(index.oncall_start, since_ts - index.longest_oncall)
        hi = bisect.bisect_right(index.oncall_start, until_ts)
        candidates = sorted(set(index.permanent_oncalls) | set(range(lo, hi)))
        kept: list[int] = []
        seen: set[tuple] = set()
        for i in candidates:
            oncall = index.oncalls[i]
            start, end = index.oncall_start[i], index.oncall_end[i]
            # Overlap with [since, until]; a zero-length query asks "who is on call then".
            if not (start <= until_ts and end > since_ts):
                continue
            schedule_id = (oncall.get("schedule") or {}).get("id")
            ep_id = (oncall.get("escalation_policy") or {}).get("id")
            user_id = (oncall.get("user") or {}).get("id")
            if schedule_ids and schedule_id not in schedule_ids:
                continue
            if ep_ids and ep_id not in ep_ids:
                continue
            if user_ids and user_id not in user_ids:
                continue
            if earliest:
                group = (ep_id, oncall.get("escalation_level"), user_id)
                if group in seen:
                    continue
                seen.add(group)
            kept.append(i)
        return kept

    positions = snap.query(key, compute)
    fragments = [
        dumps(render_in_zone(index.oncalls[positions[i]], render_tz))
        if render_tz
        else index.oncall_fragments[positions[i]]
        for i in page.slice(len(positions))
    ]
    return page.body("oncalls", fragments, len(positions))
