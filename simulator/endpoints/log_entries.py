"""``/log_entries`` and ``/incidents/{id}/log_entries`` of the simulated PagerDuty.

Newest first, equal ``created_at`` by descending id; ``/log_entries`` defaults to the month
before the clock with no maximum range; ``is_overview=true`` leaves out notifications; without
``include[]=channels`` a trigger entry's channel loses its details.
"""

from __future__ import annotations

import bisect
import math
from zoneinfo import ZoneInfo

from simulator.index import NON_OVERVIEW_TYPES, AccountIndex, Snapshot
from simulator.pagination import Page
from simulator.protocol import (
    FAR_PAST,
    Query,
    add_months,
    dumps,
    invalid,
    parse_time,
    parse_zone,
    render_in_zone,
    render_zone,
)

LOG_ENTRY_DEFAULT_MONTHS = 1
# Parts of a trigger entry's channel PagerDuty only sends with include[]=channels.
CHANNEL_DETAIL_KEYS = frozenset({"details", "cef_details", "body"})
LOG_ENTRY_INCLUDES = frozenset({"incidents", "services", "channels", "teams"})


def entry_fragment(
    index: AccountIndex, gidx: int, snap: Snapshot, includes: frozenset[str], tz: ZoneInfo | None
) -> bytes:
    def build() -> bytes:
        entry = index.entries[gidx]
        channel = entry.get("channel")
        reduce_channel = (
            "channels" not in includes
            and isinstance(channel, dict)
            and entry.get("type") == "trigger_log_entry"
        )
        if not (reduce_channel or includes or tz):
            return dumps(entry)
        entry = dict(entry)
        if reduce_channel:
            entry["channel"] = {k: v for k, v in channel.items() if k not in CHANNEL_DETAIL_KEYS}
        by_id = index.by_id
        if "incidents" in includes:
            # The incident as of the clock: what the real API would show right now.
            entry["incident"] = snap.state(index.entry_incident[gidx])[0]
        if "services" in includes and isinstance(entry.get("service"), dict):
            entry["service"] = by_id["services"].get(entry["service"]["id"], entry["service"])
        if "teams" in includes and entry.get("teams"):
            entry["teams"] = [by_id["teams"].get(t["id"], t) for t in entry["teams"]]
        if tz is not None:
            entry = render_in_zone(entry, tz)
        return dumps(entry)

    key = ("entry", gidx, includes, tz)
    if "incidents" in includes:
        return snap.fragment(key, build)
    found = index.entry_fragments.get(key)
    if found is None:
        found = index.entry_fragments[key] = build()
    return found


def _list_request(
    index: AccountIndex, query: Query
) -> tuple[Page, ZoneInfo | None, ZoneInfo, frozenset[str]]:
    """What both log-entry lists read first: the page, the zone to render times in (None:
    as stored), the zone of a since/until without offset, and the includes asked for."""
    return (  # in this order: the first bad parameter is the one the 400 names
        Page.parse(query),
        render_zone(query),
        parse_zone(query.one("time_zone"), index.tz),
        frozenset(query.many("include")) & LOG_ENTRY_INCLUDES,
    )


def list_log_entries(index: AccountIndex, query: Query, snap: Snapshot) -> bytes:
    page, render_tz, parse_tz, includes = _list_request(index, query)
    until_text, since_text = query.one("until"), query.one("since")
    until = parse_time("until", until_text, parse_tz) if until_text else snap.now
    since = (
        parse_time("since", since_text, parse_tz)
        if since_text
        else add_months(until, -LOG_ENTRY_DEFAULT_MONTHS)
    )
    if since > until:
        raise invalid("since must not be after until")
    team_ids = frozenset(query.many("team_ids")) or None
    ts_list, gidx_list = index.entry_subset(query.flag("is_overview"), team_ids)
    # Entries exist up to the clock; the window is [since, until).
    hi = min(
        bisect.bisect_left(ts_list, until.timestamp()),
        bisect.bisect_right(ts_list, snap.now_ts),
    )
    lo = bisect.bisect_left(ts_list, since.timestamp())
    count = max(0, hi - lo)
    fragments = [
        entry_fragment(index, gidx_list[hi - 1 - i], snap, includes, render_tz)
        for i in page.slice(count)
    ]
    return page.body("log_entries", fragments, count)


def incident_log_entries(index: AccountIndex, pos: int, query: Query, snap: Snapshot) -> bytes:
    page, render_tz, parse_tz, includes = _list_request(index, query)
    since_text, until_text = query.one("since"), query.one("until")
    since_ts = parse_time("since", since_text, parse_tz).timestamp() if since_text else FAR_PAST
    until_ts = parse_time("until", until_text, parse_tz).timestamp() if until_text else math.inf
    if since_ts > until_ts:
        raise invalid("since must not be after until")
    overview = query.flag("is_overview")
    kept = [
        gidx
        for gidx in index.incident_entries[pos]
        if index.entry_ts[gidx] <= snap.now_ts
        and since_ts <= index.entry_ts[gidx] < until_ts
        and (not overview or index.entries[gidx].get("type") not in NON_OVERVIEW_TYPES)
    ]
    kept.reverse()  # newest first, like the account-wide list
    fragments = [
        entry_fragment(index, kept[i], snap, includes, render_tz) for i in page.slice(len(kept))
    ]
    return page.body("log_entries", fragments, len(kept))
