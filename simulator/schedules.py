"""On-call schedules of the simulated organisation and the on-call periods they give.

Each team has three schedules: Primary (weekly; teams with members abroad get a second
"Night cover" layer, 20:00-08:00 home time, taken by those members), Secondary (weekly,
shifted by one person) and Leads (fortnightly). The rendered timelines decide who is on call,
so ``/oncalls`` and the incidents' assignments agree.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from simulator._common import iso, ref
from simulator.org_model import OrgDraft, ScheduleInfo

WEEK = 7 * 86400


def weekly_monday(t0: int, hour_utc: int) -> int:
    """The Monday at hour_utc:00 UTC on or before epoch t0 (1970-01-05 was a Monday)."""
    monday0 = 4 * 86400
    weeks = (t0 - monday0 - hour_utc * 3600) // WEEK
    return monday0 + weeks * WEEK + hour_utc * 3600


def add_team_schedules(
    draft: OrgDraft, team_name: str, team_ref: dict, home_zone: str, members: list[int]
) -> list[int]:
    """Primary, Secondary and Leads schedules of a team; their indexes in ``draft.schedules``."""
    # Primary: weekly, plus a follow-the-sun night layer when the team has members abroad.
    home = [u for u in members if draft.user_info[u].time_zone in (home_zone, None)]
    abroad = [u for u in members if u not in home]
    if len(home) < 2:
        home, abroad = members, []
    handoff_hour = draft.rng.choice((8, 9, 15, 16))
    sched_idx = []
    for kind in ("Primary", "Secondary", "Leads"):
        sid = draft.new_id()
        sname = f"{team_name} {kind}"
        sref = ref("schedule", sid, sname, "schedules")
        virtual = weekly_monday(draft.start - 30 * 86400, handoff_hour)
        layers_spec = _layers(draft, kind, home, abroad, members, home_zone)
        layer_objs = _layer_objects(draft, layers_spec, virtual)
        info = ScheduleInfo(ref=sref)
        render_schedule(info, layers_spec, virtual, draft.start, draft.horizon)
        draft.schedule_info.append(info)
        draft.schedules.append(
            {
                "id": sid,
                "type": "schedule",
                "summary": sname,
                "self": sref["self"],
                "html_url": sref["html_url"],
                "name": sname,
                "time_zone": home_zone,
                "description": f"{kind} on-call rotation of {team_name}",
                # PagerDuty lists layers most recent (highest) first.
                "schedule_layers": list(reversed(layer_objs)),
                "escalation_policies": [],
                "users": [
                    draft.user_info[u].ref for u in sorted({u for ls in layers_spec for u in ls[0]})
                ],
                "teams": [team_ref],
            }
        )
        sched_idx.append(len(draft.schedules) - 1)
    return sched_idx


def _layers(
    draft: OrgDraft, kind: str, home: list[int], abroad: list[int], members: list[int], zone: str
) -> list[tuple[list[int], int, tuple[int, int] | None]]:
    """(users, turn length, night restriction (UTC hour, hours) or None) per layer."""
    layers_spec: list[tuple[list[int], int, tuple[int, int] | None]] = []
    if kind == "Primary":
        layers_spec.append((home, WEEK, None))
        if abroad:
            # Night layer: the abroad members cover the home team's night,
            # 20:00-08:00 home time (fixed UTC hours: DST shifts are ignored).
            offset = ZoneInfo(zone).utcoffset(datetime.fromtimestamp(draft.start, UTC))
            night_utc = (20 - round(offset.total_seconds() / 3600)) % 24
            layers_spec.append((abroad, WEEK, (night_utc, 12)))
    elif kind == "Secondary":
        rotated = members[1:] + members[:1]
        layers_spec.append((rotated, WEEK, None))
    else:
        layers_spec.append((members[:2], 2 * WEEK, None))
    return layers_spec


def _layer_objects(draft: OrgDraft, layers_spec, virtual: int) -> list[dict]:
    """The ScheduleLayer API objects of a schedule, lowest first."""
    layer_objs = []
    for li, (lusers, turn, restriction) in enumerate(layers_spec, start=1):
        layer = {
            "id": draft.new_id(),
            "name": f"Layer {li}" if li == 1 else "Night cover",
            "start": iso(virtual),
            "end": None,
            "rotation_virtual_start": iso(virtual),
            "rotation_turn_length_seconds": turn,
            "users": [{"user": draft.user_info[u].ref} for u in lusers],
            "restrictions": []
            if restriction is None
            else [
                {
                    "type": "daily_restriction",
                    # Restrictions are in the schedule's zone: 20:00 home time.
                    "start_time_of_day": "20:00:00",
                    "duration_seconds": restriction[1] * 3600,
                }
            ],
        }
        layer_objs.append(layer)
    return layer_objs


def render_schedule(info: ScheduleInfo, layers, virtual: int, start: int, horizon: int) -> None:
    """Compute the final timeline: upper layers win inside their restriction windows."""
    lo = start - WEEK * 3
    hi = horizon + WEEK * 3
    base_users, base_turn, _ = layers[0]
    points: list[tuple[int, int]] = []  # (segment start, user)
    k = (lo - virtual) // base_turn
    t = virtual + k * base_turn
    while t < hi:
        points.append((t, base_users[k % len(base_users)]))
        k += 1
        t += base_turn
    if len(layers) > 1:
        night_users, night_turn, (hour, hours) = layers[1]
        merged: list[tuple[int, int]] = []
        day = lo - lo % 86400
        windows = []
        while day < hi:
            ws = day + hour * 3600
            turn = (ws - virtual) // night_turn
            windows.append((ws, ws + hours * 3600, night_users[turn % len(night_users)]))
            day += 86400
        # Walk base segments and cut the night windows into them.
        bounds = sorted({p[0] for p in points} | {w[0] for w in windows} | {w[1] for w in windows})
        base_starts = [p[0] for p in points]
        wi = 0
        for b in bounds:
            while wi < len(windows) and windows[wi][1] <= b:
                wi += 1
            if wi < len(windows) and windows[wi][0] <= b < windows[wi][1]:
                user = windows[wi][2]
            else:
                user = points[max(0, bisect.bisect_right(base_starts, b) - 1)][1]
            merged.append((b, user))
        points = merged
    # Merge adjacent segments of the same user.
    for seg_start, user in points:
        if info.users and info.users[-1] == user:
            continue
        if info.starts:
            info.ends.append(seg_start)
        info.starts.append(seg_start)
        info.users.append(user)
    info.ends.append(hi)


def oncalls(ep_info, schedule_info, user_info, start: int, horizon: int) -> list[dict]:
    """OnCall objects for every escalation level, for the periods overlapping [start, horizon)."""
    out = []
    for ep in ep_info:
        for level, (s_i, _delay) in enumerate(ep.levels, start=1):
            sched = schedule_info[s_i]
            for seg_start, seg_end, u in zip(sched.starts, sched.ends, sched.users, strict=False):
                if seg_end <= start or seg_start >= horizon:
                    continue
                out.append(
                    {
                        "escalation_policy": ep.ref,
                        "escalation_level": level,
                        "schedule": sched.ref,
                        "user": user_info[u].ref,
                        "start": iso(seg_start),
                        "end": iso(seg_end),
                    }
                )
    out.sort(key=lambda o: (o["start"], o["escalation_policy"]["id"], o["escalation_level"]))
    return out
