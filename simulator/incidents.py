"""Alert processes and incident lifecycles of the simulated account.

Time is cut into day-long chunks. Each chunk has its own seeded RNG, so the chunks can be
generated one after another with bounded memory (the scale generator) and still give exactly
the incidents that :func:`simulator.account.generate_account` returns.

Processes, per chunk:

- background alerts per service, a Poisson process whose rate follows the owning team's
  working day and week (local time), with a few alert types per service dominating;
- flapping alerts: one fixed alert (same alert key) on some services, in bursts of triggers
  that the integration resolves within minutes; nobody acknowledges them;
- storms: a database or queue goes down and every service that depends on it fires within
  minutes; those incidents resolve when the root recovers;
- maintenance windows: weekly windows in which some services page for nothing;
- major outages: P1/P2 incidents with several responders, notes, long resolution.

Lifecycles follow PagerDuty's semantics: assignment through the escalation policy,
notifications per the user's contact rules, acknowledgement delays slower at night in the
responder's local time, escalation after each level's timeout, acknowledgement timeouts
(unacknowledge, notify again), snoozes, reassignments, notes, resolution by a person, by the
integration or by the service's auto-resolve timeout, and incidents still open at the end.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from simulator._common import (
    ALERT_BASE,
    API_BASE,
    INCIDENT_BASE,
    WEB_BASE,
    IdFactory,
    epoch,
    iso,
    parse_iso,
    seeded_rng,
)
from simulator.account import SimIncident, default_end, default_volume, derive_incident_state
from simulator.org import STORM_ROOT_KINDS, Organisation, ServiceInfo, build_organisation
from simulator.templates import LabelMaker, Rule, load_rules, render_alert, rules_for_kind

DAY = 86400
WEEK = 7 * DAY
CHUNK = DAY  # one day per chunk keeps the scale generator's memory small

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


def _poisson(rng, lam: float) -> int:
    """Poisson sample (Knuth for small means, normal approximation for large ones)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _season_weight(weekday: int, hour: int) -> float:
    """Relative alert rate at a local hour: changes (deploys, traffic) follow the working day."""
    if weekday < 5:
        if 9 <= hour < 18:
            return 4.5
        if 7 <= hour < 9 or 18 <= hour < 21:
            return 1.1
        return 0.35
    if 9 <= hour < 21:
        return 0.55
    return 0.3


class _Plan:
    """A planned incident before its lifecycle is simulated (cheap to sort and number)."""

    __slots__ = (
        "t",
        "service",
        "alerts",
        "kind",
        "priority",
        "gt",
        "stale",
        "skew",
        "auto_resolve_at",
        "responders",
        "ack_prob",
        "alert_auto_times",
    )

    def __init__(
        self,
        t: int,
        service: ServiceInfo,
        alerts: list,
        kind: str,
        *,
        priority: int | None = None,
        gt: tuple | None = None,
        stale: bool = False,
        skew: bool = False,
        auto_resolve_at: int | None = None,
        responders: int = 1,
        ack_prob: float = 1.0,
    ) -> None:
        self.t = t
        self.service = service
        self.alerts = alerts  # [(t, rule, labels, alert_key)]
        self.kind = kind
        self.priority = priority
        self.gt = gt  # ground-truth bucket key
        self.stale = stale
        self.skew = skew
        self.auto_resolve_at = auto_resolve_at  # integration resolves everything at this time
        self.responders = responders
        self.ack_prob = ack_prob


class AccountGenerator:
    """Generates the organisation and, chunk by chunk, the incidents of an account."""

    def __init__(
        self,
        seed: int = 7,
        days: int = 90,
        scale: float = 1.0,
        end: datetime | None = None,
        volume: float | None = None,
    ) -> None:
        if days <= 0:
            raise ValueError("days must be positive")
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.seed = seed
        self.end_dt = (end or default_end()).astimezone(UTC)
        self.start_dt = self.end_dt - timedelta(days=days)
        self.start = epoch(self.start_dt)
        self.end = epoch(self.end_dt)
        self.scale = scale
        self.volume = default_volume(scale) if volume is None else volume
        self.ids = IdFactory(seed)
        self.org: Organisation = build_organisation(
            seed, scale, self.start, self.end + 14 * DAY, self.ids
        )
        self.rules = load_rules()
        self._next_number = 1
        self._next_alert = 1
        self._gt_storms: list[dict] = []
        self._gt_flapping: dict[tuple[str, str], dict] = {}
        self._gt_maint: dict[str, dict] = {}
        self._gt_major: list[dict] = []
        self._gt_noise: list[str] = []
        self._gt_skew: list[str] = []
        self._gt_open: list[str] = []
        # Ground-truth facts of simulated incidents, in order (workers ship these back).
        self.truth_events: list[tuple] = []
        self._setup_processes()

    # ------------------------------------------------------------------ account-level set-up
    def _setup_processes(self) -> None:
        rng = seeded_rng(self.seed, "processes")
        org = self.org
        self.makers: list[LabelMaker] = []
        self.service_rules: list[list[tuple[Rule, float, bool]]] = []
        for s in org.service_info:
            maker = LabelMaker(
                s.name, s.namespace, s.kind, seeded_rng(self.seed, "labels", s.index)
            )
            self.makers.append(maker)
            pool = rules_for_kind(s.kind, self.rules)
            # A handful of alert types per service, Zipf-weighted: a few fire most of the time.
            chosen = rng.sample(pool, min(len(pool), rng.randint(5, 9)))
            weighted = []
            for rank, rule in enumerate(chosen, start=1):
                noisy = rng.random() < 0.2  # this alert mostly resolves itself
                weighted.append((rule, 1.0 / rank, noisy))
            self.service_rules.append(weighted)
        self.cum_weights = []
        for weighted in self.service_rules:
            total, cum = 0.0, []
            for _rule, w, _n in weighted:
                total += w
                cum.append(total)
            self.cum_weights.append(cum)

        n = len(org.service_info)
        candidates = [s for s in org.service_info if s.kind not in STORM_ROOT_KINDS]
        # Flapping: about one service in six has an alert that flaps.
        self.flapping = []
        for s in rng.sample(candidates, max(1, round(n / 6))):
            rule = self.service_rules[s.index][rng.randrange(len(self.service_rules[s.index]))][0]
            labels = self.makers[s.index].labels(rule.labels, rng)
            key = hashlib.sha256(f"flap|{s.ref['id']}|{rule.template_id}".encode()).hexdigest()[:32]
            self.flapping.append((s, rule, labels, key))
        # Maintenance: about one service in eight has a weekly window that pages for nothing.
        self.maintenance = []
        for s in rng.sample(org.service_info, max(1, round(n / 8))):
            weekday = rng.choice((1, 2, 3, 6))
            hour = rng.choice((1, 2, 3, 4, 22))
            dur = rng.choice((60, 60, 90, 120))
            rule = self.service_rules[s.index][0][0]
            self.maintenance.append((s, weekday, hour, dur, rule))
            day_name = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[weekday]
            until = hour * 60 + dur
            self._gt_maint[s.ref["id"]] = {
                "service_id": s.ref["id"],
                "rule": f"weekly {day_name} {hour:02d}:00-{until // 60 % 24:02d}:{until % 60:02d} UTC",
                "windows": [],
                "incident_ids": [],
            }
        # Storm roots: databases and queues with at least two dependents.
        self.storm_roots = [
            s for s in org.service_info if s.kind in STORM_ROOT_KINDS and len(s.dependents) >= 2
        ]
        # Planted dirt: two stale open majors and a few clock-skewed resolves.
        days = (self.end - self.start) / DAY
        self.stale_major_times = []
        for age in (12.3, 9.6):
            if days > age + 1:
                self.stale_major_times.append(self.end - int(age * DAY))
        self.skew_times = sorted(
            self.start + int(rng.uniform(0.05, 0.95) * (self.end - self.start))
            for _ in range(max(2, round(days / 45)))
        )
        self.zones = {z: ZoneInfo(z) for z in {t.home_zone for t in org.team_info}}
        self.user_zones = {z: ZoneInfo(z) for z in {u.time_zone or "UTC" for u in org.user_info}}

    # ------------------------------------------------------------------ chunking
    def chunk_bounds(self) -> list[tuple[int, int, int]]:
        """(index, start, end) of every chunk, in time order."""
        out, c0, index = [], self.start, 0
        while c0 < self.end:
            c1 = min(c0 + CHUNK, self.end)
            out.append((index, c0, c1))
            c0, index = c1, index + 1
        return out

    def chunks(self):
        """Yield the incidents chunk by chunk (a day each), in created_at order."""
        for index, c0, c1 in self.chunk_bounds():
            plans = self.plan_chunk(index, c0, c1)
            yield self.simulate_chunk(index, plans, self._next_number, self._next_alert)

    def plan_chunk(self, index: int, c0: int, c1: int) -> list[_Plan]:
        """The incidents created in [c0, c1), planned but not yet simulated.

        Planning has its own RNG stream, so a chunk's plans (and therefore how many incident
        numbers and alert ids it uses) are known without simulating earlier chunks: the scale
        generator plans every chunk cheaply, then simulates chunks in parallel.
        """
        rng = seeded_rng(self.seed, "plan", index)
        plans: list[_Plan] = []
        self._plan_background(rng, c0, c1, plans)
        self._plan_flapping(rng, c0, c1, plans)
        self._plan_maintenance(rng, c0, c1, plans)
        self._plan_storms(rng, c0, c1, plans)
        self._plan_majors(rng, c0, c1, plans)
        plans = [p for p in plans if c0 <= p.t < c1]
        plans.sort(key=lambda p: (p.t, p.service.index))
        return plans

    def plan_sizes(self, plans: list[_Plan]) -> tuple[int, int]:
        """(incident numbers, alert ids) a chunk's plans consume."""
        end = self.end
        return len(plans), sum(1 for p in plans for a in p.alerts if a[0] < end)

    def simulate_chunk(
        self, index: int, plans: list[_Plan], number_base: int, alert_base: int
    ) -> list[SimIncident]:
        """Simulate planned incidents, numbering them from number_base (alerts from alert_base)."""
        rng = seeded_rng(self.seed, "life", index)
        self._next_number = number_base
        self._next_alert = alert_base
        return [self._simulate(rng, plan) for plan in plans]

    # ------------------------------------------------------------------ processes
    def _hour_weights(self, c0: int, c1: int) -> dict[str, list[float]]:
        weights = {}
        for name, zone in self.zones.items():
            w = []
            t = c0 - c0 % 3600
            while t < c1:
                local = datetime.fromtimestamp(t, zone)
                w.append(_season_weight(local.weekday(), local.hour))
                t += 3600
            weights[name] = w
        return weights

    def _pick_rule(self, rng, s: ServiceInfo) -> tuple[Rule, bool]:
        cum = self.cum_weights[s.index]
        x = rng.random() * cum[-1]
        for i, c in enumerate(cum):
            if x < c:
                rule, _w, noisy = self.service_rules[s.index][i]
                return rule, noisy
        rule, _w, noisy = self.service_rules[s.index][-1]
        return rule, noisy

    def _new_alert(self, rng, s: ServiceInfo, t: int, rule: Rule) -> tuple:
        labels = self.makers[s.index].labels(rule.labels, rng)
        key = f"{rng.getrandbits(128):032x}"
        return (t, rule, labels, key)

    def _plan_background(self, rng, c0: int, c1: int, plans: list[_Plan]) -> None:
        weights = self._hour_weights(c0, c1)
        hour0 = c0 - c0 % 3600
        # Mean weekly weight is ~1.0, so base_rate_per_day is the average daily rate.
        norm = 1.0 / _MEAN_SEASON
        for s in self.org.service_info:
            zone = self.org.team_info[s.team_index].home_zone
            rate_h = s.base_rate_per_day * self.volume * norm / 24.0
            w = weights[zone]
            for h, wh in enumerate(w):
                n = _poisson(rng, rate_h * wh)
                for _ in range(n):
                    t = hour0 + h * 3600 + rng.randrange(3600)
                    rule, noisy = self._pick_rule(rng, s)
                    alerts = [self._new_alert(rng, s, t, rule)]
                    # Services with alert grouping collect related alerts into one incident.
                    if s.grouping and rng.random() < 0.35:
                        for _extra in range(rng.randint(1, 3)):
                            r2, _ = self._pick_rule(rng, s)
                            alerts.append(self._new_alert(rng, s, t + rng.randint(20, 240), r2))
                    if noisy and rng.random() < 0.8:
                        # Resolves itself before anyone gets to it (the classic noise).
                        plans.append(
                            _Plan(
                                t,
                                s,
                                alerts,
                                "noise",
                                gt=("noise",),
                                auto_resolve_at=t + int(rng.lognormvariate(math.log(240), 0.8)),
                                ack_prob=0.0,
                            )
                        )
                    else:
                        plans.append(_Plan(t, s, alerts, "background"))
        for t in self.skew_times:
            if c0 <= t < c1:
                s = rng.choice(self.org.service_info)
                rule, _ = self._pick_rule(rng, s)
                plans.append(
                    _Plan(
                        t,
                        s,
                        [self._new_alert(rng, s, t, rule)],
                        "noise",
                        gt=("noise",),
                        skew=True,
                        auto_resolve_at=t + 30,
                        ack_prob=0.0,
                    )
                )

    def _plan_flapping(self, rng, c0: int, c1: int, plans: list[_Plan]) -> None:
        per_day = 0.15 * min(self.volume, 4.0)
        for s, rule, labels, key in self.flapping:
            for _ in range(_poisson(rng, per_day * (c1 - c0) / DAY)):
                t = c0 + rng.randrange(c1 - c0)
                for _flap in range(rng.randint(2, 6)):
                    up = rng.randint(45, 240)  # the integration resolves within minutes
                    plans.append(
                        _Plan(
                            t,
                            s,
                            [(t, rule, labels, key)],
                            "flapping",
                            gt=("flapping", s.ref["id"], key, rule.template_id),
                            auto_resolve_at=t + up,
                            ack_prob=0.0,
                        )
                    )
                    t += up + rng.randint(60, 900)

    def _plan_maintenance(self, rng, c0: int, c1: int, plans: list[_Plan]) -> None:
        for s, weekday, hour, dur, rule in self.maintenance:
            bucket = self._gt_maint[s.ref["id"]]
            day = c0 - c0 % DAY
            while day < c1:
                # 1970-01-01 was a Thursday (weekday 3).
                if (day // DAY + 3) % 7 == weekday:
                    ws, we = day + hour * 3600, day + hour * 3600 + dur * 60
                    if c0 <= ws and we <= self.end and ws < c1:
                        bucket["windows"].append([iso(ws), iso(we)])
                        for _ in range(rng.randint(1, 3)):
                            t = ws + rng.randrange(60, dur * 60 - 300)
                            alert = self._new_alert(rng, s, t, rule)
                            res = min(we - 1, t + rng.randint(120, 1500))
                            plans.append(
                                _Plan(
                                    t,
                                    s,
                                    [alert],
                                    "maintenance",
                                    gt=("maintenance", s.ref["id"]),
                                    auto_resolve_at=res,
                                    ack_prob=0.0,
                                )
                            )
                day += DAY

    def _plan_storms(self, rng, c0: int, c1: int, plans: list[_Plan]) -> None:
        for root in self.storm_roots:
            for _ in range(_poisson(rng, (c1 - c0) / (24 * DAY))):
                start = c0 + rng.randrange(max(1, c1 - c0 - 3600))
                recovery = start + int(rng.lognormvariate(math.log(40 * 60), 0.5))
                storm_id = "storm-" + _short_hash(self.seed, root.ref["id"], start)
                gt = ("storm", storm_id)
                rule = self._storm_rule(rng, root)
                root_alert = self._new_alert(rng, root, start, rule)
                plans.append(_Plan(start, root, [root_alert], "storm_root", gt=gt))
                service_ids = [root.ref["id"]]
                last = start
                for d in root.dependents:
                    dep = self.org.service_info[d]
                    service_ids.append(dep.ref["id"])
                    alerts = []
                    for _k in range(rng.randint(1, 3)):
                        t = start + rng.randint(30, 480)
                        r, _ = self._pick_rule(rng, dep)
                        alerts.append(self._new_alert(rng, dep, t, r))
                    alerts.sort(key=lambda a: a[0])
                    groups = [alerts] if dep.grouping else [[a] for a in alerts]
                    for group in groups:
                        t = group[0][0]
                        last = max(last, t)
                        plans.append(
                            _Plan(
                                t,
                                dep,
                                group,
                                "storm",
                                gt=gt,
                                auto_resolve_at=recovery + rng.randint(30, 300),
                                ack_prob=0.5,
                            )
                        )
                self._gt_storms.append(
                    {
                        "storm_id": storm_id,
                        "root_service_id": root.ref["id"],
                        "start": iso(start),
                        "end": iso(max(recovery, last)),
                        "service_ids": service_ids,
                        "incident_ids": [],
                    }
                )

    def _storm_rule(self, rng, root: ServiceInfo) -> Rule:
        """The root's 'down' alert: the most severe rule of its pool (a database down)."""
        pool = [r for r, _w, _n in self.service_rules[root.index] if r.severity == "critical"]
        return (pool or [self.service_rules[root.index][0][0]])[0]

    def _plan_majors(self, rng, c0: int, c1: int, plans: list[_Plan]) -> None:
        candidates = [s for s in self.org.service_info if s.kind in ("api", "web", "worker")]
        if not candidates:
            candidates = self.org.service_info
        n = _poisson(rng, (c1 - c0) / (10 * DAY) * max(1.0, self.scale))
        starts = [(c0 + rng.randrange(max(1, c1 - c0 - 7200)), False) for _ in range(n)]
        starts += [(t, True) for t in self.stale_major_times if c0 <= t < c1]
        for start, stale in starts:
            s = rng.choice(candidates)
            involved = [s] + [self.org.service_info[d] for d in s.dependents[: rng.randint(0, 2)]]
            priority = 1 if rng.random() < 0.35 else 2
            outage_id = "outage-" + _short_hash(self.seed, s.ref["id"], start)
            duration = int(rng.lognormvariate(math.log(2.5 * 3600), 0.5))
            gt = ("major", outage_id)
            for k, svc in enumerate(involved):
                t = start + k * rng.randint(60, 600)
                rule = self._storm_rule(rng, svc)
                plans.append(
                    _Plan(
                        t,
                        svc,
                        [self._new_alert(rng, svc, t, rule)],
                        "major",
                        priority=priority,
                        gt=gt,
                        stale=stale,
                        responders=rng.randint(2, 4),
                    )
                )
            self._gt_major.append(
                {
                    "outage_id": outage_id,
                    "service_ids": [v.ref["id"] for v in involved],
                    "start": iso(start),
                    "end": None if stale else iso(start + duration),
                    "priority": f"P{priority}",
                    "incident_ids": [],
                    "stale_open": stale,
                    "_duration": duration,
                }
            )

    # ------------------------------------------------------------------ lifecycle
    def _ack_delay(self, rng, user_index: int, t: int, urgency: str) -> int:
        """Seconds from notification to acknowledgement: lognormal, slower at night."""
        u = self.org.user_info[user_index]
        local = datetime.fromtimestamp(t, self.user_zones[u.time_zone or "UTC"])
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

    def _simulate(self, rng, plan: _Plan) -> SimIncident:
        org = self.org
        s = plan.service
        number = self._next_number
        self._next_number += 1
        inc_id = self.ids.pd_id(INCIDENT_BASE + number)
        t0 = plan.t
        end = self.end
        fmt = s.source_format
        rendered = []
        for ta, rule, labels, key in plan.alerts:
            summary, details, severity = render_alert(
                rule, labels, self.makers[s.index], fmt, iso(ta), rng
            )
            rendered.append((ta, rule, labels, key, summary, details, severity))
        title = rendered[0][4]
        inc_summary = f"[#{number}] {title}"
        inc_self = f"{API_BASE}/incidents/{inc_id}"
        inc_html = f"{WEB_BASE}/incidents/{inc_id}"
        inc_ref = {
            "id": inc_id,
            "type": "incident_reference",
            "summary": inc_summary,
            "self": inc_self,
            "html_url": inc_html,
        }
        team_ref = org.team_info[s.team_index].ref
        teams = [team_ref]
        ep = org.ep_info[s.ep_index]
        urgency = "high" if plan.priority else s.urgency
        svc_ref = s.ref

        events: list[tuple[int, str, dict]] = []  # (time, type, extra fields)

        def add(t: int, etype: str, **fields) -> None:
            events.append((t, etype, fields))

        # --- trigger and first assignment
        channel_type = {"nagios": "nagios", "email": "email"}.get(fmt, "api")
        ta, rule, labels, key, summary, details, severity = rendered[0]
        trig_channel = {
            "type": channel_type,
            "summary": summary,
            "details": details,
            "cef_details": _cef(summary, severity, labels, details, key, fmt, s),
            "incident_key": key,
        }
        if channel_type == "api":
            trig_channel["client"] = "Datadog" if fmt == "datadog" else "Alertmanager"
            trig_channel["client_url"] = (
                "https://app.datadoghq.com/monitors"
                if fmt == "datadog"
                else "http://alertmanager.monitoring.svc:9093"
            )
        add(
            t0,
            "trigger_log_entry",
            agent=svc_ref,
            channel=trig_channel,
            summary=f"Triggered through the {_channel_word(channel_type)}.",
            event_details={"description": summary},
            contexts=[],
        )

        level = 0
        level_user = org.schedule_info[ep.levels[0][0]].user_at(t0)
        assignees = [level_user]
        add(
            t0 + 1,
            "assign_log_entry",
            agent=svc_ref,
            channel={"type": "auto"},
            assignees=[org.user_info[level_user].ref],
            summary=f"Assigned to {org.user_info[level_user].name}.",
        )

        # --- when does it end without people? (integration / auto-resolve timeout)
        auto_at = plan.auto_resolve_at
        if s.auto_resolve_timeout and plan.kind not in ("major",):
            timeout_at = t0 + s.auto_resolve_timeout
        else:
            timeout_at = None

        # --- planned human behaviour
        acked = plan.ack_prob >= 1.0 or rng.random() < plan.ack_prob
        if plan.kind == "background" and rng.random() < 0.08:
            acked = False  # paged, nobody reacted, integration or timeout resolves it
            auto_at = t0 + int(rng.lognormvariate(math.log(1800), 1.0))
        elif plan.kind == "background" and rng.random() < 0.2:
            # Acknowledged, then the integration resolves it when the condition clears.
            auto_at = t0 + int(rng.lognormvariate(math.log(2400), 1.2))

        # Acknowledgement, with escalation on timeout.
        t_assign = t0 + 1
        ack_time = None
        acker = None
        if acked:
            delay = self._ack_delay(rng, level_user, t_assign, urgency)
            if plan.kind == "major":
                delay = max(10, delay // 3)
            ack_time = t_assign + delay
        loops = 0
        cur = t_assign
        close_at = None
        if ack_time is None and auto_at is None and timeout_at is None and not plan.stale:
            # Nobody acknowledges and nothing resolves it: someone closes it eventually.
            close_at = t0 + int(rng.lognormvariate(math.log(3 * 3600), 1.0))
        stop_at = min(
            x for x in (auto_at, timeout_at, ack_time, close_at, end + 10 * DAY) if x is not None
        )
        # Walk the escalation policy until someone acknowledges or the incident resolves.
        while True:
            delay_s = ep.levels[level][1]
            esc_at = cur + delay_s
            # Each level's assignees are notified until they act or the incident moves on.
            self._notify(add, rng, assignees, cur, min(stop_at, esc_at), urgency)
            if esc_at >= stop_at:
                break
            nxt = level + 1
            if nxt >= len(ep.levels):
                if loops >= ep.num_loops:
                    break
                loops += 1
                nxt = 0
            level = nxt
            level_user = org.schedule_info[ep.levels[level][0]].user_at(esc_at)
            assignees = [level_user]
            add(
                esc_at,
                "escalate_log_entry",
                agent=svc_ref,
                channel={"type": "timeout"},
                assignees=[org.user_info[level_user].ref],
                summary=f"Escalated to {org.user_info[level_user].name} (level {level + 1}) by timeout.",
            )
            cur = esc_at
            if ack_time is not None and level > 0:
                # The escalated person usually reacts faster than the one who slept through.
                alt = esc_at + self._ack_delay(rng, level_user, esc_at, urgency) // 2
                if alt < ack_time:
                    ack_time = alt
                    stop_at = min(stop_at, ack_time)

        resolve_time = None
        resolve_agent = None
        resolve_channel = None
        ackers: list[int] = []
        if (
            ack_time is not None
            and (auto_at is None or ack_time < auto_at)
            and (timeout_at is None or ack_time < timeout_at)
            and ack_time < end + 10 * DAY
        ):
            acker = assignees[0]
            ackers.append(acker)
            ack_channel = rng.choice(HUMAN_CHANNELS)
            add(
                ack_time,
                "acknowledge_log_entry",
                agent=org.user_info[acker].ref,
                channel={"type": ack_channel},
                acknowledgement_timeout=s.acknowledgement_timeout,
                summary=f"Acknowledged by {org.user_info[acker].name}.",
            )
            if rng.random() < 0.04:  # acknowledged twice (double tap on phone and laptop)
                add(
                    ack_time + rng.randint(2, 40),
                    "acknowledge_log_entry",
                    agent=org.user_info[acker].ref,
                    channel={"type": "mobile"},
                    acknowledgement_timeout=s.acknowledgement_timeout,
                    summary=f"Acknowledged by {org.user_info[acker].name}.",
                )
            # Work time until a person resolves it.
            if plan.kind == "major":
                work = int(self._outage_duration(plan, rng))
            elif plan.kind == "storm_root":
                work = max(300, self._storm_recovery(plan) - ack_time)
            else:
                work = int(rng.lognormvariate(math.log(50 * 60), 1.85))
            human_resolve = ack_time + work
            # Extra responders: majors pull in 2-4 people; a few ordinary incidents a second one
            # (2+ acknowledging users make an incident major by docs/metrics.md, so keep it rare).
            extra = plan.responders - 1
            if plan.kind == "background" and rng.random() < 0.06:
                extra = 1
            if extra > 0:
                team = org.team_info[s.team_index].member_indexes
                others = [u for u in team if u != acker]
                rng.shuffle(others)
                helpers = others[:extra]
                t_add = ack_time + rng.randint(60, 900)
                if helpers and t_add < human_resolve:
                    add(
                        t_add,
                        "assign_log_entry",
                        agent=org.user_info[acker].ref,
                        channel={"type": "website"},
                        assignees=[org.user_info[u].ref for u in [acker] + helpers],
                        summary="Assigned to "
                        + ", ".join(org.user_info[u].name for u in helpers)
                        + f" by {org.user_info[acker].name}.",
                    )
                    for hu in helpers:
                        ha = t_add + max(15, self._ack_delay(rng, hu, t_add, urgency) // 2)
                        self._notify(add, rng, [hu], t_add, min(ha, human_resolve), urgency)
                        if ha < human_resolve:
                            ackers.append(hu)
                            add(
                                ha,
                                "acknowledge_log_entry",
                                agent=org.user_info[hu].ref,
                                channel={"type": rng.choice(HUMAN_CHANNELS)},
                                acknowledgement_timeout=s.acknowledgement_timeout,
                                summary=f"Acknowledged by {org.user_info[hu].name}.",
                            )
            elif plan.kind == "background" and rng.random() < 0.05:
                # Reassigned to a colleague who takes it over.
                team = org.team_info[s.team_index].member_indexes
                colleague = rng.choice([u for u in team if u != acker] or team)
                t_re = ack_time + rng.randint(60, 1200)
                if t_re < human_resolve:
                    add(
                        t_re,
                        "assign_log_entry",
                        agent=org.user_info[acker].ref,
                        channel={"type": "website"},
                        assignees=[org.user_info[colleague].ref],
                        summary=f"Reassigned to {org.user_info[colleague].name} by "
                        f"{org.user_info[acker].name}.",
                    )
                    ca = t_re + self._ack_delay(rng, colleague, t_re, urgency)
                    self._notify(add, rng, [colleague], t_re, min(ca, human_resolve), urgency)
                    if ca < human_resolve:
                        add(
                            ca,
                            "acknowledge_log_entry",
                            agent=org.user_info[colleague].ref,
                            channel={"type": rng.choice(HUMAN_CHANNELS)},
                            acknowledgement_timeout=s.acknowledgement_timeout,
                            summary=f"Acknowledged by {org.user_info[colleague].name}.",
                        )
                        ackers.append(colleague)
                        acker = colleague
            # Notes.
            n_notes = (
                rng.randint(2, 5)
                if plan.kind == "major"
                else (rng.randint(1, 2) if rng.random() < 0.12 else 0)
            )
            for _ in range(n_notes):
                tn = ack_time + rng.randint(30, max(31, min(work, 6 * 3600)))
                author = rng.choice(ackers)
                add(
                    tn,
                    "annotate_log_entry",
                    agent=org.user_info[author].ref,
                    channel={"type": "note"},
                    note=rng.choice(NOTES),
                    summary=f"Note added by {org.user_info[author].name}.",
                )
            # Snooze, then unacknowledge at expiry and re-acknowledge.
            if plan.kind == "background" and rng.random() < 0.03 and work > 1800:
                ts = ack_time + rng.randint(60, 600)
                snooze = rng.choice((1800, 3600, 14400))
                if ts + snooze < human_resolve:
                    add(
                        ts,
                        "snooze_log_entry",
                        agent=org.user_info[acker].ref,
                        channel={"type": "website", "duration": snooze},
                        changed_actions=[{"type": "unacknowledge", "at": iso(ts + snooze)}],
                        summary=f"Snoozed by {org.user_info[acker].name} for {snooze // 60} minutes.",
                    )
                    add(
                        ts + snooze,
                        "unacknowledge_log_entry",
                        agent=svc_ref,
                        channel={"type": "timeout"},
                        summary="Unacknowledged due to snooze expiry.",
                    )
                    ra = ts + snooze + self._ack_delay(rng, acker, ts + snooze, urgency)
                    self._notify(add, rng, [acker], ts + snooze, min(ra, human_resolve), urgency)
                    if ra < human_resolve:
                        add(
                            ra,
                            "acknowledge_log_entry",
                            agent=org.user_info[acker].ref,
                            channel={"type": rng.choice(HUMAN_CHANNELS)},
                            acknowledgement_timeout=s.acknowledgement_timeout,
                            summary=f"Acknowledged by {org.user_info[acker].name}.",
                        )
            # Acknowledgement timeout: the service turns it back to triggered.
            elif (
                s.acknowledgement_timeout
                and plan.kind != "major"
                and human_resolve - ack_time > s.acknowledgement_timeout
                and rng.random() < 0.5
            ):
                tu = ack_time + s.acknowledgement_timeout
                if auto_at is None or tu < auto_at:
                    add(
                        tu,
                        "unacknowledge_log_entry",
                        agent=svc_ref,
                        channel={"type": "timeout"},
                        summary="Unacknowledged due to timeout.",
                    )
                    ra = tu + max(20, self._ack_delay(rng, acker, tu, urgency) // 2)
                    self._notify(add, rng, [acker], tu, min(ra, human_resolve), urgency)
                    if ra < human_resolve:
                        add(
                            ra,
                            "acknowledge_log_entry",
                            agent=org.user_info[acker].ref,
                            channel={"type": rng.choice(HUMAN_CHANNELS)},
                            acknowledgement_timeout=s.acknowledgement_timeout,
                            summary=f"Acknowledged by {org.user_info[acker].name}.",
                        )
            if plan.priority is None and plan.kind == "background" and rng.random() < 0.15:
                plan.priority = rng.choice((3, 3, 4, 4, 5))  # triaged by the responder
            if not plan.stale:
                resolve_time = human_resolve
                resolve_agent = org.user_info[rng.choice(ackers[:1] * 3 + ackers)].ref
                resolve_channel = rng.choice(HUMAN_CHANNELS)
        # Automatic resolutions win when they come first.
        if not plan.stale:
            if auto_at is not None and (resolve_time is None or auto_at < resolve_time):
                resolve_time = auto_at
                integ = s.integration
                resolve_agent = (
                    {
                        "id": integ["id"],
                        "type": "integration_reference",
                        "summary": integ["summary"],
                        "self": integ["self"],
                        "html_url": integ["html_url"],
                    }
                    if rng.random() < 0.5
                    else svc_ref
                )
                resolve_channel = {"nagios": "nagios", "email": "email"}.get(fmt, "api")
            if timeout_at is not None and (resolve_time is None or timeout_at < resolve_time):
                resolve_time = timeout_at
                resolve_agent = svc_ref
                resolve_channel = "auto"
            if resolve_time is None and plan.kind == "storm_root":
                resolve_time = self._storm_recovery(plan)
                resolve_agent = svc_ref
                resolve_channel = "api"
            if resolve_time is None and close_at is not None:
                resolve_time = close_at
                u = rng.choice(org.team_info[s.team_index].member_indexes)
                resolve_agent = org.user_info[u].ref
                resolve_channel = "website"
        if resolve_time is not None:
            if plan.skew:
                resolve_time = t0 - rng.randint(2, 9)  # the sender's clock is behind
            rsum = (
                f"Resolved by {resolve_agent['summary']}."
                if resolve_agent["type"] == "user_reference"
                else "Resolved by timeout."
                if resolve_channel == "auto"
                else f"Resolved through the {_channel_word(resolve_channel)}."
            )
            add(
                resolve_time,
                "resolve_log_entry",
                agent=resolve_agent,
                channel={"type": resolve_channel},
                summary=rsum,
            )

        return self._assemble(
            plan,
            number,
            inc_id,
            inc_ref,
            title,
            teams,
            ep,
            urgency,
            rendered,
            events,
            resolve_time,
            key,
        )

    def _outage_duration(self, plan: _Plan, rng) -> float:
        """How long a major outage takes to fix (shared by every incident of the outage)."""
        for mo in reversed(self._gt_major):
            if mo["outage_id"] == plan.gt[1]:
                return mo["_duration"] * rng.uniform(0.85, 1.0)
        return rng.lognormvariate(math.log(2.5 * 3600), 0.5)

    def _storm_recovery(self, plan: _Plan) -> int:
        """When the storm's root recovers (its planned end)."""
        for st in reversed(self._gt_storms):
            if st["storm_id"] == plan.gt[1]:
                return parse_iso(st["end"])
        return plan.t + 3600

    def _notify(self, add, rng, users: list[int], at: int, stop_at: int, urgency: str) -> None:
        """Notify entries per each user's contact rules, until stop_at (acknowledged/resolved)."""
        org = self.org
        for u in users:
            info = org.user_info[u]
            rules = info.high_rules if urgency == "high" else info.low_rules
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
                add(
                    t,
                    "notify_log_entry",
                    agent=None,
                    user=info.ref,
                    channel={"type": "auto", "notification": notification},
                    summary=f"Notified {info.name} by {NOTIFY_WORDS[ntype]}.",
                )

    def _assemble(
        self,
        plan,
        number,
        inc_id,
        inc_ref,
        title,
        teams,
        ep,
        urgency,
        rendered,
        events,
        resolve_time,
        key,
    ) -> SimIncident:
        """Turn planned events into API objects, cut at the account's end."""
        s = plan.service
        end = self.end
        # Keep entries before the end; ensure strictly increasing times in planned order
        # (a resolve deliberately skewed before the trigger keeps its time).
        events.sort(key=lambda e: e[0])
        entries: list[dict] = []
        times: list[int] = []
        last = None
        svc_ref = s.ref
        for t, etype, fields in events:
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
            le_id = self.ids.log_id(number, len(entries))
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
            entry["service"] = svc_ref
            entry["incident"] = inc_ref
            entry["teams"] = teams
            entries.append(entry)
            times.append(t)
        # A skewed resolve sorts before the trigger by time; keep the list in time order.
        if plan.skew:
            order = sorted(range(len(entries)), key=lambda i: (times[i], entries[i]["id"]))
            entries = [entries[i] for i in order]
            times = [times[i] for i in order]
        resolved = resolve_time is not None and any(
            e["type"] == "resolve_log_entry" for e in entries
        )
        alerts = []
        alert_times = []
        t_resolved = resolve_time if resolved else None
        for ta, _rule, labels, akey, summary, details, severity in rendered:
            if ta >= end:
                continue
            aid = self.ids.pd_id(ALERT_BASE + self._next_alert)
            self._next_alert += 1
            a_res = t_resolved if t_resolved is not None else None
            if a_res is not None and a_res < ta:
                a_res = ta  # a skewed resolve still resolves its alerts
            alerts.append(
                {
                    "id": aid,
                    "type": "alert",
                    "summary": summary,
                    "self": f"{API_BASE}/incidents/{inc_id}/alerts/{aid}",
                    "html_url": f"{WEB_BASE}/alerts/{aid}",
                    "created_at": iso(ta),
                    "status": "resolved" if a_res is not None else "triggered",
                    "alert_key": akey,
                    "service": svc_ref,
                    "first_trigger_log_entry": {
                        "id": entries[0]["id"],
                        "type": "trigger_log_entry_reference",
                        "summary": entries[0]["summary"],
                        "self": entries[0]["self"],
                        "html_url": entries[0]["html_url"],
                    },
                    "incident": inc_ref,
                    "suppressed": False,
                    "severity": severity,
                    "integration": s.integration,
                    "body": {
                        "type": "alert_body",
                        "contexts": [],
                        "details": details,
                        "cef_details": _cef(
                            summary, severity, labels, details, akey, s.source_format, s
                        ),
                    },
                }
            )
            alert_times.append((ta, a_res))
        trigger = next(e for e in entries if e["type"] == "trigger_log_entry")
        base = {
            "id": inc_id,
            "type": "incident",
            "summary": inc_ref["summary"],
            "self": inc_ref["self"],
            "html_url": inc_ref["html_url"],
            "incident_number": number,
            "title": title,
            "description": title,
            "created_at": iso(plan.t),
            "updated_at": iso(plan.t),
            "status": "triggered",
            "incident_key": key,
            "service": svc_ref,
            "assignments": [],
            "assigned_via": "escalation_policy",
            "last_status_change_at": iso(plan.t),
            "last_status_change_by": None,
            "resolved_at": None,
            "first_trigger_log_entry": {
                "id": trigger["id"],
                "type": "trigger_log_entry_reference",
                "summary": trigger["summary"],
                "self": trigger["self"],
                "html_url": trigger["html_url"],
            },
            "alert_counts": {"all": 0, "triggered": 0, "resolved": 0},
            "is_mergeable": True,
            "escalation_policy": ep.ref,
            "teams": teams,
            "pending_actions": [],
            "acknowledgements": [],
            "alert_grouping": (
                {
                    "grouping_type": "advanced" if s.grouping == "intelligent" else "basic",
                    "started_at": iso(plan.t),
                    "alert_grouping_active": True,
                }
                if s.grouping
                else None
            ),
            "priority": (self.org.priority_refs[plan.priority - 1] if plan.priority else None),
            "urgency": urgency,
            "resolve_reason": None,
            "incidents_responders": [],
            "responder_requests": [],
        }
        incident = derive_incident_state(base, entries, alerts)
        sim = SimIncident(
            incident=incident,
            log_entries=entries,
            alerts=alerts,
            entry_times=times,
            alert_times=alert_times,
        )
        self._record_truth(plan, sim)
        return sim

    def truth_mark(self) -> tuple:
        """A position in the planned ground truth, for :meth:`planned_truth_since`."""
        return (
            len(self._gt_storms),
            len(self._gt_major),
            {k: len(v["windows"]) for k, v in self._gt_maint.items()},
        )

    def planned_truth_since(self, mark: tuple) -> tuple:
        """Storms, outages and maintenance windows planned since ``mark`` (picklable)."""
        n_storms, n_major, n_windows = mark
        return (
            self._gt_storms[n_storms:],
            self._gt_major[n_major:],
            {k: v["windows"][n_windows.get(k, 0) :] for k, v in self._gt_maint.items()},
        )

    def merge_planned_truth(self, piece: tuple) -> None:
        """Add another generator's planned truth for one chunk (chunks merged in order)."""
        storms, majors, windows = piece
        self._gt_storms.extend(storms)
        self._gt_major.extend(majors)
        for k, w in windows.items():
            self._gt_maint[k]["windows"].extend(w)

    def reset_truth(self) -> None:
        """Forget accumulated truth (a worker keeps only what one chunk needs)."""
        self._gt_storms.clear()
        self._gt_major.clear()
        for v in self._gt_maint.values():
            v["windows"].clear()
            v["incident_ids"].clear()
        self._gt_flapping.clear()
        self._gt_noise.clear()
        self._gt_skew.clear()
        self._gt_open.clear()
        self.truth_events.clear()

    def _record_truth(self, plan: _Plan, sim: SimIncident) -> None:
        inc_id = sim.incident["id"]
        open_at_end = sim.incident["status"] != "resolved"
        summary = sim.alerts[0]["summary"] if sim.alerts else sim.incident["title"]
        event = (inc_id, open_at_end, plan.skew, plan.gt, summary)
        self.truth_events.append(event)
        self.apply_truth(event)

    def apply_truth(self, event: tuple) -> None:
        """Record one simulated incident in the ground truth (also used to merge workers')."""
        inc_id, open_at_end, skew, gt, summary = event
        if open_at_end:
            self._gt_open.append(inc_id)
        if skew:
            self._gt_skew.append(inc_id)
        if gt is None:
            return
        kind = gt[0]
        if kind in ("noise", "flapping", "maintenance"):
            self._gt_noise.append(inc_id)
        if kind == "flapping":
            _, service_id, key, template_id = gt
            bucket = self._gt_flapping.setdefault(
                (service_id, key),
                {
                    "service_id": service_id,
                    "alert_key": key,
                    "template": template_id,
                    "summary": summary,
                    "incident_ids": [],
                },
            )
            bucket["incident_ids"].append(inc_id)
        elif kind == "maintenance":
            self._gt_maint[gt[1]]["incident_ids"].append(inc_id)
        elif kind == "storm":
            for st in reversed(self._gt_storms):
                if st["storm_id"] == gt[1]:
                    st["incident_ids"].append(inc_id)
                    break
        elif kind == "major":
            for mo in reversed(self._gt_major):
                if mo["outage_id"] == gt[1]:
                    mo["incident_ids"].append(inc_id)
                    break

    def ground_truth(self) -> dict:
        """The planted truth, JSON-serialisable (see docs/simulator.md)."""
        storms = [dict(s) for s in self._gt_storms if s["incident_ids"]]
        majors = []
        for m in self._gt_major:
            if not m["incident_ids"]:
                continue
            out = {k: v for k, v in m.items() if not k.startswith("_")}
            majors.append(out)
        return {
            "seed": self.seed,
            "start": iso(self.start),
            "end": iso(self.end),
            "storms": storms,
            "flapping": list(self._gt_flapping.values()),
            "maintenance_windows": [m for m in self._gt_maint.values() if m["windows"]],
            "major_outages": majors,
            "noise_incident_ids": list(self._gt_noise),
            "clock_skew_incident_ids": list(self._gt_skew),
            "open_incident_ids_at_end": list(self._gt_open),
            # PagerDuty keeps dependencies in its separate service-dependencies API.
            "service_dependencies": [
                {
                    "service_id": s.ref["id"],
                    "depends_on": [self.org.service_info[d].ref["id"] for d in s.depends_on],
                }
                for s in self.org.service_info
                if s.depends_on
            ],
        }


def _short_hash(*parts: object) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:10]


def _channel_word(channel_type: str) -> str:
    return {
        "api": "API",
        "nagios": "Nagios integration",
        "email": "e-mail integration",
        "auto": "service's auto-resolve",
    }.get(channel_type, channel_type)


def _cef(
    summary: str, severity: str, labels: dict, details: dict, key: str, fmt: str, s: ServiceInfo
) -> dict:
    """Common Event Format details as PagerDuty derives them from an event."""
    return {
        "client": "Datadog"
        if fmt == "datadog"
        else "Nagios"
        if fmt == "nagios"
        else "E-mail"
        if fmt == "email"
        else "Alertmanager",
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


_MEAN_SEASON = sum(_season_weight(d, h) for d in range(7) for h in range(24)) / 168.0
