"""Incident lifecycles, following PagerDuty's semantics.

Trigger, assignment through the escalation policy, notifications per the user's contact
rules, acknowledgement delays slower at night in the responder's local time, escalation after
each level's timeout, then the people's part (:mod:`simulator.responders`) and the resolution:
by a person, by the integration, by the service's auto-resolve timeout, or not before the end.

Each step draws from the chunk's lifecycle RNG; :func:`simulate_incident` runs them in the one
order that fixes the account, so a step must never be reordered or skipped conditionally.
"""

from __future__ import annotations

import math

from simulator import responders
from simulator._common import API_BASE, INCIDENT_BASE, WEB_BASE, iso, parse_iso
from simulator.assemble import assemble, cef, channel_word, client_of
from simulator.life import Life
from simulator.plan import DAY, Plan
from simulator.responders import HUMAN_CHANNELS, ack_delay, acknowledge, notify
from simulator.scenario import Scenario
from simulator.state import SimIncident
from simulator.templates import render_alert


def simulate_incident(
    scn: Scenario, rng, plan: Plan, number: int, alert_number: int
) -> SimIncident:
    """The incident ``number`` of a plan, its alerts numbered from ``alert_number``."""
    life = _start(scn, rng, plan, number)
    _trigger(life)
    _assign(scn, life)
    _decide_outcome(scn, rng, life)
    _escalate(scn, rng, life)
    if _acknowledged(scn, life):
        _respond(scn, rng, life)
    if not plan.stale:
        _resolve_without_people(scn, rng, life)
    if life.resolve_time is not None:
        _resolve_entry(rng, life)
    return assemble(scn, life, alert_number)


def _start(scn: Scenario, rng, plan: Plan, number: int) -> Life:
    """Render the planned alerts and build the incident's references."""
    org = scn.org
    s = plan.service
    inc_id = scn.ids.pd_id(INCIDENT_BASE + number)
    rendered = []
    for ta, rule, labels, key in plan.alerts:
        summary, details, severity = render_alert(
            rule, labels, scn.makers[s.index], s.source_format, iso(ta), rng
        )
        rendered.append((ta, rule, labels, key, summary, details, severity))
    inc_ref = {
        "id": inc_id,
        "type": "incident_reference",
        "summary": f"[#{number}] {rendered[0][4]}",
        "self": f"{API_BASE}/incidents/{inc_id}",
        "html_url": f"{WEB_BASE}/incidents/{inc_id}",
    }
    return Life(
        plan=plan,
        service=s,
        number=number,
        inc_id=inc_id,
        rendered=rendered,
        inc_ref=inc_ref,
        teams=[org.team_info[s.team_index].ref],
        ep=org.ep_info[s.ep_index],
        urgency="high" if plan.priority else s.urgency,
    )


def _trigger(life: Life) -> None:
    s = life.service
    fmt = s.source_format
    channel_type = {"nagios": "nagios", "email": "email"}.get(fmt, "api")
    _ta, _rule, labels, key, summary, details, severity = life.rendered[0]
    trig_channel = {
        "type": channel_type,
        "summary": summary,
        "details": details,
        "cef_details": cef(summary, severity, labels, details, key, fmt, s),
        "incident_key": key,
    }
    if channel_type == "api":
        trig_channel["client"], trig_channel["client_url"] = client_of(fmt)
    life.add(
        life.t0,
        "trigger_log_entry",
        agent=s.ref,
        channel=trig_channel,
        summary=f"Triggered through the {channel_word(channel_type)}.",
        event_details={"description": summary},
        contexts=[],
    )


def _assign(scn: Scenario, life: Life) -> None:
    """The first assignment: the level-1 on-call user."""
    org = scn.org
    life.level = 0
    life.level_user = org.schedule_info[life.ep.levels[0][0]].user_at(life.t0)
    life.assignees = [life.level_user]
    life.add(
        life.t0 + 1,
        "assign_log_entry",
        agent=life.service.ref,
        channel={"type": "auto"},
        assignees=[org.user_info[life.level_user].ref],
        summary=f"Assigned to {org.user_info[life.level_user].name}.",
    )


def _decide_outcome(scn: Scenario, rng, life: Life) -> None:
    """When it would end without people, and whether and when someone acknowledges."""
    plan, s, t0 = life.plan, life.service, life.t0
    life.auto_at = plan.auto_resolve_at
    if s.auto_resolve_timeout and plan.kind not in ("major",):
        life.timeout_at = t0 + s.auto_resolve_timeout
    acked = plan.ack_prob >= 1.0 or rng.random() < plan.ack_prob
    if plan.kind == "background" and rng.random() < 0.08:
        acked = False  # paged, nobody reacted, integration or timeout resolves it
        life.auto_at = t0 + int(rng.lognormvariate(math.log(1800), 1.0))
    elif plan.kind == "background" and rng.random() < 0.2:
        # Acknowledged, then the integration resolves it when the condition clears.
        life.auto_at = t0 + int(rng.lognormvariate(math.log(2400), 1.2))
    t_assign = t0 + 1
    if acked:
        delay = ack_delay(scn, rng, life.level_user, t_assign, life.urgency)
        if plan.kind == "major":
            delay = max(10, delay // 3)
        life.ack_time = t_assign + delay
    if (
        life.ack_time is None
        and life.auto_at is None
        and life.timeout_at is None
        and not plan.stale
    ):
        # Nobody acknowledges and nothing resolves it: someone closes it eventually.
        life.close_at = t0 + int(rng.lognormvariate(math.log(3 * 3600), 1.0))
    life.stop_at = min(
        x
        for x in (life.auto_at, life.timeout_at, life.ack_time, life.close_at, scn.end + 10 * DAY)
        if x is not None
    )


def _escalate(scn: Scenario, rng, life: Life) -> None:
    """Walk the escalation policy until someone acknowledges or the incident resolves."""
    org, ep = scn.org, life.ep
    loops = 0
    cur = life.t0 + 1
    while True:
        esc_at = cur + ep.levels[life.level][1]
        # Each level's assignees are notified until they act or the incident moves on.
        notify(scn, life, rng, life.assignees, cur, min(life.stop_at, esc_at))
        if esc_at >= life.stop_at:
            break
        nxt = life.level + 1
        if nxt >= len(ep.levels):
            if loops >= ep.num_loops:
                break
            loops += 1
            nxt = 0
        life.level = nxt
        life.level_user = org.schedule_info[ep.levels[nxt][0]].user_at(esc_at)
        life.assignees = [life.level_user]
        user = org.user_info[life.level_user]
        life.add(
            esc_at,
            "escalate_log_entry",
            agent=life.service.ref,
            channel={"type": "timeout"},
            assignees=[user.ref],
            summary=f"Escalated to {user.name} (level {nxt + 1}) by timeout.",
        )
        cur = esc_at
        if life.ack_time is not None and nxt > 0:
            # The escalated person usually reacts faster than the one who slept through.
            alt = esc_at + ack_delay(scn, rng, life.level_user, esc_at, life.urgency) // 2
            if alt < life.ack_time:
                life.ack_time = alt
                life.stop_at = min(life.stop_at, alt)


def _acknowledged(scn: Scenario, life: Life) -> bool:
    """True if someone acknowledges before anything resolves it (and before the horizon)."""
    ack_time = life.ack_time
    return (
        ack_time is not None
        and (life.auto_at is None or ack_time < life.auto_at)
        and (life.timeout_at is None or ack_time < life.timeout_at)
        and ack_time < scn.end + 10 * DAY
    )


def _respond(scn: Scenario, rng, life: Life) -> None:
    """Acknowledged: the people's part, up to a person resolving it (unless stale)."""
    plan, s = life.plan, life.service
    life.acker = life.assignees[0]
    life.ackers.append(life.acker)
    acknowledge(scn, life, life.acker, life.ack_time, rng.choice(HUMAN_CHANNELS))
    if rng.random() < 0.04:  # acknowledged twice (double tap on phone and laptop)
        acknowledge(scn, life, life.acker, life.ack_time + rng.randint(2, 40), "mobile")
    life.work = _work_time(scn, rng, life)
    life.human_resolve = life.ack_time + life.work
    # Extra responders: majors pull in 2-4 people; a few ordinary incidents a second one
    # (2+ acknowledging users make an incident major by docs/metrics.md, so keep it rare).
    extra = plan.responders - 1
    if plan.kind == "background" and rng.random() < 0.06:
        extra = 1
    if extra > 0:
        responders.add_helpers(scn, life, rng, extra)
    elif plan.kind == "background" and rng.random() < 0.05:
        responders.reassign(scn, life, rng)
    responders.add_notes(scn, life, rng)
    if plan.kind == "background" and rng.random() < 0.03 and life.work > 1800:
        responders.snooze(scn, life, rng)
    elif (
        s.acknowledgement_timeout
        and plan.kind != "major"
        and life.human_resolve - life.ack_time > s.acknowledgement_timeout
        and rng.random() < 0.5
    ):
        responders.acknowledgement_timeout(scn, life, rng)
    if plan.priority is None and plan.kind == "background" and rng.random() < 0.15:
        plan.priority = rng.choice((3, 3, 4, 4, 5))  # triaged by the responder
    if not plan.stale:
        life.resolve_time = life.human_resolve
        ackers = life.ackers
        life.resolve_agent = scn.org.user_info[rng.choice(ackers[:1] * 3 + ackers)].ref
        life.resolve_channel = rng.choice(HUMAN_CHANNELS)


def _work_time(scn: Scenario, rng, life: Life) -> int:
    """Seconds of work from acknowledgement until a person resolves it."""
    plan = life.plan
    if plan.kind == "major":
        outage = scn.truth.outage(plan.gt[1])
        # How long the outage takes to fix (shared by every incident of the outage).
        if outage is not None:
            return int(outage["_duration"] * rng.uniform(0.85, 1.0))
        return int(rng.lognormvariate(math.log(2.5 * 3600), 0.5))
    if plan.kind == "storm_root":
        return max(300, _storm_recovery(scn, plan) - life.ack_time)
    return int(rng.lognormvariate(math.log(50 * 60), 1.85))


def _storm_recovery(scn: Scenario, plan: Plan) -> int:
    """When the storm's root recovers (its planned end)."""
    storm = scn.truth.storm(plan.gt[1])
    return parse_iso(storm["end"]) if storm is not None else plan.t + 3600


def _resolve_without_people(scn: Scenario, rng, life: Life) -> None:
    """Automatic resolutions win when they come first; else the storm's end or a closer."""
    plan, s = life.plan, life.service
    if life.auto_at is not None and (life.resolve_time is None or life.auto_at < life.resolve_time):
        life.resolve_time = life.auto_at
        integ = s.integration
        life.resolve_agent = (
            {
                "id": integ["id"],
                "type": "integration_reference",
                "summary": integ["summary"],
                "self": integ["self"],
                "html_url": integ["html_url"],
            }
            if rng.random() < 0.5
            else s.ref
        )
        life.resolve_channel = {"nagios": "nagios", "email": "email"}.get(s.source_format, "api")
    timeout_at = life.timeout_at
    if timeout_at is not None and (life.resolve_time is None or timeout_at < life.resolve_time):
        life.resolve_time, life.resolve_agent, life.resolve_channel = timeout_at, s.ref, "auto"
    if life.resolve_time is None and plan.kind == "storm_root":
        life.resolve_time = _storm_recovery(scn, plan)
        life.resolve_agent, life.resolve_channel = s.ref, "api"
    if life.resolve_time is None and life.close_at is not None:
        life.resolve_time = life.close_at
        u = rng.choice(scn.org.team_info[s.team_index].member_indexes)
        life.resolve_agent, life.resolve_channel = scn.org.user_info[u].ref, "website"


def _resolve_entry(rng, life: Life) -> None:
    if life.plan.skew:
        life.resolve_time = life.t0 - rng.randint(2, 9)  # the sender's clock is behind
    agent, channel = life.resolve_agent, life.resolve_channel
    summary = (
        f"Resolved by {agent['summary']}."
        if agent["type"] == "user_reference"
        else "Resolved by timeout."
        if channel == "auto"
        else f"Resolved through the {channel_word(channel)}."
    )
    life.add(
        life.resolve_time,
        "resolve_log_entry",
        agent=agent,
        channel={"type": channel},
        summary=summary,
    )
