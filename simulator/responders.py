"""People in an incident's lifecycle: notifications, acknowledgement delays, extra responders,
reassignments, notes, snoozes and acknowledgement timeouts.

Every step appends log entry events to the incident's :class:`~simulator.lifecycle.Life` and
draws from the chunk's lifecycle RNG in a fixed order (the account depends on that order).
"""

from __future__ import annotations

import math
from datetime import datetime

from simulator._common import iso
from simulator.life import Life
from simulator.scenario import Scenario

NOTIFY_WORDS = {
    "sms_notification": "SMS",
    "phone_notification": "phone",
    "push_notification": "push notification",
    "email_notification": "email",
}
NOTES = (
    "Looking into it.",
    "Rolled back the last deploy.",
    "Root cause: connection pool exhausted.",
    "Customer impact confirmed, status page updated.",
    "Failing over to the replica.",
    "Scaled the deployment from 6 to 12 replicas.",
    "Waiting for the vendor to respond.",
    "Mitigated; monitoring before resolving.",
    "Disk filled up by debug logs, rotated them.",
    "Known issue, ticket filed in the backlog.",
    "Restarted the stuck consumer.",
)
# Channels of actions by people: the spec names website/sms/email/note; mobile, slack and api
# are what the PagerDuty app, chat integrations and scripts show in real accounts.
HUMAN_CHANNELS = ("website", "website", "mobile", "mobile", "sms", "slack", "api")


def ack_delay(scn: Scenario, rng, user_index: int, t: int, urgency: str) -> int:
    """Seconds from notification to acknowledgement: lognormal, slower at night."""
    u = scn.org.user_info[user_index]
    local = datetime.fromtimestamp(t, scn.user_zones[u.time_zone or "UTC"])
    h = local.hour
    factor = u.speed
    if h >= 23 or h < 7:
        factor *= 2.6  # asleep: the phone has to wake them
    elif h >= 19 or h < 8:
        factor *= 1.5
    if local.weekday() >= 5:
        factor *= 1.3
    if urgency == "low":
        factor *= 6.0
    return max(8, int(rng.lognormvariate(math.log(120), 0.95) * factor))


def notify(scn: Scenario, life: Life, rng, users: list[int], at: int, stop_at: int) -> None:
    """Notify entries per each user's contact rules, until stop_at (acknowledged/resolved)."""
    org = scn.org
    for u in users:
        info = org.user_info[u]
        rules = info.high_rules if life.urgency == "high" else info.low_rules
        for delay, ntype in rules:
            t = at + delay + rng.randint(1, 6)
            if t >= stop_at:
                continue
            address = (
                info.email
                if ntype == "email_notification"
                else None
                if ntype == "push_notification"
                else info.phone
            )
            notification = {
                "type": ntype,
                "status": "success",
                "started_at": iso(t),
                "user": info.ref,
            }
            if address is not None:
                notification["address"] = address
            life.add(
                t,
                "notify_log_entry",
                agent=None,
                user=info.ref,
                channel={"type": "auto", "notification": notification},
                summary=f"Notified {info.name} by {NOTIFY_WORDS[ntype]}.",
            )


def acknowledge(scn: Scenario, life: Life, user: int, at: int, channel: str) -> None:
    """An acknowledge entry by ``user`` through ``channel``."""
    info = scn.org.user_info[user]
    life.add(
        at,
        "acknowledge_log_entry",
        agent=info.ref,
        channel={"type": channel},
        acknowledgement_timeout=life.service.acknowledgement_timeout,
        summary=f"Acknowledged by {info.name}.",
    )


def assign(scn: Scenario, life: Life, at: int, by: int, to: list[int], action: str) -> None:
    """An assign entry: user ``by`` assigns the incident to users ``to`` on the website;
    the summary is ``action`` followed by " by <name>."."""
    users = scn.org.user_info
    life.add(
        at,
        "assign_log_entry",
        agent=users[by].ref,
        channel={"type": "website"},
        assignees=[users[u].ref for u in to],
        summary=f"{action} by {users[by].name}.",
    )


def add_helpers(scn: Scenario, life: Life, rng, extra: int) -> None:
    """Extra responders: the acknowledger pulls in colleagues, who acknowledge too."""
    org, acker, human_resolve = scn.org, life.acker, life.human_resolve
    team = org.team_info[life.service.team_index].member_indexes
    others = [u for u in team if u != acker]
    rng.shuffle(others)
    helpers = others[:extra]
    t_add = life.ack_time + rng.randint(60, 900)
    if not (helpers and t_add < human_resolve):
        return
    names = ", ".join(org.user_info[u].name for u in helpers)
    assign(scn, life, t_add, acker, [acker] + helpers, f"Assigned to {names}")
    for hu in helpers:
        ha = t_add + max(15, ack_delay(scn, rng, hu, t_add, life.urgency) // 2)
        notify(scn, life, rng, [hu], t_add, min(ha, human_resolve))
        if ha < human_resolve:
            life.ackers.append(hu)
            acknowledge(scn, life, hu, ha, rng.choice(HUMAN_CHANNELS))


def reassign(scn: Scenario, life: Life, rng) -> None:
    """Reassigned to a colleague who takes it over."""
    org, acker, human_resolve = scn.org, life.acker, life.human_resolve
    team = org.team_info[life.service.team_index].member_indexes
    colleague = rng.choice([u for u in team if u != acker] or team)
    t_re = life.ack_time + rng.randint(60, 1200)
    if t_re >= human_resolve:
        return
    assign(scn, life, t_re, acker, [colleague], f"Reassigned to {org.user_info[colleague].name}")
    ca = t_re + ack_delay(scn, rng, colleague, t_re, life.urgency)
    notify(scn, life, rng, [colleague], t_re, min(ca, human_resolve))
    if ca < human_resolve:
        acknowledge(scn, life, colleague, ca, rng.choice(HUMAN_CHANNELS))
        life.ackers.append(colleague)
        life.acker = colleague


def add_notes(scn: Scenario, life: Life, rng) -> None:
    """2-5 notes on a major, 1-2 on 12% of the others."""
    n_notes = (
        rng.randint(2, 5)
        if life.plan.kind == "major"
        else (rng.randint(1, 2) if rng.random() < 0.12 else 0)
    )
    for _ in range(n_notes):
        tn = life.ack_time + rng.randint(30, max(31, min(life.work, 6 * 3600)))
        author = rng.choice(life.ackers)
        life.add(
            tn,
            "annotate_log_entry",
            agent=scn.org.user_info[author].ref,
            channel={"type": "note"},
            note=rng.choice(NOTES),
            summary=f"Note added by {scn.org.user_info[author].name}.",
        )


def snooze(scn: Scenario, life: Life, rng) -> None:
    """Snoozed, then unacknowledged at expiry, notified again and re-acknowledged."""
    org, acker, human_resolve = scn.org, life.acker, life.human_resolve
    ts = life.ack_time + rng.randint(60, 600)
    length = rng.choice((1800, 3600, 14400))
    if ts + length >= human_resolve:
        return
    life.add(
        ts,
        "snooze_log_entry",
        agent=org.user_info[acker].ref,
        channel={"type": "website", "duration": length},
        changed_actions=[{"type": "unacknowledge", "at": iso(ts + length)}],
        summary=f"Snoozed by {org.user_info[acker].name} for {length // 60} minutes.",
    )
    life.add(
        ts + length,
        "unacknowledge_log_entry",
        agent=life.service.ref,
        channel={"type": "timeout"},
        summary="Unacknowledged due to snooze expiry.",
    )
    ra = ts + length + ack_delay(scn, rng, acker, ts + length, life.urgency)
    notify(scn, life, rng, [acker], ts + length, min(ra, human_resolve))
    if ra < human_resolve:
        acknowledge(scn, life, acker, ra, rng.choice(HUMAN_CHANNELS))


def acknowledgement_timeout(scn: Scenario, life: Life, rng) -> None:
    """The service turns the incident back to triggered; the responder acknowledges again."""
    acker, human_resolve = life.acker, life.human_resolve
    tu = life.ack_time + life.service.acknowledgement_timeout
    if life.auto_at is not None and tu >= life.auto_at:
        return
    life.add(
        tu,
        "unacknowledge_log_entry",
        agent=life.service.ref,
        channel={"type": "timeout"},
        summary="Unacknowledged due to timeout.",
    )
    ra = tu + max(20, ack_delay(scn, rng, acker, tu, life.urgency) // 2)
    notify(scn, life, rng, [acker], tu, min(ra, human_resolve))
    if ra < human_resolve:
        acknowledge(scn, life, acker, ra, rng.choice(HUMAN_CHANNELS))
