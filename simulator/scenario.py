"""The account-level set-up every alert process draws on.

:class:`Scenario` fixes, once per account, what the day-by-day processes use: the
organisation, each service's alert types (Zipf-weighted, some of them "noisy"), which
alerts flap, which services have maintenance windows, which databases and queues can start
a storm, when the planted stale majors and clock-skewed resolves happen, and the time zones.
All of it comes from the ``processes`` RNG stream, in a fixed order.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from simulator._common import IdFactory, epoch, seeded_rng
from simulator.blueprint import STORM_ROOT_KINDS
from simulator.org import Organisation, ServiceInfo, build_organisation
from simulator.plan import DAY, season_weight
from simulator.templates import LabelMaker, Rule, load_rules, rules_for_kind
from simulator.truth import GroundTruth

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def default_end() -> datetime:
    """Today 00:00 UTC: the same seed gives the same account all day."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def default_volume(scale: float) -> float:
    """Incident volume per service for a scale: grows with the organisation.

    Scale 1 gives ~15-25 incidents a day; scale 8 gives ~2,700 a day (a year ~ 1M incidents),
    so per-service volume is ``scale ** 1.5`` (8 ** 1.5 ~ 23).
    """
    return scale**1.5


class Scenario:
    """The organisation and the account-level choices of the alert processes."""

    # No defaults here: simulator.account.generate_account holds them, once.
    def __init__(
        self, *, seed: int, days: int, scale: float, end: datetime | None, volume: float | None
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
        self.truth = GroundTruth()
        rng = seeded_rng(self.seed, "processes")
        self._choose_alert_types(rng)
        self._choose_flapping(rng)
        self._choose_maintenance(rng)
        # Storm roots: databases and queues with at least two dependents.
        self.storm_roots = [
            s
            for s in self.org.service_info
            if s.kind in STORM_ROOT_KINDS and len(s.dependents) >= 2
        ]
        self._plant_dirt(rng)
        self.zones = {z: ZoneInfo(z) for z in {t.home_zone for t in self.org.team_info}}
        self.user_zones = {
            z: ZoneInfo(z) for z in {u.time_zone or "UTC" for u in self.org.user_info}
        }

    # ------------------------------------------------------------------ set-up, in RNG order
    def _choose_alert_types(self, rng) -> None:
        self.makers: list[LabelMaker] = []
        self.service_rules: list[list[tuple[Rule, float, bool]]] = []
        for s in self.org.service_info:
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

    def _choose_flapping(self, rng) -> None:
        """About one service in six has an alert that flaps."""
        n = len(self.org.service_info)
        candidates = [s for s in self.org.service_info if s.kind not in STORM_ROOT_KINDS]
        self.flapping = []
        for s in rng.sample(candidates, max(1, round(n / 6))):
            rule = self.service_rules[s.index][rng.randrange(len(self.service_rules[s.index]))][0]
            labels = self.makers[s.index].labels(rule.labels, rng)
            key = hashlib.sha256(f"flap|{s.ref['id']}|{rule.template_id}".encode()).hexdigest()[:32]
            self.flapping.append((s, rule, labels, key))

    def _choose_maintenance(self, rng) -> None:
        """About one service in eight has a weekly window that pages for nothing."""
        n = len(self.org.service_info)
        self.maintenance = []
        for s in rng.sample(self.org.service_info, max(1, round(n / 8))):
            weekday = rng.choice((1, 2, 3, 6))
            hour = rng.choice((1, 2, 3, 4, 22))
            dur = rng.choice((60, 60, 90, 120))
            rule = self.service_rules[s.index][0][0]
            self.maintenance.append((s, weekday, hour, dur, rule))
            until = hour * 60 + dur
            self.truth.maintenance[s.ref["id"]] = {
                "service_id": s.ref["id"],
                "rule": f"weekly {WEEKDAY_NAMES[weekday]} {hour:02d}:00-"
                f"{until // 60 % 24:02d}:{until % 60:02d} UTC",
                "windows": [],
                "incident_ids": [],
            }

    def _plant_dirt(self, rng) -> None:
        """Two stale open majors and a few clock-skewed resolves."""
        days = (self.end - self.start) / DAY
        self.stale_major_times = []
        for age in (12.3, 9.6):
            if days > age + 1:
                self.stale_major_times.append(self.end - int(age * DAY))
        self.skew_times = sorted(
            self.start + int(rng.uniform(0.05, 0.95) * (self.end - self.start))
            for _ in range(max(2, round(days / 45)))
        )

    # ------------------------------------------------------------------ shared by the processes
    def hour_weights(self, c0: int, c1: int) -> dict[str, list[float]]:
        """Per home zone, the relative alert rate of every hour of [c0, c1)."""
        weights = {}
        for name, zone in self.zones.items():
            w = []
            t = c0 - c0 % 3600
            while t < c1:
                local = datetime.fromtimestamp(t, zone)
                w.append(season_weight(local.weekday(), local.hour))
                t += 3600
            weights[name] = w
        return weights

    def pick_rule(self, rng, s: ServiceInfo) -> tuple[Rule, bool]:
        """One of the service's alert types (Zipf-weighted) and whether it is noisy."""
        cum = self.cum_weights[s.index]
        x = rng.random() * cum[-1]
        for i, c in enumerate(cum):
            if x < c:
                rule, _w, noisy = self.service_rules[s.index][i]
                return rule, noisy
        rule, _w, noisy = self.service_rules[s.index][-1]
        return rule, noisy

    def new_alert(self, rng, s: ServiceInfo, t: int, rule: Rule) -> tuple:
        """A planned alert ``(t, rule, labels, alert_key)``."""
        labels = self.makers[s.index].labels(rule.labels, rng)
        key = f"{rng.getrandbits(128):032x}"
        return (t, rule, labels, key)

    def storm_rule(self, s: ServiceInfo) -> Rule:
        """The service's 'down' alert: the most severe rule of its pool (a database down)."""
        pool = [r for r, _w, _n in self.service_rules[s.index] if r.severity == "critical"]
        return (pool or [self.service_rules[s.index][0][0]])[0]
